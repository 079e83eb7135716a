import type { Profile } from "../types";
import { FW4_PACKAGES, feedPackages, imagePackages, kernelOf, networkConfig } from "./build";
import { STOCK_FIREWALL_CONFIG } from "./firewall-stock";

/**
 * The reference lab router (fw4-renders/ubus-for-fw4.txt): OpenWrt 23.05.4 x86/64 in QEMU, LAN
 * bridge on eth0, WAN on eth1 (virtio, no flow engine), ext4 root filesystem without an overlay.
 */
export const x86_64_23_05: Profile = {
  id: "x86-64-23.05",
  summary: "x86/64 VM (virtio NICs), OpenWrt 23.05.4: fw4 (2023), software offload only, ext4 root without overlay",
  release: { distribution: "OpenWrt", version: "23.05.4", revision: "r24012-d8dd03c46f", target: "x86/64", arch: "x86_64" },
  kernel: kernelOf("23.05"),
  firewall: "fw4",
  fw4Flavor: "2305",
  packageManager: "opkg",
  board: {
    model: "QEMU Standard PC (i440FX + PIIX, 1996)",
    boardName: "qemu-standard-pc-i440fx-piix-1996",
    system: "QEMU Virtual CPU version 2.5+",
    hostname: "OpenWrt",
    rootfsType: "ext4",
  },
  hwFlowEngine: false,
  // The generic 5.15 patch tolerates devices without offload in a set that has some; with no flow
  // engine at all the kernel still refuses `flags offload` (the lab's fw4 fell back to software).
  mixedOffloadPatch: false,
  crashesUnderHwOffload: false,
  devices: [
    { name: "br-lan", devtype: "bridge", macaddr: "52:54:00:12:34:56", lower: ["eth0"], hwTcOffload: "fixed" },
    { name: "eth0", devtype: "ethernet", macaddr: "52:54:00:12:34:56", hwTcOffload: "fixed" },
    { name: "eth1", devtype: "ethernet", macaddr: "52:54:00:12:34:57", hwTcOffload: "fixed" },
  ],
  packages: imagePackages("23.05", FW4_PACKAGES),
  feed: feedPackages("23.05"),
  overlay: { totalKiB: 102_400, usedKiB: 19_136, device: "/dev/root" },
  networkConfig: networkConfig({ ulaPrefix: "fd5d:3563:874c::/48", lanPorts: ["eth0"], wanDevice: "eth1" }),
  firewallConfig: STOCK_FIREWALL_CONFIG,
};
