import { offloadPackageFor } from "./drift";
import type { RouterFacts } from "./facts";
import { requestedMode, type OffloadIntent } from "./offload";

export type SqmPolicy = "refuse" | "warn" | "ignore";

export class PreflightError extends Error {
  constructor(
    router: string,
    readonly problems: string[],
  ) {
    super(`${router}: refusing to change anything: ${problems.join("; ")}`);
    this.name = "PreflightError";
  }
}

/**
 * What the facts say about an offload intent before anything is written: errors stop the change,
 * warnings are reported with it.
 */
export function offloadPreflight(facts: RouterFacts, intent: OffloadIntent, sqmPolicy: SqmPolicy): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const mode = requestedMode(intent);
  if (mode === "off") return { errors, warnings };
  if (!facts.kernelSupported) {
    warnings.push(`kernel ${facts.kernel} is older than 5.4; flow offloading there is known to be unstable`);
  }
  const pkg = offloadPackageFor(facts);
  if (facts.packagesError) {
    errors.push(`could not read the installed packages to check for ${pkg} (${facts.packagesError}); run again in a moment`);
  } else if (!(pkg in facts.packages)) {
    errors.push(`${pkg} is not installed (it provides the flow offload kernel modules): add an OffloadPackages resource with packages: ["${pkg}"] and make this one depend on it`);
  }
  if (mode === "hardware" && !facts.hwOffloadCapable) {
    errors.push(`hardware offload was requested but ${facts.hwOffloadReason}: set flowOffloadingHw: false (software offload still helps)`);
  }
  const shaped = facts.sqm.filter((q) => q.enabled && shapesOffloadedTraffic(facts, q.interface));
  for (const q of shaped) {
    const what = `SQM instance "${q.name}" shapes ${q.interface}`;
    if (mode === "hardware" && sqmPolicy === "refuse") {
      errors.push(`${what}, and hardware-offloaded flows bypass its qdiscs: disable that SQM instance, use software offload, or set sqmPolicy: "warn"`);
    } else if (sqmPolicy !== "ignore") {
      warnings.push(`${what}; offloaded flows skip nftables-based marking${mode === "hardware" ? " and hardware offload bypasses its qdiscs" : ""}`);
    }
  }
  return { errors, warnings };
}

/** An SQM interface is affected when it is a device (or network) of a firewall zone. */
function shapesOffloadedTraffic(facts: RouterFacts, iface: string): boolean {
  return facts.zones.some((z) => z.devices.includes(iface) || z.networks.includes(iface));
}
