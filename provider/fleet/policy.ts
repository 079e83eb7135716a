/** The offload mode a router should run, decided from its facts (DESIGN §1: "policy"). */
export type Mode = "hardware" | "software" | "off";

/** What a fleet does where an enabled SQM instance shapes a firewall zone's interface. */
export type FleetSqmPolicy = "software" | "off" | "ignore";

/** The facts a policy looks at: a Router's outputs plus the inventory's labels. */
export interface PolicyFacts {
  name: string;
  labels: Record<string, string>;
  target: string;
  firewall: "fw3" | "fw4";
  kernel: string;
  kernelSupported: boolean;
  hwOffloadCapable: boolean;
  sqm: { name: string; enabled: boolean; interface: string }[];
  zones: { name: string; networks: string[]; devices: string[] }[];
}

export type Policy = "auto" | "software" | "off" | ((facts: PolicyFacts) => Mode);

export interface Decision {
  mode: Mode;
  reason: string;
}

/**
 * "auto": hardware where the target has a flow engine, software elsewhere; where SQM shapes an
 * interface that offloaded flows leave through, hardware would bypass its qdiscs, so the router gets
 * software offload (default) or none (`sqmPolicy: "off"`). A per-router `mode` in the inventory wins.
 */
export function decideMode(policy: Policy, facts: PolicyFacts, override?: Mode | "auto", sqmPolicy: FleetSqmPolicy = "software"): Decision {
  if (override && override !== "auto") return { mode: override, reason: "set for this router in the inventory" };
  if (typeof policy === "function") return { mode: policy(facts), reason: "the fleet's policy function" };
  if (policy !== "auto") return { mode: policy, reason: `policy "${policy}"` };
  const shaped = sqmPolicy === "ignore" ? [] : facts.sqm.filter((q) => q.enabled && facts.zones.some((z) => z.devices.includes(q.interface) || z.networks.includes(q.interface)));
  if (shaped.length > 0) {
    const what = `SQM instance ${shaped.map((q) => `"${q.name}" on ${q.interface}`).join(", ")}`;
    return sqmPolicy === "off"
      ? { mode: "off", reason: `${what} shapes the uplink and sqmPolicy is "off"` }
      : { mode: "software", reason: `${what} shapes the uplink; hardware offload would bypass it` };
  }
  if (!facts.kernelSupported) return { mode: "software", reason: `kernel ${facts.kernel} is older than 5.4: software only` };
  if (facts.hwOffloadCapable) return { mode: "hardware", reason: `${facts.target} has a flow engine` };
  return { mode: "software", reason: `${facts.target} has no flow engine usable by nftables` };
}

export function intentFor(mode: Mode): { flowOffloading: boolean; flowOffloadingHw: boolean } {
  return { flowOffloading: mode !== "off", flowOffloadingHw: mode === "hardware" };
}
