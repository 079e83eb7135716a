import { DEFAULT_MIN_FREE_KIB, writeRefusals } from "../provider/device/apply";
import { emptyChangeSet, isEmpty, type ChangeSet } from "../provider/device/changeset";
import { classifyOffloadDrift, runtimeDrift, type Drift } from "../provider/device/drift";
import type { RouterFacts } from "../provider/device/facts";
import { modeWords, planOffload, requestedMode, runningMode, runtimeMismatches } from "../provider/device/offload";
import { offloadPreflight } from "../provider/device/preflight";
import { resultTime } from "../provider/guard/records";
import { intentFor, type Mode } from "../provider/fleet/policy";
import { declarationSource, decisionFor, type FleetCliOptions } from "./fleet-options";
import type { ScanFailureKind, ScanResult } from "./fleet-scan";

/**
 * Below this much free overlay a package install or even a uci commit can fail halfway: jffs2 needs
 * spare erase blocks for garbage collection long before df shows zero.
 */
export const FLASH_MARGIN_KIB = 256;

/** "refused": what `up` would refuse (the resources' own preflight); the others are what an audit warns about. */
export type ConflictKind = "refused" | "sqm" | "old-kernel" | "full-flash" | "config-runtime-mismatch" | ScanFailureKind;

export interface Conflict {
  kind: ConflictKind;
  detail: string;
}

/**
 * One router in `audit --json`. Every key is always present (null when the router could not be
 * read), so scripts can rely on the shape.
 */
/** The newest guard transaction on a router, as the report and both JSON outputs show it. */
export interface GuardSummary {
  txid: string;
  /** The change, as the router recorded it ("FirewallDefaults: hardware offload"). */
  description: string;
  /** "open": its window is still running (or its client vanished before it ended). */
  state: "open" | "confirmed" | "restored" | "rolled-back" | "completed" | "aborted";
  /** Why it was restored, completed or aborted: timeout, boot, verify-failed, apply-failed, stale. */
  reason: string | null;
  /** When it ended (ISO 8601); null while open. */
  at: string | null;
}

/** Flows in the kernel's conntrack table, and how many of them are offloaded. */
export interface FlowCounts {
  total: number;
  software: number;
  hardware: number;
}

export function guardSummary(facts: RouterFacts): GuardSummary | null {
  const record = facts.guardRecords[0];
  if (!record) return null;
  const [word, reason] = record.result.split(" ");
  const state: GuardSummary["state"] =
    record.pendingUntil !== undefined || record.result === ""
      ? "open"
      : word === "confirmed" && record.subject.startsWith("rollback ")
        ? "rolled-back"
        : (word as GuardSummary["state"]);
  return {
    txid: record.txid,
    description: record.description,
    state,
    reason: state === "restored" || state === "completed" || state === "aborted" ? (reason ?? null) : null,
    at: state === "open" ? null : resultTime(record.result) || null,
  };
}

export function flowCounts(facts: RouterFacts): FlowCounts {
  const { total, offloaded, hwOffloaded } = facts.offload.conntrack;
  return { total, software: offloaded, hardware: hwOffloaded };
}

export interface AuditRecord {
  name: string;
  host: string;
  port: number;
  labels: Record<string, string>;
  status: "ok" | ScanFailureKind;
  error: string | null;
  /** For the failures an operator meets first: what happened in a sentence, and the fix. */
  fix: string | null;
  model: string | null;
  release: string | null;
  target: string | null;
  kernel: string | null;
  firewall: "fw3" | "fw4" | null;
  packageManager: "opkg" | "apk" | null;
  capability: { hardware: boolean; reason: string } | null;
  configuredMode: Mode | null;
  runningMode: Mode | null;
  overlay: { availKiB: number; totalKiB: number } | null;
  conflicts: Conflict[];
  /** source: a mode set for the router in the inventory, or the policy's choice. */
  recommendation: { mode: Mode; reason: string; source: "inventory" | "policy"; change: boolean } | null;
  /** uci and the kernel against the recommendation, as `drift` without a stack export classifies them. */
  drift: Drift[];
  guard: GuardSummary | null;
  flows: FlowCounts | null;
}

export function configuredMode(facts: RouterFacts): Mode {
  const { config } = facts.offload;
  return requestedMode({ flowOffloading: config.flowOffloading, flowOffloadingHw: config.flowOffloading && config.flowOffloadingHw });
}

/**
 * What stands in the way, judged as `up` would judge it: the fleet's FirewallDefaults change for
 * the recommended mode goes through the resource's own preflight (refusals: what up refuses; its
 * warnings), plus what audits look for beyond one change (old kernel, flash margin, what the kernel
 * runs against uci).
 */
function conflictsOf(facts: RouterFacts, recommended: Mode, router: string): Conflict[] {
  const conflicts: Conflict[] = [];
  const intent = intentFor(recommended);
  // OffloadFleet gives its FirewallDefaults sqmPolicy "warn": the policy, not the resource, decides around SQM.
  const { refusals, warnings } = offloadPreflight(facts, intent, "warn");
  const change: ChangeSet = { ...emptyChangeSet(), uci: [{ pkg: "firewall", changes: planOffload(facts, intent) }], reloadFirewall: true };
  const writes = isEmpty(change) && runtimeMismatches(facts, intent).length === 0 ? [] : writeRefusals(router, facts, change, DEFAULT_MIN_FREE_KIB);
  for (const r of [...refusals, ...writes]) conflicts.push({ kind: "refused", detail: `up would refuse ${modeWords(recommended)}: ${r.message}` });
  for (const w of warnings) conflicts.push({ kind: w.startsWith("SQM") ? "sqm" : "old-kernel", detail: w });
  if (!facts.kernelSupported && !warnings.some((w) => w.startsWith("kernel"))) {
    conflicts.push({ kind: "old-kernel", detail: `kernel ${facts.kernel} is older than 5.4: flow offloading there is known to be unstable` });
  }
  if (facts.overlay && facts.overlay.availKiB < FLASH_MARGIN_KIB && !writes.some((r) => r.property === "minFreeKiB")) {
    conflicts.push({
      kind: "full-flash",
      detail: `${facts.overlay.availKiB} KiB free on ${facts.overlay.mount} (below the ${FLASH_MARGIN_KIB} KiB margin): package installs may fail`,
    });
  }
  const runtime = runtimeDrift(configuredMode(facts), runningMode(facts));
  if (runtime) conflicts.push({ kind: "config-runtime-mismatch", detail: `${runtime.class}: ${runtime.detail}` });
  return conflicts;
}

export function auditRecord(result: ScanResult, opts: Pick<FleetCliOptions, "policy" | "sqmPolicy">): AuditRecord {
  const { router } = result;
  const base = { name: router.name, host: router.host, port: router.port, labels: router.labels };
  if (result.failure) {
    const { kind, message, fix } = result.failure;
    return {
      ...base,
      status: kind,
      error: message,
      fix,
      model: null,
      release: null,
      target: null,
      kernel: null,
      firewall: null,
      packageManager: null,
      capability: null,
      configuredMode: null,
      runningMode: null,
      overlay: null,
      conflicts: [{ kind, detail: message }],
      recommendation: null,
      drift: [],
      guard: null,
      flows: null,
    };
  }
  const { facts } = result;
  const decision = decisionFor(router, facts, opts);
  const configured = configuredMode(facts);
  return {
    ...base,
    status: "ok",
    error: null,
    fix: null,
    model: facts.model,
    release: `${facts.release.distribution} ${facts.release.version}`,
    target: facts.target,
    kernel: facts.kernel,
    firewall: facts.firewall,
    packageManager: facts.packageManager,
    capability: { hardware: facts.hwOffloadCapable, reason: facts.hwOffloadReason },
    configuredMode: configured,
    runningMode: runningMode(facts),
    overlay: facts.overlay ? { availKiB: facts.overlay.availKiB, totalKiB: facts.overlay.totalKiB } : null,
    conflicts: conflictsOf(facts, decision.mode, `${router.host}:${router.port}`),
    recommendation: { ...decision, source: declarationSource(router), change: decision.mode !== configured },
    drift: classifyOffloadDrift(facts, intentFor(decision.mode), { managed: false }),
    guard: guardSummary(facts),
    flows: flowCounts(facts),
  };
}
