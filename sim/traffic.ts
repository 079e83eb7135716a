import type { ConntrackEntry, RouterHandle } from "./types";

export interface TrafficOptions {
  /** How many new flows to forward (default 4). */
  flows?: number;
  proto?: "tcp" | "udp";
}

let nextPort = 40000;

/**
 * Flows from the LAN to the internet and the offload state the kernel would give them: a flow is
 * offloaded when the forward path has a flow-offload rule (fw4's `flow add @ft`, fw3's FLOWOFFLOAD
 * target), and it runs in hardware only where the flowtable has `flags offload` and every device on
 * its path really has a flow engine behind it — the evidence `[HW_OFFLOAD]` in conntrack gives.
 */
export function generateFlows(router: RouterHandle, options: TrafficOptions): ConntrackEntry[] {
  const count = options.flows ?? 4;
  const mode = offloadMode(router);
  const flows: ConntrackEntry[] = [];
  for (let i = 0; i < count; i++) {
    const sport = nextPort++;
    if (nextPort > 60999) nextPort = 40000;
    flows.push({
      proto: options.proto ?? (i % 2 === 0 ? "tcp" : "udp"),
      src: `192.168.1.${100 + (i % 100)}`,
      dst: `198.51.100.${10 + (i % 200)}`,
      sport,
      dport: i % 2 === 0 ? 443 : 53,
      offload: mode,
      bytes: 1500 * (10 + i),
      packets: 10 + i,
    });
  }
  return flows;
}

function offloadMode(router: RouterHandle): ConntrackEntry["offload"] {
  const { kernel, profile } = router;
  if (profile.firewall === "fw3") {
    const forward = kernel.iptables.get("filter") ?? [];
    const rule = forward.find((r) => r.includes("-j FLOWOFFLOAD"));
    if (!rule || !kernel.modules.has("xt_FLOWOFFLOAD")) return "none";
    return rule.includes("--hw") && profile.hwFlowEngine ? "hardware" : "software";
  }
  const path = offloadedPath(router);
  if (!path) return "none";
  const { flowtable } = path;
  if (!flowtable.hwOffload || !profile.hwFlowEngine) return "software";
  const physical = flowtable.devices.filter((d) => kernel.hwTcOffload.get(d) === true);
  return physical.length === flowtable.devices.length ? "hardware" : "software";
}

/** The flowtable a LAN-to-WAN flow would enter, when a forward rule sends flows to it. */
function offloadedPath(router: RouterHandle) {
  const nft = router.kernel.nft;
  for (const flowtable of nft.flowtables()) {
    if (nft.forwardOffloads(flowtable.family, flowtable.table, flowtable.name)) return { flowtable };
  }
  return undefined;
}
