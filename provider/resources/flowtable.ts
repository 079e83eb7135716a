import { flowtableSchema, type FlowtableInputs } from "../../sdk/schemas";
import { emptyChangeSet, type ChangeSet } from "../device/changeset";
import { configDrift, stagedDrift, type Drift } from "../device/drift";
import { FW4_FLOWTABLE, liveRuntime, readFacts, RUNTIME_SECTIONS, type RouterFacts } from "../device/facts";
import type { LiveOffload } from "../device/offload";
import type { LiveFlowtable } from "../device/parse/nft";
import { PreflightError, type Refusal } from "../device/preflight";
import type { RouterShell } from "../device/shell";
import { shellCommand } from "../transport";
import { checkInputs, jsonSafe, RECENT_READ_MS, routerId, routerIdentityChanged, settingsDiff, shellFor, type RouterConnection } from "./common";
import { previewOnRouter, routerChangesPending, type Judgement } from "./preview";
import { GUARD_INPUT_DEFAULTS, write } from "./write";

/**
 * A flowtable persisted the way firewall4 wants extra nftables objects: an include file in
 * /etc/nftables.d (placed inside `table inet fw4 { }`), and the forward rule in fw4's chain-prepend
 * include for the forward chain, so every fw4 reload rebuilds both. Both are among the facts
 * probe's MANAGED_FILES.
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

export interface FlowtableOutputs extends FlowtableInputs {
  /** What the kernel runs for this flowtable (null when it is not loaded). */
  live: (LiveFlowtable & { forwardRule: boolean }) | null;
  /** The include files as this resource wrote them. */
  files: { flowtable: string; rule: string | null };
  drift: Drift[];
  warnings: string[];
  /** What an up would change on the router, as read at the last check (preview). */
  planned: string[];
}

const SETTINGS = ["devices", "priority", "hardware", "counter", "forwardRule"] as const;

const subjectOf = (name: string) => `flowtable:${name}`;

/** The include files as the router has them (undefined: absent). */
type OnRouter = { flowtable: string | undefined; rule: string | undefined };

/** `recent`: see RouterShell.read (a refresh takes only a probe still running). */
async function read(shell: RouterShell, name: string, recent: number): Promise<{ facts: RouterFacts; onRouter: OnRouter }> {
  const facts = await readFacts(shell, { recent });
  return { facts, onRouter: onRouterOf(facts, name) };
}

function onRouterOf(facts: RouterFacts, name: string): OnRouter {
  const paths = flowtablePaths(name);
  return { flowtable: facts.files[paths.flowtable], rule: facts.files[paths.rule] };
}

function liveOf(facts: LiveOffload, name: string): FlowtableOutputs["live"] {
  const { flowtables, forwardTargets } = facts.offload.runtime;
  const live = flowtables.find((f) => f.family === "inet" && f.table === "fw4" && f.name === name);
  return live ? { ...live, forwardRule: forwardTargets.includes(name) } : null;
}

const words = (name: string, devices: string[], hardware: boolean) => `flowtable ${name} on ${devices.join(", ")}${hardware ? " with flags offload" : ""}`;

/** What the kernel holds of a flowtable now, in words: what a restore of a change to it puts back. */
function liveWords(facts: LiveOffload, name: string): string {
  const live = liveOf(facts, name);
  return live ? words(name, live.devices, live.hwOffload) : `no flowtable ${name}`;
}

const declaredWords = (inputs: FlowtableInputs) => words(inputs.name, inputs.devices, inputs.hardware);

/** How the live flowtable differs from the inputs, each difference with the drift class of its cause. */
function liveDifferences(inputs: FlowtableInputs, live: FlowtableOutputs["live"]): Drift[] {
  if (!live) return [{ class: "runtime-missing", detail: `flowtable ${inputs.name} is not in the kernel (deleted by hand, or nft rejected the ruleset)` }];
  const out: Drift[] = [];
  if (inputs.hardware && !live.hwOffload) out.push({ class: "runtime-fallback", detail: "flags offload is missing in the kernel: the devices refused hardware offload" });
  const mismatch = (detail: string) => out.push({ class: "runtime-mismatch", detail });
  if (!inputs.hardware && live.hwOffload) mismatch("flags offload is set in the kernel");
  if (JSON.stringify([...live.devices].sort()) !== JSON.stringify([...inputs.devices].sort())) mismatch(`the kernel binds ${live.devices.join(", ")} instead of ${inputs.devices.join(", ")}`);
  if (live.counter !== inputs.counter) mismatch(`the counter is ${live.counter ? "on" : "off"} in the kernel`);
  if (Boolean(inputs.forwardRule) !== live.forwardRule) mismatch(`the forward rule is ${live.forwardRule ? "present" : "missing"}`);
  return out;
}

interface Plan extends Judgement {
  changes: ChangeSet;
  noop: boolean;
}

/** What bringing the router to `inputs` takes (and whether the router allows it), from its facts and files. */
function planFor(facts: RouterFacts, onRouter: OnRouter, inputs: FlowtableInputs, old?: FlowtableOutputs): Plan {
  const refusals: Refusal[] = [];
  if (facts.firewall !== "fw4") {
    refusals.push({ property: "connection", message: "Flowtable needs firewall4 (nftables); this router runs fw3 (iptables): use FirewallDefaults, which drives fw3's FLOWOFFLOAD target" });
  }
  if (facts.packagesError) refusals.push({ property: "", message: `could not read the installed packages (${facts.packagesError}); run again in a moment` });
  else if (!("kmod-nft-offload" in facts.packages)) {
    refusals.push({ property: "", message: 'kmod-nft-offload is not installed: add an OffloadPackages resource with packages: ["kmod-nft-offload"]' });
  }
  const known = new Set(facts.devices.map((d) => d.name));
  const unknown = inputs.devices.filter((d) => !known.has(d));
  if (unknown.length > 0) refusals.push({ property: "devices", message: `no such device(s): ${unknown.join(", ")} (the router has ${[...known].join(", ")})` });
  const others = facts.offload.runtime.flowtables.filter((f) => f.family === "inet" && f.table === "fw4" && f.name !== inputs.name);
  // With flow_offloading on, the reload creates fw4's own `ft` over the zones' devices, live yet or not.
  if (facts.firewall === "fw4" && facts.offload.config.flowOffloading && !others.some((f) => f.name === FW4_FLOWTABLE)) {
    others.push({ family: "inet", table: "fw4", name: FW4_FLOWTABLE, devices: facts.zones.flatMap((z) => z.devices), hwOffload: false, counter: false });
  }
  const taken = others.flatMap((f) => f.devices.filter((d) => inputs.devices.includes(d)).map((d) => `${d} (in ${f.name})`));
  if (taken.length > 0) {
    refusals.push({
      property: "devices",
      message:
        `a device can be in only one flowtable of a table, and ${taken.join(", ")} already is` +
        ` (\`${FW4_FLOWTABLE}\` is firewall4's own, from FirewallDefaults flowOffloading): pick other devices or turn fw4's offloading off`,
    });
  }
  if (inputs.hardware && !facts.hwOffloadCapable) refusals.push({ property: "hardware", message: `hardware: true was requested but ${facts.hwOffloadReason}; set hardware: false` });

  const paths = flowtablePaths(inputs.name);
  const rendered = renderFlowtable(inputs);
  const current = liveOf(facts, inputs.name);
  const changes: ChangeSet = {
    ...emptyChangeSet(),
    files: [
      ...(onRouter.flowtable !== rendered.flowtable ? [{ path: paths.flowtable, content: rendered.flowtable }] : []),
      ...(onRouter.rule !== rendered.rule ? [{ path: paths.rule, content: rendered.rule }] : []),
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
    changes.files.push({ path: before.flowtable, content: undefined }, { path: before.rule, content: undefined });
  }
  const noop = changes.files.length === 0 && liveDifferences(inputs, current).length === 0;
  const planned = noop
    ? []
    : [
        ...changes.files.map((f) => `${f.content === undefined ? "remove" : "write"} ${f.path}`),
        ...(changes.beforeReload.length > 0 ? [`unhook and delete flowtable ${inputs.name} (its flags change)`] : []),
        `reload the firewall (the kernel has ${liveWords(facts, inputs.name)})`,
      ];
  return { changes, noop, refusals, warnings: [], planned, ...(noop ? {} : { write: { changes, minFreeKiB: MIN_FREE_KIB } }) };
}

async function apply(inputs: FlowtableInputs, old?: FlowtableOutputs): Promise<FlowtableOutputs> {
  const shell = shellFor(inputs.connection);
  const { facts, onRouter } = await read(shell, inputs.name, RECENT_READ_MS);
  const plan = planFor(facts, onRouter, inputs, old);
  if (plan.refusals.length > 0) throw new PreflightError(shell.router, plan.refusals);
  const rendered = renderFlowtable(inputs);
  const files = { flowtable: rendered.flowtable, rule: rendered.rule ?? null };
  // Files as written and the kernel as declared: a no-op apply makes no writes.
  if (plan.noop) return jsonSafe({ ...inputs, live: liveOf(facts, inputs.name), files, drift: [], warnings: [], planned: [] });
  const after = await write(shell, facts, inputs, MIN_FREE_KIB, {
    description: `Flowtable ${inputs.name}: ${inputs.devices.join(", ")}${inputs.hardware ? " with flags offload" : ""}`,
    restores: liveWords(facts, inputs.name),
    subject: subjectOf(inputs.name),
    sets: declaredWords(inputs),
    changes: plan.changes,
    reads: RUNTIME_SECTIONS,
    verify: (read) => liveDifferences(inputs, liveOf(liveRuntime(read), inputs.name)).map((d) => d.detail),
    checks: [`flowtable ${inputs.name} live on ${inputs.devices.join(", ")}${inputs.hardware ? " with flags offload" : ""}${inputs.forwardRule ? " with its forward rule" : ""}`],
  });
  return jsonSafe({ ...inputs, live: liveOf(liveRuntime(after), inputs.name), files, drift: [], warnings: [], planned: [] });
}

export const flowtableProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    const checked = checkInputs(flowtableSchema, news, { withConnection: true });
    if (checked.failures.length > 0) return checked;
    const inputs = checked.inputs as unknown as FlowtableInputs;
    const preview = await previewOnRouter(inputs.connection, (facts) => planFor(facts, onRouterOf(facts, inputs.name), inputs));
    return { inputs: { ...checked.inputs, warnings: preview.warnings, planned: preview.planned, planId: preview.planId }, failures: preview.failures };
  },

  async diff(_id: string, olds: FlowtableOutputs, news: FlowtableInputs & { planned?: string[]; planId?: string }) {
    if (!routerIdentityChanged(olds, news) && olds.name !== news.name) return { changes: true, replaces: ["name"], deleteBeforeReplace: true };
    const diff = settingsDiff(olds, news, SETTINGS);
    return { ...diff, changes: diff.changes || routerChangesPending(olds, news) };
  },

  async create(inputs: FlowtableInputs) {
    return { id: `${routerId(inputs.connection)}/flowtable/${inputs.name}`, outs: await apply(inputs) };
  },

  /** Also the path of `.get()`, where props hold only what the program passed. */
  async read(id: string, props: Partial<Omit<FlowtableOutputs, "connection">> & { connection: RouterConnection }) {
    const name = props.name ?? id.slice(id.lastIndexOf("/") + 1);
    const { facts, onRouter } = await read(shellFor(props.connection as RouterConnection), name, 0);
    // Both files gone: someone removed the flowtable; the engine drops it from state and the next up recreates it.
    if (onRouter.flowtable === undefined && onRouter.rule === undefined) return { id: "" };
    const live = liveOf(facts, name);
    // Flowtable.get: adopt the files and the kernel's view as they are.
    const files = props.files ?? { flowtable: onRouter.flowtable ?? "", rule: onRouter.rule ?? null };
    const inputs: FlowtableInputs = {
      ...GUARD_INPUT_DEFAULTS,
      priority: 0,
      counter: live?.counter ?? true,
      hardware: live?.hwOffload ?? false,
      devices: live?.devices ?? [],
      ...props,
      name,
    };
    const drift: Drift[] = [];
    const filesEdited = (onRouter.flowtable ?? "") !== files.flowtable || (onRouter.rule ?? null) !== files.rule;
    if (filesEdited) drift.push(configDrift(facts, subjectOf(name), "the include files differ from what this resource wrote", { managed: true, holds: liveWords(facts, name) }));
    // With the files as declared, what the kernel runs is checked against them.
    else drift.push(...liveDifferences(inputs, live));
    const staged = stagedDrift(facts, "firewall");
    if (staged) drift.push(staged);
    if (!facts.packagesError && !("kmod-nft-offload" in facts.packages)) drift.push({ class: "missing-package", detail: "kmod-nft-offload is not installed" });
    return { id, props: jsonSafe({ ...inputs, live, files, drift, warnings: props.warnings ?? [], planned: [] }) };
  },

  async update(_id: string, olds: FlowtableOutputs, news: FlowtableInputs) {
    return { outs: await apply(news, olds) };
  },

  async delete(_id: string, props: FlowtableOutputs): Promise<void> {
    const shell = shellFor(props.connection as RouterConnection);
    const { facts, onRouter } = await read(shell, props.name, RECENT_READ_MS);
    const paths = flowtablePaths(props.name);
    const live = liveOf(facts, props.name);
    if (onRouter.flowtable === undefined && onRouter.rule === undefined && !live) return;
    const cs: ChangeSet = {
      ...emptyChangeSet(),
      files: [
        { path: paths.rule, content: undefined },
        { path: paths.flowtable, content: undefined },
      ],
      reloadFirewall: true,
      // A reload flushes rules but keeps flowtables that are no longer declared; once unhooked it can go.
      afterReload: live ? [shellCommand(["nft", "delete", "flowtable", "inet", "fw4", props.name])] : [],
    };
    await write(shell, facts, props, 0, {
      description: `Flowtable ${props.name}: remove`,
      restores: liveWords(facts, props.name),
      subject: subjectOf(props.name),
      sets: `no flowtable ${props.name}`,
      changes: cs,
      reads: RUNTIME_SECTIONS,
      verify: (read) => (liveOf(liveRuntime(read), props.name) ? [`flowtable ${props.name} is still in the kernel`] : []),
      checks: [`flowtable ${props.name} gone from the kernel`],
    });
  },
};
