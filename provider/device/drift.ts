import { resultTime, type GuardRecord } from "../guard/records";
import type { RouterFacts } from "./facts";
import { modeWords, requestedMode, runningMode, type OffloadIntent, type RuntimeMode } from "./offload";

/**
 * DESIGN §6: why what the router does differs from what was declared, one class per cause.
 * - config (uci, files) differs: `local-edit` (someone edited it), `guard-restored` (the guard undid
 *   a change that was not confirmed: a crash, a lost link, a failed verification), `rolled-back` (an
 *   operator's `openwrt-offload rollback`), `not-applied` (nothing from this project changed it yet);
 * - the kernel differs from the config: `runtime-fallback` (fw4 fell back from hardware to software),
 *   `runtime-missing` (what the config declares is not live: deleted by hand, or the firewall is
 *   not loaded), `runtime-stale` (the kernel still runs another config: not reloaded since, or the
 *   reload failed), `runtime-mismatch` (live, but not as declared: changed by hand);
 * - `pending-changes` (someone staged uncommitted uci changes), `missing-package`, `firmware-changed`.
 */
export type DriftClass =
  | "local-edit"
  | "guard-restored"
  | "rolled-back"
  | "not-applied"
  | "runtime-fallback"
  | "runtime-missing"
  | "runtime-stale"
  | "runtime-mismatch"
  | "pending-changes"
  | "missing-package"
  | "firmware-changed";

export interface Drift {
  class: DriftClass;
  detail: string;
  /** The guard transaction behind it (guard-restored, rolled-back). */
  txid?: string;
}

/** What identifies the firmware: a change means someone flashed the router. */
export function firmwareIdentity(facts: RouterFacts): string {
  return `${facts.release.distribution} ${facts.release.version} ${facts.release.revision} (${facts.target}, kernel ${facts.kernel})`;
}

export function offloadPackageFor(facts: RouterFacts): string {
  return facts.firewall === "fw4" ? "kmod-nft-offload" : "kmod-ipt-offload";
}

const RESTORE_REASONS: Record<string, string> = {
  timeout: "its window ended without a confirmation (a lost link or a stopped client)",
  boot: "at boot: the router restarted during its window",
  "verify-failed": "it failed verification",
  "apply-failed": "applying it failed",
  stale: "its lock was broken after its deadline",
};

/**
 * The config of `subject` is not what was declared (`what` says how): the guard's records tell
 * whether the guard restored it, an operator rolled it back, or someone else edited it. A record
 * explains the config only if the router still holds what that record left (`holds`, in the words
 * records use: "software offload"); otherwise someone changed it since. `managed`: a resource
 * created or adopted it (else, with no record, nothing from this project applied it).
 */
export function configDrift(facts: RouterFacts, subject: string, what: string, { managed, holds }: { managed: boolean; holds: string }): Drift {
  const record = latestFor(facts.guardRecords, subject);
  if (record?.subject.startsWith("rollback ") && record.sets === holds) {
    return { class: "rolled-back", detail: `${what}: an operator's rollback put back ${record.restores || "an earlier state"} at ${resultTime(record.result)} (transaction ${record.txid})`, txid: record.txid };
  }
  if (record?.result.startsWith("restored") && record.restores === holds) {
    const reason = record.result.split(" ")[1];
    return {
      class: "guard-restored",
      detail: `${what}: the guard put back ${record.restores || "the previous state"} at ${resultTime(record.result)}: ${RESTORE_REASONS[reason] ?? reason} (transaction ${record.txid}: ${record.description})`,
      txid: record.txid,
    };
  }
  if (!record && !managed) return { class: "not-applied", detail: `${what}: nothing from this project has applied it to this router yet` };
  return { class: "local-edit", detail: `${what}: edited on the router (uci, LuCI or by hand)` };
}

/** The newest finished transaction about `subject` (a change to it, or a rollback of one); open and aborted ones changed nothing. */
function latestFor(records: GuardRecord[], subject: string): GuardRecord | undefined {
  return records.find((r) => (r.subject === subject || r.subject === `rollback ${subject}`) && /^(confirmed|restored|completed)/.test(r.result));
}

/** The kernel does not run what the config says. */
export function runtimeDrift(want: RuntimeMode, running: RuntimeMode): Drift | undefined {
  if (want === running) return undefined;
  if (want === "hardware" && running === "software") {
    return { class: "runtime-fallback", detail: "configured for hardware offload, but the kernel runs software offload (fw4 fell back: a device refused `flags offload`)" };
  }
  if (running === "off") return { class: "runtime-missing", detail: `configured for ${modeWords(want)}, but no flowtable with its forward rule is live (deleted by hand, or the firewall is not loaded)` };
  return { class: "runtime-stale", detail: `configured for ${modeWords(want)}, but the kernel still runs ${modeWords(running)} (the firewall was not reloaded since, or its reload failed)` };
}

export function stagedDrift(facts: RouterFacts, pkg: string): Drift | undefined {
  const staged = facts.stagedChanges[pkg] ?? [];
  if (staged.length === 0) return undefined;
  return { class: "pending-changes", detail: `${staged.length} uncommitted uci change(s) to ${pkg}, not live until someone commits them: ${staged.slice(0, 3).join("; ")}` };
}

/** The three layers compared: declared (intent), configured (committed uci) and running (kernel). */
export function classifyOffloadDrift(facts: RouterFacts, declared: OffloadIntent, { firmware, managed = true }: { firmware?: string; managed?: boolean } = {}): Drift[] {
  const drift: Drift[] = [];
  const { config } = facts.offload;
  const configured = requestedMode({ flowOffloading: config.flowOffloading, flowOffloadingHw: config.flowOffloading && config.flowOffloadingHw });
  const want = requestedMode(declared);
  if (configured !== want) drift.push(configDrift(facts, "firewallDefaults", `uci says ${modeWords(configured)}, ${modeWords(want)} was declared`, { managed, holds: modeWords(configured) }));
  const runtime = runtimeDrift(configured, runningMode(facts));
  if (runtime) drift.push(runtime);
  const staged = stagedDrift(facts, "firewall");
  if (staged) drift.push(staged);
  const pkg = offloadPackageFor(facts);
  if (want !== "off" && !facts.packagesError && !(pkg in facts.packages)) drift.push({ class: "missing-package", detail: `${pkg} is not installed` });
  if (firmware !== undefined && firmware !== firmwareIdentity(facts)) {
    drift.push({ class: "firmware-changed", detail: `was ${firmware}, now ${firmwareIdentity(facts)}` });
  }
  return drift;
}
