import type { OffloadState, RouterFacts } from "./facts";
import type { UciOptionChange } from "./uci";

/** What an operator asks of the firewall defaults. */
export interface OffloadIntent {
  flowOffloading: boolean;
  flowOffloadingHw: boolean;
}

export const DEFAULTS_SECTION = "@defaults[0]";

/**
 * The uci writes that bring `facts` to `intent`, and nothing else: an option whose current value
 * already means the intended thing (fw4 reads `on`/`yes` as true, an absent option as false) is left
 * as it is. Values written are always `0`/`1`, the only ones both fw3 and fw4 read the same way.
 */
export function planOffload(facts: RouterFacts, intent: OffloadIntent): UciOptionChange[] {
  const { config } = facts.offload;
  const changes: UciOptionChange[] = [];
  const want = (option: "flow_offloading" | "flow_offloading_hw", on: boolean, current: boolean, raw: string | undefined) => {
    if (on === current) return;
    if (!on && raw === undefined) return;
    changes.push({ section: DEFAULTS_SECTION, option, value: on ? "1" : "0" });
  };
  want("flow_offloading", intent.flowOffloading, config.flowOffloading, config.raw.flow_offloading);
  // Hardware offload only has an effect with software offload on; an off intent for both leaves hw alone unless set.
  want("flow_offloading_hw", intent.flowOffloadingHw, config.flowOffloadingHw, config.raw.flow_offloading_hw);
  return changes;
}

/** Writes that put back exactly the recorded raw values (absent options are deleted again). */
export function planRestore(facts: RouterFacts, original: { flow_offloading?: string; flow_offloading_hw?: string }): UciOptionChange[] {
  const { raw } = facts.offload.config;
  return (["flow_offloading", "flow_offloading_hw"] as const)
    .filter((option) => raw[option] !== original[option])
    .map((option) => ({ section: DEFAULTS_SECTION, option, value: original[option] }));
}

export type RuntimeMode = "off" | "software" | "hardware";

/** What the kernel runs: from all the facts, or from a verification's lean read (liveRuntime). */
export interface LiveOffload {
  firewall: "fw3" | "fw4";
  offload: { runtime: OffloadState["runtime"] };
}

/** What the kernel runs, whatever the config says. */
export function runningMode(facts: LiveOffload): RuntimeMode {
  const { runtime } = facts.offload;
  if (!runtime.offloadRule) return "off";
  return runtime.hardware ? "hardware" : "software";
}

export function requestedMode(intent: OffloadIntent): RuntimeMode {
  if (!intent.flowOffloading) return "off";
  return intent.flowOffloadingHw ? "hardware" : "software";
}

/** A mode in words: "hardware offload", "software offload", "offload off". */
export function modeWords(mode: RuntimeMode): string {
  return mode === "off" ? "offload off" : `${mode} offload`;
}

/** What uci has committed, as an intent. */
export function configuredIntent(facts: RouterFacts): OffloadIntent {
  const { config } = facts.offload;
  return { flowOffloading: config.flowOffloading, flowOffloadingHw: config.flowOffloading && config.flowOffloadingHw };
}

/**
 * Checks of the live kernel state against the intent; each failed check is one sentence. fw4 falls
 * back to software silently when the kernel refuses `flags offload`, so "hardware" is only
 * satisfied by what nft (or iptables' `--hw`) shows, never by the config.
 */
export function runtimeMismatches(facts: LiveOffload, intent: OffloadIntent): string[] {
  const want = requestedMode(intent);
  const have = runningMode(facts);
  if (want === have) return [];
  const { runtime } = facts.offload;
  if (!runtime.firewallRunning) return [`the firewall is not running (no ${facts.firewall === "fw4" ? "inet fw4 table" : "fw3 rules"})`];
  if (want === "hardware" && have === "software") {
    return ["hardware offload was requested but the kernel runs software offload (fw4 fell back: `flags offload` was refused)"];
  }
  if (want === "off") return [`offload was requested off but the kernel still offloads (${have})`];
  return [`${want} offload was requested but no flowtable with a forward offload rule is live`];
}
