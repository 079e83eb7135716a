import { offloadPackageFor } from "../provider/device/drift";
import type { RouterFacts } from "../provider/device/facts";
import { requestedMode, runningMode } from "../provider/device/offload";
import type { FleetSqmPolicy, Mode } from "../provider/fleet/policy";
import { decisionFor, type FleetCliOptions } from "./fleet-options";
import type { ScanFailureKind, ScanResult } from "./fleet-scan";

/**
 * Below this much free overlay a package install or even a uci commit can fail halfway: jffs2 needs
 * spare erase blocks for garbage collection long before df shows zero.
 */
export const FLASH_MARGIN_KIB = 256;

export type ConflictKind = "sqm" | "missing-package" | "old-kernel" | "full-flash" | "foreign-staged-changes" | "config-runtime-mismatch" | ScanFailureKind;

export interface Conflict {
  kind: ConflictKind;
  detail: string;
}

/**
 * One router in `audit --json`. Every key is always present (null when the router could not be
 * read), so scripts can rely on the shape.
 */
export interface AuditRecord {
  name: string;
  host: string;
  port: number;
  labels: Record<string, string>;
  status: "ok" | ScanFailureKind;
  error: string | null;
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
  recommendation: { mode: Mode; reason: string; change: boolean } | null;
}

export function configuredMode(facts: RouterFacts): Mode {
  const { config } = facts.offload;
  return requestedMode({ flowOffloading: config.flowOffloading, flowOffloadingHw: config.flowOffloading && config.flowOffloadingHw });
}

function conflictsOf(facts: RouterFacts, recommended: Mode, sqmPolicy: FleetSqmPolicy): Conflict[] {
  const conflicts: Conflict[] = [];
  const configured = configuredMode(facts);
  const running = runningMode(facts);
  if (sqmPolicy !== "ignore") {
    for (const q of facts.sqm.filter((q) => q.enabled && facts.zones.some((z) => z.devices.includes(q.interface) || z.networks.includes(q.interface)))) {
      conflicts.push({
        kind: "sqm",
        detail: `SQM instance "${q.name}" shapes ${q.interface}: hardware-offloaded flows bypass its qdiscs, software-offloaded flows skip nftables marking`,
      });
    }
  }
  const pkg = offloadPackageFor(facts);
  if (!facts.packagesError && !(pkg in facts.packages) && (recommended !== "off" || configured !== "off")) {
    conflicts.push({ kind: "missing-package", detail: `${pkg} is not installed: the kernel cannot offload flows until it is (${facts.packageManager} install ${pkg})` });
  }
  if (!facts.kernelSupported) {
    conflicts.push({ kind: "old-kernel", detail: `kernel ${facts.kernel} is older than 5.4: flow offloading there is known to be unstable` });
  }
  if (facts.overlay && facts.overlay.availKiB < FLASH_MARGIN_KIB) {
    conflicts.push({
      kind: "full-flash",
      detail: `${facts.overlay.availKiB} KiB free on ${facts.overlay.mount} (below the ${FLASH_MARGIN_KIB} KiB margin): uci commits and package installs may fail`,
    });
  }
  const staged = Object.entries(facts.stagedChanges).filter(([, lines]) => lines.length > 0);
  if (staged.length > 0) {
    conflicts.push({
      kind: "foreign-staged-changes",
      detail: `uncommitted uci changes (${staged.map(([pkg, lines]) => `${pkg}: ${lines.length}`).join(", ")}) that any commit would sweep in: commit or revert them first`,
    });
  }
  if (configured !== running) {
    const fellBack = configured === "hardware" && running === "software";
    conflicts.push({ kind: "config-runtime-mismatch", detail: `uci says ${configured}, the kernel runs ${running}${fellBack ? " (fw4 fell back from hardware)" : ""}` });
  }
  return conflicts;
}

export function auditRecord(result: ScanResult, opts: Pick<FleetCliOptions, "policy" | "sqmPolicy">): AuditRecord {
  const { router } = result;
  const base = { name: router.name, host: router.host, port: router.port, labels: router.labels };
  if (result.failure) {
    const { kind, message } = result.failure;
    return {
      ...base,
      status: kind,
      error: message,
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
    };
  }
  const { facts } = result;
  const decision = decisionFor(router, facts, opts);
  const configured = configuredMode(facts);
  return {
    ...base,
    status: "ok",
    error: null,
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
    conflicts: conflictsOf(facts, decision.mode, opts.sqmPolicy),
    recommendation: { ...decision, change: decision.mode !== configured },
  };
}
