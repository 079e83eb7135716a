import type { Profile } from "../types";
import { FW3_PACKAGES, feedPackages, imagePackages, kernelOf, networkConfig, switchConfig } from "./build";
import { STOCK_FIREWALL_CONFIG } from "./firewall-stock";

const MAC = "60:32:b1:4a:7c:10";

/**
 * TP-Link Archer C6 v2 on 21.02: fw3 (iptables' FLOWOFFLOAD target from kmod-ipt-offload), LAN and
 * WAN as VLANs of one swconfig switch port, and 8 MiB of flash — the overlay has little room.
 */
export const ath79_21_02: Profile = {
  id: "ath79-21.02",
  summary: "TP-Link Archer C6 v2 (ath79, QCA9563), OpenWrt 21.02.7: fw3/iptables, software offload only, 8 MiB flash",
  release: { distribution: "OpenWrt", version: "21.02.7", revision: "r16847-f8282da11e", target: "ath79/generic", arch: "mips_24kc" },
  kernel: kernelOf("21.02"),
  firewall: "fw3",
  packageManager: "opkg",
  board: {
    model: "TP-Link Archer C6 v2 (EU/RU/JP)",
    boardName: "tplink,archer-c6-v2",
    system: "Qualcomm Atheros QCA956X ver 1 rev 0",
    hostname: "OpenWrt",
    rootfsType: "squashfs",
  },
  hwFlowEngine: false,
  mixedOffloadPatch: false,
  crashesUnderHwOffload: false,
  devices: [
    { name: "br-lan", devtype: "bridge", macaddr: MAC, lower: ["eth0.1"], hwTcOffload: "fixed" },
    { name: "eth0", devtype: "ethernet", macaddr: MAC, hwTcOffload: "fixed" },
    { name: "eth0.1", devtype: "vlan", macaddr: MAC, lower: ["eth0"], hwTcOffload: "fixed" },
    { name: "eth0.2", devtype: "vlan", macaddr: MAC, lower: ["eth0"], hwTcOffload: "fixed" },
  ],
  packages: imagePackages("21.02", FW3_PACKAGES),
  feed: feedPackages("21.02"),
  overlay: { totalKiB: 1792, usedKiB: 356, device: "/dev/mtdblock5" },
  networkConfig: networkConfig({
    ulaPrefix: "fd3b:6a1e:9c42::/48",
    lanPorts: ["eth0.1"],
    wanDevice: "eth0.2",
    switchConfig: switchConfig("2 3 4 5 0t", "1 0t"),
  }),
  firewallConfig: STOCK_FIREWALL_CONFIG,
};
