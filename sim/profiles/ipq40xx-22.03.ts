import type { Profile } from "../types";
import { FW4_PACKAGES, feedPackages, imagePackages, kernelOf, macPlus, networkConfig, switchConfig } from "./build";
import { STOCK_FIREWALL_CONFIG } from "./firewall-stock";

const MAC = "48:8f:5a:3c:21:e0";

/** A custom image without the flow-offload modules: firewall4 renders offloading, the kernel cannot load it. */
const TRIMMED = [...FW4_PACKAGES.filter((p) => !["firewall4", "kmod-nft-offload", "kmod-nf-flow"].includes(p)), "firewall4-trimmed"];

/**
 * MikroTik hAP ac² on 22.03 built without kmod-nft-offload (and kmod-nf-flow): the first fw4
 * series, no flow engine (essedma has no NETIF_F_HW_TC), swconfig with separate LAN/WAN MACs.
 */
export const ipq40xx_22_03: Profile = {
  id: "ipq40xx-22.03",
  summary: "MikroTik hAP ac2 (ipq40xx), OpenWrt 22.03.5: fw4 (2022), trimmed image without kmod-nft-offload, software offload only",
  release: { distribution: "OpenWrt", version: "22.03.5", revision: "r20134-5f15225c1e", target: "ipq40xx/mikrotik", arch: "arm_cortex-a7_neon-vfpv4" },
  kernel: kernelOf("22.03"),
  firewall: "fw4",
  fw4Flavor: "2203",
  packageManager: "opkg",
  board: {
    model: "MikroTik hAP ac2",
    boardName: "mikrotik,hap-ac2",
    system: "ARMv7 Processor rev 5 (v7l)",
    hostname: "OpenWrt",
    rootfsType: "squashfs",
  },
  hwFlowEngine: false,
  mixedOffloadPatch: false,
  crashesUnderHwOffload: false,
  devices: [
    { name: "br-lan", devtype: "bridge", macaddr: MAC, lower: ["eth0"], hwTcOffload: "fixed" },
    { name: "eth0", devtype: "ethernet", macaddr: MAC, hwTcOffload: "fixed" },
    { name: "eth1", devtype: "ethernet", macaddr: macPlus(MAC, 1), hwTcOffload: "fixed" },
  ],
  packages: imagePackages("22.03", TRIMMED),
  feed: feedPackages("22.03"),
  overlay: { totalKiB: 7616, usedKiB: 612, device: "/dev/mtdblock7" },
  networkConfig: networkConfig({
    ulaPrefix: "fd71:0c5e:3b2a::/48",
    lanPorts: ["eth0"],
    wanDevice: "eth1",
    switchConfig: switchConfig("0t 2 3 4 5", "0t 1"),
  }),
  firewallConfig: STOCK_FIREWALL_CONFIG,
};
