import { offloadPackageFor } from "./drift";
import type { RouterFacts } from "./facts";
import { requestedMode, type OffloadIntent } from "./offload";

export type SqmPolicy = "refuse" | "warn" | "ignore";

/** One reason to refuse a change before anything is written, tied to the input it is about ("" for the router as a whole). */
export interface Refusal {
  property: string;
  message: string;
}

export class PreflightError extends Error {
  readonly problems: string[];

  constructor(router: string, refusals: (Refusal | string)[]) {
    const problems = refusals.map((r) => (typeof r === "string" ? r : r.message));
    super(refusalMessage(router, problems));
    this.name = "PreflightError";
    this.problems = problems;
  }
}

/** How a refusal reads, at preview (a check failure) and at up (the error) alike. */
export function refusalMessage(router: string, problems: string[]): string {
  return `${router}: refusing to change anything: ${problems.join("; ")}`;
}

/**
 * What the facts say about an offload intent before anything is written: refusals stop the change,
 * warnings are reported with it.
 */
export function offloadPreflight(facts: RouterFacts, intent: OffloadIntent, sqmPolicy: SqmPolicy): { refusals: Refusal[]; warnings: string[] } {
  const refusals: Refusal[] = [];
  const warnings: string[] = [];
  const mode = requestedMode(intent);
  if (mode === "off") return { refusals, warnings };
  if (!facts.kernelSupported) {
    warnings.push(`kernel ${facts.kernel} is older than 5.4; flow offloading there is known to be unstable`);
  }
  const pkg = offloadPackageFor(facts);
  if (facts.packagesError) {
    refusals.push({ property: "flowOffloading", message: `could not read the installed packages to check for ${pkg} (${facts.packagesError}); run again in a moment` });
  } else if (!(pkg in facts.packages)) {
    refusals.push({
      property: "flowOffloading",
      message: `${pkg} is not installed (it provides the flow offload kernel modules): add an OffloadPackages resource with packages: ["${pkg}"] and make this one depend on it`,
    });
  }
  if (mode === "hardware" && !facts.hwOffloadCapable) {
    refusals.push({ property: "flowOffloadingHw", message: `hardware offload was requested but ${facts.hwOffloadReason}: set flowOffloadingHw: false (software offload still helps)` });
  }
  const shaped = facts.sqm.filter((q) => q.enabled && shapesOffloadedTraffic(facts, q.interface));
  for (const q of shaped) {
    const what = `SQM instance "${q.name}" shapes ${q.interface}`;
    if (mode === "hardware" && sqmPolicy === "refuse") {
      refusals.push({ property: "sqmPolicy", message: `${what}, and hardware-offloaded flows bypass its qdiscs: disable that SQM instance, use software offload, or set sqmPolicy: "warn"` });
    } else if (sqmPolicy !== "ignore") {
      warnings.push(`${what}; offloaded flows skip nftables-based marking${mode === "hardware" ? " and hardware offload bypasses its qdiscs" : ""}`);
    }
  }
  return { refusals, warnings };
}

/** An SQM interface is affected when it is a device (or network) of a firewall zone. */
function shapesOffloadedTraffic(facts: RouterFacts, iface: string): boolean {
  return facts.zones.some((z) => z.devices.includes(iface) || z.networks.includes(iface));
}
