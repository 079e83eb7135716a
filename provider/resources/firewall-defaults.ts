import { firewallDefaultsSchema, type FirewallDefaultsInputs, type LastApply } from "../../sdk/schemas";
import { emptyChangeSet, isEmpty, type ChangeSet } from "../device/changeset";
import { classifyOffloadDrift, firmwareIdentity, type Drift } from "../device/drift";
import { FW4_FLOWTABLE, liveRuntime, readFacts, RUNTIME_SECTIONS, type RouterFacts } from "../device/facts";
import { configuredIntent, modeWords, planOffload, planRestore, requestedMode, runningMode, runtimeMismatches, type OffloadIntent, type RuntimeMode } from "../device/offload";
import { offloadPreflight, PreflightError } from "../device/preflight";
import type { UciOptionChange } from "../device/uci";
import { GuardError, type GuardedChange } from "../guard";
import { checkInputs, factsOf, jsonSafe, routerId, settingsDiff, shellFor, type RouterConnection } from "./common";
import { previewOnRouter, routerChangesPending, type Judgement } from "./preview";
import { GUARD_INPUT_DEFAULTS, write } from "./write";

/** fw4's reading of a boolean option (what the original values meant). */
const isOn = (v: string | undefined) => v !== undefined && ["1", "on", "true", "yes"].includes(v);

export interface FirewallDefaultsOutputs extends FirewallDefaultsInputs {
  /** What the program declared (flowOffloading/flowOffloadingHw hold what uci has after a refresh). */
  declared: OffloadIntent;
  /** Option values found when this resource adopted the defaults section; delete puts them back. */
  original: { flow_offloading?: string; flow_offloading_hw?: string };
  firmware: string;
  runtime: {
    mode: RuntimeMode;
    flowtable: { devices: string[]; hwOffload: boolean; counter: boolean } | null;
    offloadedFlows: number;
    hwOffloadedFlows: number;
  };
  drift: Drift[];
  warnings: string[];
  /** What an up would change on the router, as read at the last check (preview). */
  planned: string[];
  /** What the last create/update did (with onFailure "report", a refused or restored change lands here). */
  lastApply: LastApply;
}

const SETTINGS = ["flowOffloading", "flowOffloadingHw", "sqmPolicy", "minFreeKiB", "onFailure", "halted", "guard", "confirmTimeoutSeconds", "soakSeconds", "healthChecks"] as const;
const SUBJECT = "firewallDefaults";

function intentOf(inputs: FirewallDefaultsInputs): OffloadIntent {
  return { flowOffloading: inputs.flowOffloading, flowOffloadingHw: inputs.flowOffloading && inputs.flowOffloadingHw };
}

/** What bringing the router to `intent` takes, judged from its facts before anything is written. */
interface Plan extends Judgement {
  changes: ChangeSet;
  /** Nothing to write and the kernel already runs it. */
  noop: boolean;
}

function describeUci(pkg: string, changes: UciOptionChange[], current: (c: UciOptionChange) => string | undefined): string[] {
  const show = (v: string | undefined) => (v === undefined ? "(unset)" : JSON.stringify(v));
  return changes.map((c) => `${pkg}.${c.section}.${c.option}: ${show(current(c))} → ${show(c.value)}`);
}

/** `adopting`: the offload preflight applies (SQM, packages, hardware); releasing the section back (delete) needs none of it. */
function planFor(facts: RouterFacts, inputs: FirewallDefaultsInputs, uci: UciOptionChange[], intent: OffloadIntent, { adopting = true } = {}): Plan {
  const changes: ChangeSet = { ...emptyChangeSet(), uci: [{ pkg: "firewall", changes: uci }], reloadFirewall: true };
  const noop = isEmpty(changes) && runtimeMismatches(facts, intent).length === 0;
  const { refusals, warnings } = adopting ? offloadPreflight(facts, intent, inputs.sqmPolicy) : { refusals: [], warnings: [] };
  const raw = facts.offload.config.raw;
  const planned = noop
    ? []
    : [
        ...describeUci("firewall", uci, (c) => raw[c.option as keyof typeof raw]),
        `reload the firewall (the kernel runs ${modeWords(runningMode(facts))}; ${modeWords(requestedMode(intent))} is declared)`,
      ];
  return { changes, noop, refusals, warnings, planned, ...(noop ? {} : { write: { changes, minFreeKiB: inputs.minFreeKiB } }) };
}

function describe(
  facts: RouterFacts,
  inputs: FirewallDefaultsInputs,
  declared: OffloadIntent,
  original: FirewallDefaultsOutputs["original"],
  firmware: string,
  warnings: string[],
  lastApply: LastApply = { status: "unchanged", detail: "" },
): FirewallDefaultsOutputs {
  const { config, runtime, conntrack } = facts.offload;
  const ft = runtime.flowtables.find((f) => f.family === "inet" && f.table === "fw4" && f.name === FW4_FLOWTABLE);
  return jsonSafe({
    ...inputs,
    flowOffloading: config.flowOffloading,
    flowOffloadingHw: config.flowOffloading && config.flowOffloadingHw,
    declared,
    original,
    firmware,
    runtime: {
      mode: runningMode(facts),
      flowtable: ft ? { devices: ft.devices, hwOffload: ft.hwOffload, counter: ft.counter } : null,
      offloadedFlows: conntrack.offloaded,
      hwOffloadedFlows: conntrack.hwOffloaded,
    },
    drift: classifyOffloadDrift(facts, declared, { firmware }),
    warnings,
    planned: [],
    lastApply,
  });
}

/** Proof that the kernel runs `intent`, for the guard: what is checked, and how. */
function offloadChange(description: string, facts: RouterFacts, cs: ChangeSet, intent: OffloadIntent): GuardedChange {
  return {
    description,
    restores: modeWords(requestedMode(configuredIntent(facts))),
    subject: SUBJECT,
    sets: modeWords(requestedMode(intent)),
    changes: cs,
    reads: RUNTIME_SECTIONS,
    verify: (read) => runtimeMismatches(liveRuntime(read), intent),
    checks: [`the kernel runs ${modeWords(requestedMode(intent))} (flowtable, forward rule${intent.flowOffloadingHw ? ", flags offload" : ""})`],
  };
}

async function apply(inputs: FirewallDefaultsInputs, original?: FirewallDefaultsOutputs["original"]): Promise<FirewallDefaultsOutputs> {
  const { shell, facts } = await factsOf(inputs.connection);
  const intent = intentOf(inputs);
  const recorded = original ?? facts.offload.config.raw;
  const plan = planFor(facts, inputs, planOffload(facts, intent), intent);
  // Its fleet wave was halted: the router is only read, and says so.
  if (inputs.halted) return describe(facts, inputs, intent, recorded, firmwareIdentity(facts), plan.warnings, { status: "not-started", detail: inputs.halted });
  try {
    if (plan.refusals.length > 0) throw new PreflightError(shell.router, plan.refusals);
    // Nothing to write and the kernel already runs it: a no-op apply makes no writes.
    if (plan.noop) return describe(facts, inputs, intent, recorded, firmwareIdentity(facts), plan.warnings);
    await write(shell, facts, inputs, inputs.minFreeKiB, offloadChange(`FirewallDefaults: ${modeWords(requestedMode(intent))}`, facts, plan.changes, intent));
    // The outputs describe everything (drift, firmware, flows), more than the verification read.
    const after = await readFacts(shell);
    return describe(after, inputs, intent, recorded, firmwareIdentity(after), plan.warnings, { status: "confirmed", detail: "" });
  } catch (err) {
    if (inputs.onFailure !== "report") throw err;
    // Reported, not thrown: the router is as the guard left it (unchanged or restored), read back now.
    const status = err instanceof PreflightError ? "refused" : err instanceof GuardError && err.restored ? "restored" : "failed";
    const now = await readFacts(shell).catch(() => facts);
    return describe(now, inputs, intent, recorded, firmwareIdentity(now), plan.warnings, { status, detail: (err as Error).message });
  }
}

export const firewallDefaultsProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    const checked = checkInputs(firewallDefaultsSchema, news, { withConnection: true });
    if (checked.failures.length > 0) return checked;
    const inputs = checked.inputs as unknown as FirewallDefaultsInputs;
    const intent = intentOf(inputs);
    const preview = await previewOnRouter(inputs.connection, (facts) => planFor(facts, inputs, planOffload(facts, intent), intent));
    // onFailure "report" (a fleet's waves): a refusal is counted against the failure budget at up, not a failed preview.
    if (inputs.onFailure === "report") {
      const reported = preview.failures.map((f) => `up will refuse this change and report it (onFailure "report"): ${f.reason}`);
      return { inputs: { ...checked.inputs, warnings: [...preview.warnings, ...reported], planned: preview.planned, planId: preview.planId }, failures: [] };
    }
    return { inputs: { ...checked.inputs, warnings: preview.warnings, planned: preview.planned, planId: preview.planId }, failures: preview.failures };
  },

  async diff(_id: string, olds: FirewallDefaultsOutputs, news: FirewallDefaultsInputs & { planned?: string[]; planId?: string }) {
    // Router identity: the defaults section of another router is another resource; it is a
    // singleton there, so the old one is released (restored) before the new one is adopted.
    const diff = settingsDiff(olds, news, SETTINGS);
    return { ...diff, changes: diff.changes || routerChangesPending(olds, news) };
  },

  async create(inputs: FirewallDefaultsInputs) {
    return { id: `${routerId(inputs.connection)}/firewall/defaults`, outs: await apply(inputs) };
  },

  /** Also the path of `.get()`, where props hold only what the program passed. */
  async read(id: string, props: Partial<Omit<FirewallDefaultsOutputs, "connection">> & { connection: RouterConnection }) {
    const facts = await readFacts(shellFor(props.connection));
    // FirewallDefaults.get: nothing recorded yet, so what the router has now is adopted as declared and original.
    const { config } = facts.offload;
    const adopted = configuredIntent(facts);
    const declared = props.declared ?? adopted;
    const inputs: FirewallDefaultsInputs = { sqmPolicy: "refuse", minFreeKiB: 64, onFailure: "fail", halted: "", ...GUARD_INPUT_DEFAULTS, ...props, ...declared };
    return {
      id,
      props: describe(facts, inputs, declared, props.original ?? config.raw, props.firmware ?? firmwareIdentity(facts), props.warnings ?? [], props.lastApply),
    };
  },

  async update(_id: string, olds: FirewallDefaultsOutputs, news: FirewallDefaultsInputs) {
    return { outs: await apply(news, olds.original) };
  },

  /** Puts back the option values found at adoption (absent options are deleted again). */
  async delete(_id: string, props: FirewallDefaultsOutputs): Promise<void> {
    const { shell, facts } = await factsOf(props.connection);
    const original = { flowOffloading: isOn(props.original.flow_offloading), flowOffloadingHw: isOn(props.original.flow_offloading) && isOn(props.original.flow_offloading_hw) };
    const plan = planFor(facts, props, planRestore(facts, props.original), original, { adopting: false });
    if (plan.noop) return;
    if (plan.refusals.length > 0) throw new PreflightError(shell.router, plan.refusals);
    await write(shell, facts, props, props.minFreeKiB, offloadChange(`FirewallDefaults: back to the original options (${modeWords(requestedMode(original))})`, facts, plan.changes, original));
  },
};
