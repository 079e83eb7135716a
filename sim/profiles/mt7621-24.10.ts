import type { Profile } from "../types";
import { dsaDevices, FW4_PACKAGES, feedPackages, imagePackages, kernelOf, networkConfig } from "./build";
import { STOCK_FIREWALL_CONFIG } from "./firewall-stock";

/** SQM shaping the WAN with cake: hardware offload would bypass it. */
const SQM_CONFIG = `
config queue 'wan'
\toption enabled '1'
\toption interface 'wan'
\toption download '85000'
\toption upload '10000'
\toption qdisc 'cake'
\toption script 'piece_of_cake.qos'
\toption linklayer 'none'
\toption debug_logging '0'
\toption verbosity '5'
`;

/**
 * Xiaomi Mi Router 4A Gigabit on 24.10: MT7621 flow engine, DSA (lan1, lan2, wan), current fw4,
 * 16 MiB NOR flash (jffs2 overlay), and SQM (cake) enabled on the WAN port.
 */
export const mt7621_24_10: Profile = {
  id: "mt7621-24.10",
  summary: "Xiaomi Mi Router 4A Gigabit (ramips/mt7621, DSA), OpenWrt 24.10.0: fw4 (2024), hardware flow engine, SQM cake on wan",
  release: { distribution: "OpenWrt", version: "24.10.0", revision: "r28427-6df0e3d02a", target: "ramips/mt7621", arch: "mipsel_24kc" },
  kernel: kernelOf("24.10"),
  firewall: "fw4",
  fw4Flavor: "master",
  packageManager: "opkg",
  board: {
    model: "Xiaomi Mi Router 4A Gigabit Edition",
    boardName: "xiaomi,mi-router-4a-gigabit",
    system: "MediaTek MT7621 ver:1 eco:3",
    hostname: "OpenWrt",
    rootfsType: "squashfs",
  },
  hwFlowEngine: true,
  mixedOffloadPatch: true,
  crashesUnderHwOffload: false,
  devices: dsaDevices("64:64:4a:d2:19:8c", ["lan1", "lan2"], "wan"),
  packages: imagePackages("24.10", [...FW4_PACKAGES, "ethtool", "sqm-scripts", "tc-tiny", "kmod-sched-core", "kmod-sched-cake", "kmod-ifb"]),
  feed: feedPackages("24.10"),
  overlay: { totalKiB: 6_976, usedKiB: 1_208, device: "/dev/mtdblock6" },
  networkConfig: networkConfig({ ulaPrefix: "fd17:c40e:2a91::/48", lanPorts: ["lan1", "lan2"], wanDevice: "wan" }),
  firewallConfig: STOCK_FIREWALL_CONFIG,
  sqmConfig: SQM_CONFIG,
};
