import type { DeviceSpec, Tool, ToolContext } from "../types";

/**
 * ethtool as OpenWrt's `ethtool` package builds it (the tiny variant, ioctl only, no netlink):
 * `-k` lists the device's features and `-K` changes them. Only hw-tc-offload (NETIF_F_HW_TC, which
 * decides whether a flowtable may use the device's flow engine) is kept in the kernel state; the
 * simulated drivers keep every other feature as it is and refuse to change it.
 */

type DeviceClass = "loopback" | "bridge" | "vlan" | "dsa" | "soc" | "virtio" | "plain";

/** [name, indented under the legacy group above it, kernel version that introduced it] */
const FEATURES: [string, boolean, number][] = [
  ["rx-checksumming", false, 0],
  ["tx-checksumming", false, 0],
  ["tx-checksum-ipv4", true, 0],
  ["tx-checksum-ip-generic", true, 0],
  ["tx-checksum-ipv6", true, 0],
  ["tx-checksum-fcoe-crc", true, 0],
  ["tx-checksum-sctp", true, 0],
  ["scatter-gather", false, 0],
  ["tx-scatter-gather", true, 0],
  ["tx-scatter-gather-fraglist", true, 0],
  ["tcp-segmentation-offload", false, 0],
  ["tx-tcp-segmentation", true, 0],
  ["tx-tcp-ecn-segmentation", true, 0],
  ["tx-tcp-mangleid-segmentation", true, 0],
  ["tx-tcp6-segmentation", true, 0],
  ["generic-segmentation-offload", false, 0],
  ["generic-receive-offload", false, 0],
  ["large-receive-offload", false, 0],
  ["rx-vlan-offload", false, 0],
  ["tx-vlan-offload", false, 0],
  ["ntuple-filters", false, 0],
  ["receive-hashing", false, 0],
  ["highdma", false, 0],
  ["rx-vlan-filter", false, 0],
  ["vlan-challenged", false, 0],
  ["tx-lockless", false, 0],
  ["netns-local", false, 0],
  ["tx-gso-robust", false, 0],
  ["tx-fcoe-segmentation", false, 0],
  ["tx-gre-segmentation", false, 0],
  ["tx-gre-csum-segmentation", false, 0],
  ["tx-ipxip4-segmentation", false, 0],
  ["tx-ipxip6-segmentation", false, 0],
  ["tx-udp_tnl-segmentation", false, 0],
  ["tx-udp_tnl-csum-segmentation", false, 0],
  ["tx-gso-partial", false, 0],
  ["tx-tunnel-remcsum-segmentation", false, 0],
  ["tx-sctp-segmentation", false, 0],
  ["tx-esp-segmentation", false, 0],
  ["tx-udp-segmentation", false, 0],
  ["tx-gso-list", false, 5.06],
  ["fcoe-mtu", false, 0],
  ["tx-nocache-copy", false, 0],
  ["loopback", false, 0],
  ["rx-fcs", false, 0],
  ["rx-all", false, 0],
  ["tx-vlan-stag-hw-insert", false, 0],
  ["rx-vlan-stag-hw-parse", false, 0],
  ["rx-vlan-stag-filter", false, 0],
  ["l2-fwd-offload", false, 0],
  ["hw-tc-offload", false, 0],
  ["esp-hw-offload", false, 0],
  ["esp-tx-csum-hw-offload", false, 0],
  ["rx-udp_tunnel-port-offload", false, 0],
  ["tls-hw-tx-offload", false, 0],
  ["tls-hw-rx-offload", false, 0],
  ["rx-gro-hw", false, 0],
  ["tls-hw-record", false, 0],
  ["rx-gro-list", false, 5.06],
  ["macsec-hw-offload", false, 5.09],
  ["rx-udp-gro-forwarding", false, 5.12],
  ["hsr-tag-ins-offload", false, 5.09],
  ["hsr-tag-rm-offload", false, 5.09],
  ["hsr-fwd-offload", false, 5.09],
  ["hsr-dup-offload", false, 5.09],
];

/** Features whose state differs from `off [fixed]`, per driver class. */
const CLASS_FEATURES: Record<DeviceClass, Record<string, string>> = {
  loopback: {
    "rx-checksumming": "on [fixed]",
    "tx-checksumming": "on",
    "tx-checksum-ip-generic": "on [fixed]",
    "scatter-gather": "on",
    "tx-scatter-gather": "on [fixed]",
    "tx-scatter-gather-fraglist": "on [fixed]",
    "tcp-segmentation-offload": "on",
    "tx-tcp-segmentation": "on",
    "tx-tcp-ecn-segmentation": "on",
    "tx-tcp-mangleid-segmentation": "on",
    "tx-tcp6-segmentation": "on",
    "generic-segmentation-offload": "on",
    "generic-receive-offload": "on",
    highdma: "on [fixed]",
    "tx-lockless": "on [fixed]",
    "netns-local": "on [fixed]",
    "tx-sctp-segmentation": "on",
    "tx-udp-segmentation": "on",
    "tx-gso-list": "on",
    loopback: "on [fixed]",
    "rx-gro-list": "off",
    "rx-udp-gro-forwarding": "off",
  },
  bridge: {
    "tx-checksumming": "on",
    "tx-checksum-ip-generic": "on",
    "scatter-gather": "on",
    "tx-scatter-gather": "on",
    "tx-scatter-gather-fraglist": "on",
    "tcp-segmentation-offload": "on",
    "tx-tcp-segmentation": "on",
    "tx-tcp-ecn-segmentation": "on",
    "tx-tcp-mangleid-segmentation": "on",
    "tx-tcp6-segmentation": "on",
    "generic-segmentation-offload": "on",
    "generic-receive-offload": "on",
    highdma: "on",
    "tx-lockless": "on [fixed]",
    "netns-local": "on [fixed]",
    "tx-gso-robust": "off [requested on]",
    "tx-nocache-copy": "off",
    "rx-gro-list": "off",
    "rx-udp-gro-forwarding": "off",
  },
  vlan: {
    "scatter-gather": "on",
    "tx-scatter-gather": "on",
    "generic-segmentation-offload": "on",
    "generic-receive-offload": "on",
    highdma: "on",
    "tx-lockless": "on [fixed]",
    "netns-local": "off",
    "tx-nocache-copy": "off",
    "rx-gro-list": "off",
    "rx-udp-gro-forwarding": "off",
  },
  dsa: {
    "tx-checksumming": "on",
    "tx-checksum-ip-generic": "on",
    "scatter-gather": "on",
    "tx-scatter-gather": "on",
    "tcp-segmentation-offload": "on",
    "tx-tcp-segmentation": "on",
    "tx-tcp6-segmentation": "on",
    "generic-segmentation-offload": "on",
    "generic-receive-offload": "on",
    "tx-lockless": "on [fixed]",
    "tx-nocache-copy": "off",
    "rx-gro-list": "off",
    "rx-udp-gro-forwarding": "off",
  },
  soc: {
    "rx-checksumming": "on",
    "tx-checksumming": "on",
    "tx-checksum-ip-generic": "on",
    "scatter-gather": "on",
    "tx-scatter-gather": "on",
    "tcp-segmentation-offload": "on",
    "tx-tcp-segmentation": "on",
    "tx-tcp6-segmentation": "on",
    "generic-segmentation-offload": "on",
    "generic-receive-offload": "on",
    "rx-vlan-offload": "on",
    "tx-vlan-offload": "on",
    "tx-nocache-copy": "off",
    "rx-gro-list": "off",
    "rx-udp-gro-forwarding": "off",
  },
  virtio: {
    "rx-checksumming": "on [fixed]",
    "tx-checksumming": "on",
    "tx-checksum-ip-generic": "on",
    "scatter-gather": "on",
    "tx-scatter-gather": "on",
    "tcp-segmentation-offload": "on",
    "tx-tcp-segmentation": "on",
    "tx-tcp-ecn-segmentation": "on",
    "tx-tcp6-segmentation": "on",
    "generic-segmentation-offload": "on",
    "generic-receive-offload": "off",
    "large-receive-offload": "off",
    highdma: "on [fixed]",
    "tx-nocache-copy": "off",
    "rx-gro-list": "off",
    "rx-udp-gro-forwarding": "off",
  },
  plain: {
    "generic-segmentation-offload": "on",
    "generic-receive-offload": "on",
    "tx-nocache-copy": "off",
    "rx-gro-list": "off",
    "rx-udp-gro-forwarding": "off",
  },
};

/** Short and long legacy names ethtool -K accepts for the groups above. */
const LEGACY_NAMES: Record<string, string> = {
  rx: "rx-checksumming",
  tx: "tx-checksumming",
  sg: "scatter-gather",
  tso: "tcp-segmentation-offload",
  gso: "generic-segmentation-offload",
  gro: "generic-receive-offload",
  lro: "large-receive-offload",
  rxvlan: "rx-vlan-offload",
  txvlan: "tx-vlan-offload",
  ntuple: "ntuple-filters",
  rxhash: "receive-hashing",
};

export const ethtoolTool: Tool = async (ctx) => {
  const [, option, devname, ...rest] = ctx.argv;
  if (!devname) return badArgs(ctx);
  if (option === "-k" || option === "--show-features" || option === "--show-offload") {
    if (rest.length > 0) return badArgs(ctx);
    const features = featuresOf(ctx, devname);
    if (!features) return noSuchDevice(ctx);
    ctx.stdout(`Features for ${devname}:\n${[...features].map(([name, state]) => `${indentOf(name)}${name}: ${state}\n`).join("")}`);
    return 0;
  }
  if (option === "-K" || option === "--features" || option === "--offload") {
    const features = featuresOf(ctx, devname);
    if (!features) return noSuchDevice(ctx);
    if (rest.length === 0 || rest.length % 2 !== 0) return badArgs(ctx);
    const requested = new Map<string, boolean>();
    for (let i = 0; i < rest.length; i += 2) {
      const name = LEGACY_NAMES[rest[i]] ?? rest[i];
      if (!features.has(name) || (rest[i + 1] !== "on" && rest[i + 1] !== "off")) return badArgs(ctx);
      requested.set(name, rest[i + 1] === "on");
    }
    const changed: string[] = [];
    const refused: string[] = [];
    for (const [name, wanted] of requested) {
      const state = features.get(name)!;
      if (state.startsWith(wanted ? "on" : "off")) continue;
      if (name === "hw-tc-offload" && !state.includes("[fixed]")) {
        ctx.router.kernel.hwTcOffload.set(devname, wanted);
        changed.push(`${name}: ${wanted ? "on" : "off"}\n`);
      } else {
        refused.push(`${name}: ${state.split(" ")[0]} [requested ${wanted ? "on" : "off"}]\n`);
      }
    }
    if (refused.length === 0) return 0;
    if (changed.length === 0) {
      ctx.stderr("Could not change any device features\n");
      return 1;
    }
    ctx.stdout(`Actual changes:\n${[...changed, ...refused].join("")}`);
    return 0;
  }
  return badArgs(ctx);
};

function featuresOf(ctx: ToolContext, devname: string): Map<string, string> | undefined {
  const spec = ctx.router.netifd.device(devname);
  if (!spec && devname !== "lo") return undefined;
  const overrides = CLASS_FEATURES[classOf(ctx, spec)];
  const kernel = kernelVersion(ctx.router.profile.kernel);
  const features = new Map<string, string>();
  for (const [name, , since] of FEATURES) {
    if (since <= kernel) features.set(name, overrides[name] ?? "off [fixed]");
  }
  if (spec && spec.hwTcOffload !== "fixed") {
    features.set("hw-tc-offload", ctx.router.kernel.hwTcOffload.get(devname) === true ? "on" : "off");
  }
  return features;
}

function classOf(ctx: ToolContext, spec: DeviceSpec | undefined): DeviceClass {
  if (!spec) return "loopback";
  if (spec.devtype === "bridge" || spec.devtype === "vlan" || spec.devtype === "dsa") return spec.devtype;
  if (ctx.router.profile.release.target.startsWith("x86/")) return "virtio";
  return ctx.router.profile.hwFlowEngine ? "soc" : "plain";
}

function indentOf(name: string): string {
  return FEATURES.find(([n]) => n === name)?.[1] ? "\t" : "";
}

/** 5.15.162 -> 5.15, comparable with the FEATURES table. */
function kernelVersion(release: string): number {
  const [major, minor] = release.split(".").map(Number);
  return major + minor / 100;
}

function badArgs(ctx: ToolContext): number {
  ctx.stderr("ethtool: bad command line argument(s)\nFor more information run ethtool -h\n");
  return 1;
}

function noSuchDevice(ctx: ToolContext): number {
  ctx.stderr("Cannot get device feature names: No such device\n");
  return 1;
}
