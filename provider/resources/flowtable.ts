import { flowtableSchema, type FlowtableInputs } from "../../sdk/schemas";
import { emptyChangeSet, type ChangeSet } from "../device/changeset";
import type { Drift } from "../device/drift";
import { readFactsWith, type RouterFacts } from "../device/facts";
import type { LiveFlowtable } from "../device/parse/nft";
import { PreflightError } from "../device/preflight";
import type { GuardedChange } from "../guard";
import { shellCommand, shellQuote } from "../transport";
import { checkInputs, jsonSafe, routerId, routerIdentityChanged, settingsDiff, shellFor, type RouterConnection } from "./common";
import { GUARD_INPUT_DEFAULTS, write } from "./write";

/**
 * A flowtable persisted the way firewall4 wants extra nftables objects: an include file in
 * /etc/nftables.d (placed inside `table inet fw4 { }`), and the forward rule in fw4's chain-prepend
 * include for the forward chain, so every fw4 reload rebuilds both.
 */
export function flowtablePaths(name: string): { flowtable: string; rule: string } {
  return {
    flowtable: `/etc/nftables.d/60-offload-${name}.nft`,
    rule: `/usr/share/nftables.d/chain-pre/forward/60-offload-${name}.nft`,
  };
}

const quoted = (names: string[]) => `{ ${names.map((n) => `"${n}"`).join(", ")} }`;

export function renderFlowtable(inputs: FlowtableInputs): { flowtable: string; rule?: string } {
  const header = `# Managed by pulumi-openwrt-offload (Flowtable "${inputs.name}"); local edits show as drift.\n`;
  const flowtable =
    header +
    `flowtable ${inputs.name} {\n` +
    `\thook ingress priority ${inputs.priority};\n` +
    `\tdevices = ${quoted(inputs.devices)};\n` +
    (inputs.counter ? "\tcounter;\n" : "") +
    (inputs.hardware ? "\tflags offload;\n" : "") +
    "}\n";
  const sel = inputs.forwardRule;
  if (!sel) return { flowtable };
  const protocols = sel.protocols.length === 1 ? sel.protocols[0] : `{ ${sel.protocols.join(", ")} }`;
  const match = [
    `meta l4proto ${protocols}`,
    sel.inputInterfaces?.length ? `iifname ${quoted(sel.inputInterfaces)}` : "",
    sel.outputInterfaces?.length ? `oifname ${quoted(sel.outputInterfaces)}` : "",
  ].filter(Boolean);
  return { flowtable, rule: `${header}${match.join(" ")} flow offload @${inputs.name};\n` };
}

/** Flash kept free when writing the include files (they are tiny; the snapshot needs room too). */
const MIN_FREE_KIB = 64;

/** What the kernel holds of a flowtable now, in words: what a restore of a change to it puts back. */
function liveWords(facts: RouterFacts, name: string): string {
  const live = liveOf(facts, name);
  return live ? `flowtable ${name} on ${live.devices.join(", ")}${live.hwOffload ? " with flags offload" : ""}` : `no flowtable ${name}`;
}

function absentChange(description: string, facts: RouterFacts, changes: ChangeSet, name: string): GuardedChange {
  return {
    description,
    restores: liveWords(facts, name),
    changes,
    verify: (facts) => (liveOf(facts, name) ? [`flowtable ${name} is still in the kernel`] : []),
    checks: [`flowtable ${name} gone from the kernel`],
  };
}

export interface FlowtableOutputs extends FlowtableInputs {
  /** What the kernel runs for this flowtable (null when it is not loaded). */
  live: (LiveFlowtable & { forwardRule: boolean }) | null;
  /** The include files as this resource wrote them. */
  files: { flowtable: string; rule: string | null };
  drift: Drift[];
}

const SETTINGS = ["devices", "priority", "hardware", "counter", "forwardRule"] as const;

function extraSections(name: string): Record<string, string> {
  const paths = flowtablePaths(name);
  return { ftFile: `cat ${shellQuote(paths.flowtable)}`, ftRule: `cat ${shellQuote(paths.rule)}` };
}

function liveOf(facts: RouterFacts, name: string): FlowtableOutputs["live"] {
  const { flowtables, forwardTargets } = facts.offload.runtime;
  const live = flowtables.find((f) => f.family === "inet" && f.table === "fw4" && f.name === name);
  return live ? { ...live, forwardRule: forwardTargets.includes(name) } : null;
}

function verifyLive(router: string, inputs: FlowtableInputs, live: FlowtableOutputs["live"]): string[] {
  if (!live) return [`flowtable ${inputs.name} is not in the kernel after the firewall reload (nft rejected the ruleset?)`];
  const problems: string[] = [];
  if (JSON.stringify([...live.devices].sort()) !== JSON.stringify([...inputs.devices].sort())) {
    problems.push(`the kernel binds ${live.devices.join(", ")} instead of ${inputs.devices.join(", ")}`);
  }
  if (live.hwOffload !== inputs.hardware) problems.push(`flags offload is ${live.hwOffload ? "set" : "missing"} in the kernel`);
  if (live.counter !== inputs.counter) problems.push(`the counter is ${live.counter ? "on" : "off"} in the kernel`);
  if (Boolean(inputs.forwardRule) !== live.forwardRule) problems.push(`the forward rule is ${live.forwardRule ? "present" : "missing"}`);
  return problems.map((p) => `${router}: ${p}`);
}

function drift(inputs: FlowtableInputs, files: FlowtableOutputs["files"], fileNow: string, ruleNow: string | null, live: FlowtableOutputs["live"], facts: RouterFacts): Drift[] {
  const out: Drift[] = [];
  if (fileNow !== files.flowtable || ruleNow !== files.rule) out.push({ class: "local-edit", detail: "the include files were edited on the router" });
  const problems = verifyLive("", inputs, live);
  if (problems.length > 0) out.push({ class: "runtime-fallback", detail: problems.join("; ").replace(/^: /, "") });
  const staged = facts.stagedChanges.firewall ?? [];
  if (staged.length > 0) out.push({ class: "pending-changes", detail: `${staged.length} uncommitted uci change(s) to firewall` });
  if (!facts.packagesError && !("kmod-nft-offload" in facts.packages)) out.push({ class: "missing-package", detail: "kmod-nft-offload is not installed" });
  return out;
}

async function apply(inputs: FlowtableInputs, old?: FlowtableOutputs): Promise<FlowtableOutputs> {
  const shell = shellFor(inputs.connection);
  const { facts } = await readFactsWith(shell, {});
  const errors: string[] = [];
  if (facts.firewall !== "fw4") errors.push("Flowtable needs firewall4 (nftables); this router runs fw3 (iptables): use FirewallDefaults, which drives fw3's FLOWOFFLOAD target");
  if (facts.packagesError) errors.push(`could not read the installed packages (${facts.packagesError}); run again in a moment`);
  else if (!("kmod-nft-offload" in facts.packages)) errors.push('kmod-nft-offload is not installed: add an OffloadPackages resource with packages: ["kmod-nft-offload"]');
  const known = new Set(facts.devices.map((d) => d.name));
  const unknown = inputs.devices.filter((d) => !known.has(d));
  if (unknown.length > 0) errors.push(`no such device(s): ${unknown.join(", ")} (the router has ${[...known].join(", ")})`);
  const taken = facts.offload.runtime.flowtables
    .filter((f) => f.family === "inet" && f.table === "fw4" && f.name !== inputs.name)
    .flatMap((f) => f.devices.filter((d) => inputs.devices.includes(d)).map((d) => `${d} (in ${f.name})`));
  if (taken.length > 0) {
    errors.push(
      `a device can be in only one flowtable of a table, and ${taken.join(", ")} already is` +
        " (`ft` is firewall4's own, from FirewallDefaults flowOffloading): pick other devices or turn fw4's offloading off",
    );
  }
  if (inputs.hardware && !facts.hwOffloadCapable) errors.push(`hardware: true was requested but ${facts.hwOffloadReason}; set hardware: false`);
  if (errors.length > 0) throw new PreflightError(shell.router, errors);

  const paths = flowtablePaths(inputs.name);
  const rendered = renderFlowtable(inputs);
  const current = liveOf(facts, inputs.name);
  const cs: ChangeSet = {
    ...emptyChangeSet(),
    files: [
      { path: paths.flowtable, content: rendered.flowtable },
      { path: paths.rule, content: rendered.rule },
    ],
    // The kernel cannot switch a live flowtable to or from `flags offload` (fw4 deletes its own `ft`
    // for the same reason): in the same transaction, the forward chain lets go of it (forwarding
    // pauses; the chain's policy is drop) and it is deleted, then the reload builds both anew.
    beforeReload:
      current && current.hwOffload !== inputs.hardware
        ? [shellCommand(["nft", "flush", "chain", "inet", "fw4", "forward"]), shellCommand(["nft", "delete", "flowtable", "inet", "fw4", inputs.name])]
        : [],
    reloadFirewall: true,
  };
  if (old && old.name !== inputs.name) {
    const before = flowtablePaths(old.name);
    cs.files.push({ path: before.flowtable, content: undefined }, { path: before.rule, content: undefined });
  }
  const after = await write(shell, facts, inputs, MIN_FREE_KIB, {
    description: `Flowtable ${inputs.name}: ${inputs.devices.join(", ")}${inputs.hardware ? " with flags offload" : ""}`,
    restores: liveWords(facts, inputs.name),
    changes: cs,
    verify: (f) => verifyLive("", inputs, liveOf(f, inputs.name)).map((p) => p.replace(/^: /, "")),
    checks: [`flowtable ${inputs.name} live on ${inputs.devices.join(", ")}${inputs.hardware ? " with flags offload" : ""}${inputs.forwardRule ? " with its forward rule" : ""}`],
  });
  const live = liveOf(after, inputs.name);
  const files = { flowtable: rendered.flowtable, rule: rendered.rule ?? null };
  return jsonSafe({ ...inputs, live, files, drift: [] });
}

export const flowtableProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    return checkInputs(flowtableSchema, news, { withConnection: true });
  },

  async diff(_id: string, olds: FlowtableOutputs, news: FlowtableInputs) {
    if (!routerIdentityChanged(olds, news) && olds.name !== news.name) return { changes: true, replaces: ["name"], deleteBeforeReplace: true };
    return settingsDiff(olds, news, SETTINGS);
  },

  async create(inputs: FlowtableInputs) {
    return { id: `${routerId(inputs.connection)}/flowtable/${inputs.name}`, outs: await apply(inputs) };
  },

  /** Also the path of `.get()`, where props hold only what the program passed. */
  async read(id: string, props: Partial<Omit<FlowtableOutputs, "connection">> & { connection: RouterConnection }) {
    const shell = shellFor(props.connection as RouterConnection);
    const name = props.name ?? id.slice(id.lastIndexOf("/") + 1);
    const { facts, extra } = await readFactsWith(shell, extraSections(name));
    // Both files gone: someone removed the flowtable; the engine drops it from state and the next up recreates it.
    if (extra.ftFile.rc !== 0 && extra.ftRule.rc !== 0) return { id: "" };
    const fileNow = extra.ftFile.rc === 0 ? `${extra.ftFile.out}\n` : "";
    const ruleNow = extra.ftRule.rc === 0 ? `${extra.ftRule.out}\n` : null;
    const live = liveOf(facts, name);
    // Flowtable.get: adopt the files and the kernel's view as they are.
    const files = props.files ?? { flowtable: fileNow, rule: ruleNow };
    const inputs: FlowtableInputs = {
      ...GUARD_INPUT_DEFAULTS,
      priority: 0,
      counter: live?.counter ?? true,
      hardware: live?.hwOffload ?? false,
      devices: live?.devices ?? [],
      ...props,
      name,
    };
    return { id, props: jsonSafe({ ...inputs, live, files, drift: drift(inputs, files, fileNow, ruleNow, live, facts) }) };
  },

  async update(_id: string, olds: FlowtableOutputs, news: FlowtableInputs) {
    return { outs: await apply(news, olds) };
  },

  async delete(_id: string, props: FlowtableOutputs): Promise<void> {
    const shell = shellFor(props.connection as RouterConnection);
    const { facts } = await readFactsWith(shell, {});
    const paths = flowtablePaths(props.name);
    const cs: ChangeSet = {
      ...emptyChangeSet(),
      files: [
        { path: paths.rule, content: undefined },
        { path: paths.flowtable, content: undefined },
      ],
      reloadFirewall: true,
      // A reload flushes rules but keeps flowtables that are no longer declared; once unhooked it can go.
      afterReload: liveOf(facts, props.name) ? [shellCommand(["nft", "delete", "flowtable", "inet", "fw4", props.name])] : [],
    };
    await write(shell, facts, props, 0, absentChange(`Flowtable ${props.name}: remove`, facts, cs, props.name));
  },
};
