import type { Profile } from "../types";
import { dsaDevices, FW4_PACKAGES, feedPackages, imagePackages, kernelOf, networkConfig } from "./build";
import { STOCK_FIREWALL_CONFIG } from "./firewall-stock";

/**
 * Netgear R6220 on 23.05: MT7621's PPE flow engine behind a DSA switch (lan1..lan4, wan), every
 * GMAC and user port with hw-tc-offload on, ethtool installed, 128 MiB NAND (UBI overlay).
 */
export const mt7621_23_05: Profile = {
  id: "mt7621-23.05",
  summary: "Netgear R6220 (ramips/mt7621, DSA), OpenWrt 23.05.4: fw4 (2023), hardware flow engine",
  release: { distribution: "OpenWrt", version: "23.05.4", revision: "r24012-d8dd03c46f", target: "ramips/mt7621", arch: "mipsel_24kc" },
  kernel: kernelOf("23.05"),
  firewall: "fw4",
  fw4Flavor: "2305",
  packageManager: "opkg",
  board: {
    model: "Netgear R6220",
    boardName: "netgear,r6220",
    system: "MediaTek MT7621 ver:1 eco:3",
    hostname: "OpenWrt",
    rootfsType: "squashfs",
  },
  hwFlowEngine: true,
  mixedOffloadPatch: true,
  crashesUnderHwOffload: false,
  devices: dsaDevices("a0:40:a0:5b:2c:e1", ["lan1", "lan2", "lan3", "lan4"], "wan"),
  packages: imagePackages("23.05", [...FW4_PACKAGES, "ethtool"]),
  feed: feedPackages("23.05"),
  overlay: { totalKiB: 94_208, usedKiB: 1_312, device: "/dev/ubi0_1" },
  networkConfig: networkConfig({ ulaPrefix: "fd9e:8a1c:4b7d::/48", lanPorts: ["lan1", "lan2", "lan3", "lan4"], wanDevice: "wan" }),
  firewallConfig: STOCK_FIREWALL_CONFIG,
};
