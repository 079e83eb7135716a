import type { RouterFacts } from "./facts";
import { requestedMode, runningMode, type OffloadIntent } from "./offload";

/** DESIGN §6: why what the router does differs from what was declared. */
export type DriftClass = "local-edit" | "runtime-fallback" | "pending-changes" | "missing-package" | "firmware-changed";

export interface Drift {
  class: DriftClass;
  detail: string;
}

/** What identifies the firmware: a change means someone flashed the router. */
export function firmwareIdentity(facts: RouterFacts): string {
  return `${facts.release.distribution} ${facts.release.version} ${facts.release.revision} (${facts.target}, kernel ${facts.kernel})`;
}

export function offloadPackageFor(facts: RouterFacts): string {
  return facts.firewall === "fw4" ? "kmod-nft-offload" : "kmod-ipt-offload";
}

/** The three layers compared: declared (intent), configured (uci) and running (kernel). */
export function classifyOffloadDrift(facts: RouterFacts, declared: OffloadIntent, firmware?: string): Drift[] {
  const drift: Drift[] = [];
  const { config } = facts.offload;
  const configured: OffloadIntent = { flowOffloading: config.flowOffloading, flowOffloadingHw: config.flowOffloading && config.flowOffloadingHw };
  const want = requestedMode(declared);
  if (requestedMode(configured) !== want) {
    drift.push({ class: "local-edit", detail: `uci says ${requestedMode(configured)} offload, ${want} was declared` });
  } else if (runningMode(facts) !== want) {
    const detail =
      want === "hardware" && runningMode(facts) === "software"
        ? "configured for hardware offload, but the kernel runs software offload (fw4 fell back)"
        : `configured for ${want} offload, but the kernel runs ${runningMode(facts)}`;
    drift.push({ class: "runtime-fallback", detail });
  }
  const staged = facts.stagedChanges.firewall ?? [];
  if (staged.length > 0) drift.push({ class: "pending-changes", detail: `${staged.length} uncommitted uci change(s) to firewall: ${staged.slice(0, 3).join("; ")}` });
  const pkg = offloadPackageFor(facts);
  if (want !== "off" && !facts.packagesError && !(pkg in facts.packages)) drift.push({ class: "missing-package", detail: `${pkg} is not installed` });
  if (firmware !== undefined && firmware !== firmwareIdentity(facts)) {
    drift.push({ class: "firmware-changed", detail: `was ${firmware}, now ${firmwareIdentity(facts)}` });
  }
  return drift;
}
