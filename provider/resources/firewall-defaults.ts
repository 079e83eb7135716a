import { firewallDefaultsSchema, type FirewallDefaultsInputs } from "../../sdk/schemas";
import { emptyChangeSet, isEmpty, type ChangeSet } from "../device/changeset";
import { classifyOffloadDrift, firmwareIdentity, type Drift } from "../device/drift";
import { readFacts, type RouterFacts } from "../device/facts";
import { configuredIntent, modeWords, planOffload, planRestore, requestedMode, runningMode, runtimeMismatches, type OffloadIntent, type RuntimeMode } from "../device/offload";
import { offloadPreflight, PreflightError } from "../device/preflight";
import { GuardError, type GuardedChange } from "../guard";
import { checkInputs, factsOf, jsonSafe, routerId, settingsDiff, shellFor, type RouterConnection } from "./common";
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
  /** What the last create/update did (with onFailure "report", a refused or restored change lands here). */
  lastApply: { status: "unchanged" | "confirmed" | "refused" | "restored" | "failed"; detail: string };
}

const SETTINGS = ["flowOffloading", "flowOffloadingHw", "sqmPolicy", "minFreeKiB", "onFailure", "guard", "confirmTimeoutSeconds", "soakSeconds", "healthChecks"] as const;

function intentOf(inputs: FirewallDefaultsInputs): OffloadIntent {
  return { flowOffloading: inputs.flowOffloading, flowOffloadingHw: inputs.flowOffloading && inputs.flowOffloadingHw };
}

function describe(
  facts: RouterFacts,
  inputs: FirewallDefaultsInputs,
  declared: OffloadIntent,
  original: FirewallDefaultsOutputs["original"],
  firmware: string,
  warnings: string[],
  lastApply: FirewallDefaultsOutputs["lastApply"] = { status: "unchanged", detail: "" },
): FirewallDefaultsOutputs {
  const { config, runtime, conntrack } = facts.offload;
  const ft = runtime.flowtables.find((f) => f.family === "inet" && f.table === "fw4" && f.name === "ft");
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
    drift: classifyOffloadDrift(facts, declared, firmware),
    warnings,
    lastApply,
  });
}

/** Proof that the kernel runs `intent`, for the guard: what is checked, and how. */
function offloadChange(description: string, facts: RouterFacts, cs: ChangeSet, intent: OffloadIntent): GuardedChange {
  return {
    description,
    restores: modeWords(requestedMode(configuredIntent(facts))),
    changes: cs,
    verify: (after) => runtimeMismatches(after, intent),
    checks: [`the kernel runs ${modeWords(requestedMode(intent))} (flowtable, forward rule${intent.flowOffloadingHw ? ", flags offload" : ""})`],
  };
}

async function apply(inputs: FirewallDefaultsInputs, original?: FirewallDefaultsOutputs["original"]): Promise<FirewallDefaultsOutputs> {
  const { shell, facts } = await factsOf(inputs.connection);
  const intent = intentOf(inputs);
  const recorded = original ?? facts.offload.config.raw;
  const { errors, warnings } = offloadPreflight(facts, intent, inputs.sqmPolicy);
  const cs: ChangeSet = { ...emptyChangeSet(), uci: [{ pkg: "firewall", changes: planOffload(facts, intent) }], reloadFirewall: true };
  try {
    if (errors.length > 0) throw new PreflightError(shell.router, errors);
    // Nothing to write and the kernel already runs it: a no-op apply makes no writes.
    if (isEmpty(cs) && runtimeMismatches(facts, intent).length === 0) return describe(facts, inputs, intent, recorded, firmwareIdentity(facts), warnings);
    const after = await write(shell, facts, inputs, inputs.minFreeKiB, offloadChange(`FirewallDefaults: ${modeWords(requestedMode(intent))}`, facts, cs, intent));
    return describe(after, inputs, intent, recorded, firmwareIdentity(after), warnings, { status: "confirmed", detail: "" });
  } catch (err) {
    if (inputs.onFailure !== "report") throw err;
    // Reported, not thrown: the router is as the guard left it (unchanged or restored); drift says so.
    const status = err instanceof PreflightError ? "refused" : err instanceof GuardError && err.restored ? "restored" : "failed";
    const now = await readFacts(shell).catch(() => facts);
    return describe(now, inputs, intent, recorded, firmwareIdentity(now), warnings, { status, detail: (err as Error).message });
  }
}

export const firewallDefaultsProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    return checkInputs(firewallDefaultsSchema, news, { withConnection: true });
  },

  async diff(_id: string, olds: FirewallDefaultsOutputs, news: FirewallDefaultsInputs) {
    // Router identity: the defaults section of another router is another resource; it is a
    // singleton there, so the old one is released (restored) before the new one is adopted.
    return settingsDiff(olds, news, SETTINGS);
  },

  async create(inputs: FirewallDefaultsInputs) {
    return { id: `${routerId(inputs.connection)}/firewall/defaults`, outs: await apply(inputs) };
  },

  /** Also the path of `.get()`, where props hold only what the program passed. */
  async read(id: string, props: Partial<Omit<FirewallDefaultsOutputs, "connection">> & { connection: RouterConnection }) {
    const facts = await readFacts(shellFor(props.connection));
    // FirewallDefaults.get: nothing recorded yet, so what the router has now is adopted as declared and original.
    const { config } = facts.offload;
    const adopted = { flowOffloading: config.flowOffloading, flowOffloadingHw: config.flowOffloading && config.flowOffloadingHw };
    const declared = props.declared ?? adopted;
    const inputs: FirewallDefaultsInputs = { sqmPolicy: "refuse", minFreeKiB: 64, onFailure: "fail", ...GUARD_INPUT_DEFAULTS, ...props, ...declared };
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
    const cs: ChangeSet = { ...emptyChangeSet(), uci: [{ pkg: "firewall", changes: planRestore(facts, props.original) }], reloadFirewall: true };
    if (isEmpty(cs)) return;
    const original = { flowOffloading: isOn(props.original.flow_offloading), flowOffloadingHw: isOn(props.original.flow_offloading) && isOn(props.original.flow_offloading_hw) };
    await write(shell, facts, props, props.minFreeKiB, offloadChange(`FirewallDefaults: back to the original options (${modeWords(requestedMode(original))})`, facts, cs, original));
  },
};
