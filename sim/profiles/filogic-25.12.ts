import type { Profile } from "../types";
import { dsaDevices, FW4_PACKAGES, feedPackages, imagePackages, kernelOf, networkConfig } from "./build";
import { STOCK_FIREWALL_CONFIG } from "./firewall-stock";

/**
 * Xiaomi Mi Router AX3000T on 25.12: MT7981's PPE, DSA (lan2..lan4, wan), the first stable series
 * with apk instead of opkg and os-release based board info.
 */
export const filogic_25_12: Profile = {
  id: "filogic-25.12",
  summary: "Xiaomi Mi Router AX3000T (mediatek/filogic, DSA), OpenWrt 25.12.0: fw4, apk, hardware flow engine",
  release: { distribution: "OpenWrt", version: "25.12.0", revision: "r32086-3f3e42fa0b", target: "mediatek/filogic", arch: "aarch64_cortex-a53" },
  kernel: kernelOf("25.12"),
  firewall: "fw4",
  fw4Flavor: "master",
  packageManager: "apk",
  board: {
    model: "Xiaomi Mi Router AX3000T",
    boardName: "xiaomi,mi-router-ax3000t",
    system: "ARMv8 Processor rev 4",
    hostname: "OpenWrt",
    rootfsType: "squashfs",
  },
  hwFlowEngine: true,
  mixedOffloadPatch: true,
  crashesUnderHwOffload: false,
  devices: dsaDevices("8c:de:f9:4e:a7:30", ["lan2", "lan3", "lan4"], "wan"),
  packages: imagePackages("25.12", [...FW4_PACKAGES, "ethtool"]),
  feed: feedPackages("25.12"),
  overlay: { totalKiB: 54_160, usedKiB: 924, device: "/dev/ubi0_5" },
  networkConfig: networkConfig({ ulaPrefix: "fdc4:92e7:5f03::/48", lanPorts: ["lan2", "lan3", "lan4"], wanDevice: "wan" }),
  firewallConfig: STOCK_FIREWALL_CONFIG,
};
