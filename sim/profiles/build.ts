import type { DeviceSpec, PackageSpec } from "../types";

/** What the profiles of one OpenWrt release series share: kernel build, package versions and sizes. */
export type Series = "21.02" | "22.03" | "23.05" | "24.10" | "25.12";

const KERNEL: Record<Series, { version: string; vermagic: string }> = {
  "21.02": { version: "5.4.238", vermagic: "5e0b3e2f7c7ac3bcd2a0c6b3e2c3f0f4" },
  "22.03": { version: "5.10.176", vermagic: "a1b7ba3e57d4d3e8f1c3a6fd2a54b2e6" },
  "23.05": { version: "5.15.162", vermagic: "ea8a5cb2f2c3a0e9ef1e3c79ac0b5e04" },
  "24.10": { version: "6.6.73", vermagic: "2dd8e4a1dd3c1d4f2b8a04f0c4b4b6c1" },
  "25.12": { version: "6.12.57", vermagic: "9c3f7b0a1e5d8c2f4a6b0e3d7c1f5a9b" },
};

export function kernelOf(series: Series): string {
  return KERNEL[series].version;
}

/** From 24.10 on package versions use apk's `~` / `-rN` scheme, even where opkg installs them. */
function newScheme(series: Series): boolean {
  return series === "24.10" || series === "25.12";
}

function kernelPackageVersion(series: Series): string {
  const { version, vermagic } = KERNEL[series];
  return newScheme(series) ? `${version}~${vermagic}-r1` : `${version}-1-${vermagic}`;
}

function kmodVersion(series: Series): string {
  return `${KERNEL[series].version}${newScheme(series) ? "-r1" : "-1"}`;
}

interface CatalogEntry {
  sizeKiB: number;
  depends?: string[];
  /** Per series; "kmod" follows the kernel build; absent series do not have the package. */
  versions: Partial<Record<Series, string>> | "kmod";
}

/** Installed sizes from the release feeds (rounded), the dependencies that matter to offloading. */
const CATALOG: Record<string, CatalogEntry> = {
  "base-files": { sizeKiB: 52, versions: { "21.02": "1459-r16847-f8282da11e", "22.03": "1513-r20134-5f15225c1e", "23.05": "1565-r24012-d8dd03c46f", "24.10": "1630~6df0e3d02a-r1", "25.12": "1670~3f3e42fa0b-r1" } },
  busybox: { sizeKiB: 410, versions: { "21.02": "1.33.2-3", "22.03": "1.35.0-1", "23.05": "1.36.1-1", "24.10": "1.36.1-r2", "25.12": "1.37.0-r2" } },
  dropbear: { sizeKiB: 96, versions: { "21.02": "2020.81-2", "22.03": "2022.82-2", "23.05": "2022.82-6", "24.10": "2024.86-r1", "25.12": "2025.88-r1" } },
  dnsmasq: { sizeKiB: 268, versions: { "21.02": "2.85-8", "22.03": "2.86-16", "23.05": "2.90-2", "24.10": "2.90-r4", "25.12": "2.91-r1" } },
  fstools: { sizeKiB: 64, versions: { "21.02": "2022-06-02-93369be0-1", "22.03": "2022-06-02-93369be0-1", "23.05": "2023-02-28-bfe882d5-1", "24.10": "2024.12.05~1f2c2a0b-r1", "25.12": "2025.06.22~a1b2c3d4-r1" } },
  jsonfilter: { sizeKiB: 12, versions: { "21.02": "2018-02-04-c7e938d6-1", "22.03": "2018-02-04-c7e938d6-1", "23.05": "2024-01-23-594cfa86-1", "24.10": "2025.04.18~3a8f2e19-r1", "25.12": "2025.04.18~3a8f2e19-r1" } },
  logd: { sizeKiB: 32, versions: { "21.02": "2021-08-03-a1ee6e19-1", "22.03": "2022-08-13-4c7b720b-1", "23.05": "2023-05-13-6ff7fa52-1", "24.10": "2024.04.26~85f10530-r1", "25.12": "2025.03.21~6af2c7a2-r1" } },
  netifd: { sizeKiB: 236, versions: { "21.02": "2022-08-25-76d2d41b-1", "22.03": "2022-08-25-76d2d41b-1", "23.05": "2024-01-04-c18cc79d-2", "24.10": "2024.12.17~ea01ed41-r1", "25.12": "2025.09.27~0f5cca34-r1" } },
  odhcp6c: { sizeKiB: 54, versions: { "21.02": "2022-08-05-7d21e8d8-18", "22.03": "2022-08-05-7d21e8d8-18", "23.05": "2023-05-12-bcd28363-20", "24.10": "2024.09.25~b6ae9ffa-r1", "25.12": "2025.07.18~eaa1c5bc-r1" } },
  "odhcpd-ipv6only": { sizeKiB: 96, versions: { "21.02": "2021-07-18-bc9d317f-3", "22.03": "2022-10-31-ef2ad0ac-1", "23.05": "2023-10-24-d8118f6e-1", "24.10": "2025.01.02~0a2a9e1b-r1", "25.12": "2025.08.21~1f2e3d4c-r1" } },
  ppp: { sizeKiB: 224, versions: { "21.02": "2.4.9.git-2021-01-04-3", "22.03": "2.4.9.git-2021-01-04-4", "23.05": "2.4.9.git-2021-01-04-4", "24.10": "2.5.1-r1", "25.12": "2.5.2-r1" } },
  "ppp-mod-pppoe": { sizeKiB: 32, versions: { "21.02": "2.4.9.git-2021-01-04-3", "22.03": "2.4.9.git-2021-01-04-4", "23.05": "2.4.9.git-2021-01-04-4", "24.10": "2.5.1-r1", "25.12": "2.5.2-r1" } },
  procd: { sizeKiB: 156, versions: { "21.02": "2021-03-08-2cfc26f8-1", "22.03": "2022-06-01-7a009685-2", "23.05": "2023-06-25-2db83655-2", "24.10": "2024.12.22~42d39376-r1", "25.12": "2025.07.19~8fa2b4c7-r1" } },
  rpcd: { sizeKiB: 64, versions: { "21.02": "2021-03-11-ccb75178-1", "22.03": "2022-09-21-8c852b65-1", "23.05": "2023-07-01-c07ab2f9-1", "24.10": "2024.09.17~c60e86a4-r1", "25.12": "2025.04.21~4476687a-r1" } },
  ubus: { sizeKiB: 16, versions: { "21.02": "2021-02-15-2537be01-3", "22.03": "2022-06-01-2bebf93c-1", "23.05": "2023-06-05-f787c97b-1", "24.10": "2025.01.02~afa57cce-r1", "25.12": "2025.01.02~afa57cce-r1" } },
  ubusd: { sizeKiB: 28, versions: { "21.02": "2021-02-15-2537be01-3", "22.03": "2022-06-01-2bebf93c-1", "23.05": "2023-06-05-f787c97b-1", "24.10": "2025.01.02~afa57cce-r1", "25.12": "2025.01.02~afa57cce-r1" } },
  uci: { sizeKiB: 20, versions: { "21.02": "2021-04-14-4b3db117-5", "22.03": "2021-10-22-f84f49f0-6", "23.05": "2023-08-10-5781664d-1", "24.10": "2025.01.20~16ff0bad-r1", "25.12": "2025.12.02~66127cd8-r1" } },
  "uclient-fetch": { sizeKiB: 28, versions: { "21.02": "2021-05-14-6a6011df-1", "22.03": "2021-05-14-6a6011df-1", "23.05": "2023-04-13-007d9454-1", "24.10": "2024.10.22~88ae8f20-r1", "25.12": "2025.05.23~6c2f3a14-r1" } },
  "urandom-seed": { sizeKiB: 4, versions: { "21.02": "3", "22.03": "3", "23.05": "3", "24.10": "3-r1", "25.12": "3-r1" } },
  opkg: { sizeKiB: 132, versions: { "21.02": "2021-06-13-1bf042dd-1", "22.03": "2022-02-24-d038e5b6-2", "23.05": "2022-02-24-d038e5b6-2", "24.10": "2024.10.16~38eccbb1-r1" } },
  "apk-mbedtls": { sizeKiB: 620, versions: { "25.12": "3.0.0_git20250819-r1" } },
  ucode: { sizeKiB: 104, versions: { "22.03": "2022-12-02-46d93c9c-1", "23.05": "2023-11-07-a6e75e02-1", "24.10": "2025.01.20~2f8fd8e8-r1", "25.12": "2025.07.18~81205a2a-r1" } },
  "nftables-json": { sizeKiB: 268, versions: { "21.02": "0.9.6-2", "22.03": "1.0.2-2.1", "23.05": "1.0.8-1", "24.10": "1.1.1-r1", "25.12": "1.1.3-r1" } },
  firewall4: {
    sizeKiB: 64,
    depends: ["kmod-nft-core", "kmod-nft-fib", "kmod-nft-nat", "kmod-nft-offload", "nftables-json", "ucode"],
    versions: { "22.03": "2022-10-18-7ae5e14b-1", "23.05": "2023-09-01-598d9fb0-1", "24.10": "2024.12.18~18fc0ead-r1", "25.12": "2025.03.17~b6e51575-r1" },
  },
  /** 22.03's firewall4 as the trimmed custom image carries it: built without the flow-offload module. */
  "firewall4-trimmed": {
    sizeKiB: 60,
    depends: ["kmod-nft-core", "kmod-nft-fib", "kmod-nft-nat", "nftables-json", "ucode"],
    versions: { "22.03": "2022-10-18-7ae5e14b-1" },
  },
  firewall: { sizeKiB: 140, depends: ["iptables", "ip6tables"], versions: { "21.02": "2021-03-23-61db17ed-1", "22.03": "2022-02-17-4cd7d4f3-3", "23.05": "2022-02-17-4cd7d4f3-3" } },
  iptables: { sizeKiB: 84, depends: ["kmod-ipt-core"], versions: { "21.02": "1.8.7-1", "22.03": "1.8.7-7", "23.05": "1.8.8-2" } },
  ip6tables: { sizeKiB: 64, depends: ["kmod-ipt-core"], versions: { "21.02": "1.8.7-1", "22.03": "1.8.7-7", "23.05": "1.8.8-2" } },
  kernel: { sizeKiB: 0, versions: "kmod" },
  "kmod-nf-conntrack": { sizeKiB: 124, depends: ["kernel"], versions: "kmod" },
  "kmod-nf-conntrack6": { sizeKiB: 14, depends: ["kernel", "kmod-nf-conntrack"], versions: "kmod" },
  "kmod-nf-nat": { sizeKiB: 32, depends: ["kernel", "kmod-nf-conntrack"], versions: "kmod" },
  "kmod-nf-reject": { sizeKiB: 6, depends: ["kernel"], versions: "kmod" },
  "kmod-nf-reject6": { sizeKiB: 7, depends: ["kernel"], versions: "kmod" },
  "kmod-nfnetlink": { sizeKiB: 8, depends: ["kernel"], versions: "kmod" },
  "kmod-nf-flow": { sizeKiB: 54, depends: ["kernel", "kmod-nf-conntrack"], versions: "kmod" },
  "kmod-nft-core": { sizeKiB: 322, depends: ["kernel", "kmod-nfnetlink", "kmod-nf-reject", "kmod-nf-reject6", "kmod-nf-conntrack6"], versions: "kmod" },
  "kmod-nft-fib": { sizeKiB: 14, depends: ["kernel", "kmod-nft-core"], versions: "kmod" },
  "kmod-nft-nat": { sizeKiB: 18, depends: ["kernel", "kmod-nft-core", "kmod-nf-nat"], versions: "kmod" },
  "kmod-nft-offload": { sizeKiB: 18, depends: ["kernel", "kmod-nf-flow", "kmod-nft-nat"], versions: "kmod" },
  "kmod-ipt-core": { sizeKiB: 42, depends: ["kernel"], versions: "kmod" },
  "kmod-ipt-conntrack": { sizeKiB: 12, depends: ["kernel", "kmod-ipt-core", "kmod-nf-conntrack"], versions: "kmod" },
  "kmod-ipt-nat": { sizeKiB: 14, depends: ["kernel", "kmod-ipt-core", "kmod-nf-nat"], versions: "kmod" },
  "kmod-ipt-offload": { sizeKiB: 10, depends: ["kernel", "kmod-ipt-core", "kmod-nf-flow"], versions: "kmod" },
  "kmod-sched-core": { sizeKiB: 96, depends: ["kernel"], versions: "kmod" },
  "kmod-sched-cake": { sizeKiB: 42, depends: ["kernel", "kmod-sched-core"], versions: "kmod" },
  "kmod-ifb": { sizeKiB: 8, depends: ["kernel"], versions: "kmod" },
  "tc-tiny": { sizeKiB: 228, depends: ["kmod-sched-core"], versions: { "21.02": "5.11.0-3", "22.03": "5.15.0-3", "23.05": "6.3.0-1", "24.10": "6.11.0-r1", "25.12": "6.15.0-r1" } },
  "sqm-scripts": { sizeKiB: 92, depends: ["tc-tiny", "kmod-sched-cake", "kmod-ifb"], versions: { "21.02": "1.5.0-1", "22.03": "1.5.1-1", "23.05": "1.6.0-1", "24.10": "1.6.0-r1", "25.12": "1.6.0-r2" } },
  ethtool: { sizeKiB: 236, versions: { "21.02": "5.10-1", "22.03": "5.16-1", "23.05": "6.3-1", "24.10": "6.11-r1", "25.12": "6.15-r1" } },
  "ethtool-full": { sizeKiB: 568, versions: { "21.02": "5.10-1", "22.03": "5.16-1", "23.05": "6.3-1", "24.10": "6.11-r1", "25.12": "6.15-r1" } },
  iperf3: { sizeKiB: 132, versions: { "21.02": "3.10.1-1", "22.03": "3.12-1", "23.05": "3.17.1-1", "24.10": "3.17.1-r3", "25.12": "3.19.1-r1" } },
  "tcpdump-mini": { sizeKiB: 424, versions: { "21.02": "4.99.1-1", "22.03": "4.99.4-1", "23.05": "4.99.4-1", "24.10": "4.99.5-r1", "25.12": "4.99.5-r2" } },
};

function specOf(series: Series, name: string): PackageSpec {
  const entry = CATALOG[name];
  if (!entry) throw new Error(`no catalog entry for package ${name}`);
  const version = entry.versions === "kmod" ? (name === "kernel" ? kernelPackageVersion(series) : kmodVersion(series)) : entry.versions[series];
  if (!version) throw new Error(`${name} is not part of OpenWrt ${series}`);
  // The trimmed firewall4 is still called firewall4 on the router.
  return { name: name.replace(/-trimmed$/, ""), version, sizeKiB: entry.sizeKiB, ...(entry.depends ? { depends: [...entry.depends] } : {}) };
}

/** Every image has these, whatever the firewall and package manager. */
const BASE = ["base-files", "busybox", "dropbear", "dnsmasq", "fstools", "jsonfilter", "logd", "netifd", "odhcp6c", "odhcpd-ipv6only", "ppp", "ppp-mod-pppoe", "procd", "rpcd", "ubus", "ubusd", "uci", "uclient-fetch", "urandom-seed", "kernel"];

export const FW4_PACKAGES = ["firewall4", "nftables-json", "ucode", "kmod-nft-core", "kmod-nft-fib", "kmod-nft-nat", "kmod-nft-offload", "kmod-nf-flow", "kmod-nf-conntrack", "kmod-nf-conntrack6", "kmod-nf-nat", "kmod-nf-reject", "kmod-nf-reject6", "kmod-nfnetlink"];
export const FW3_PACKAGES = ["firewall", "iptables", "ip6tables", "kmod-ipt-core", "kmod-ipt-conntrack", "kmod-ipt-nat", "kmod-ipt-offload", "kmod-nf-flow", "kmod-nf-conntrack", "kmod-nf-conntrack6", "kmod-nf-nat", "kmod-nf-reject", "kmod-nf-reject6"];

/** The image's packages: the base set, the package manager, plus `extra`. */
export function imagePackages(series: Series, extra: string[]): PackageSpec[] {
  const manager = series === "25.12" ? "apk-mbedtls" : "opkg";
  return [...new Set([...BASE, manager, ...extra])].map((n) => specOf(series, n)).sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Everything the release's feeds offer from the catalog (a custom build's variants excluded). */
export function feedPackages(series: Series): PackageSpec[] {
  return Object.entries(CATALOG)
    .filter(([name, entry]) => !name.endsWith("-trimmed") && (entry.versions === "kmod" || entry.versions[series] !== undefined))
    .map(([name]) => specOf(series, name))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** MAC address `base` plus `n`, as board.d derives a port's address from the factory one. */
export function macPlus(base: string, n: number): string {
  const value = parseInt(base.replace(/:/g, ""), 16) + n;
  return value
    .toString(16)
    .padStart(12, "0")
    .match(/../g)!
    .join(":");
}

/** A DSA switch: the CPU-facing GMAC, its user ports and the LAN bridge over the lan ports. */
export function dsaDevices(baseMac: string, lanPorts: string[], wanPort: string): DeviceSpec[] {
  return [
    { name: "br-lan", devtype: "bridge", macaddr: baseMac, lower: lanPorts, hwTcOffload: "fixed" },
    { name: "eth0", devtype: "ethernet", macaddr: baseMac, hwTcOffload: true },
    ...lanPorts.map((port): DeviceSpec => ({ name: port, devtype: "dsa", macaddr: baseMac, lower: ["eth0"], hwTcOffload: true })),
    { name: wanPort, devtype: "dsa", macaddr: macPlus(baseMac, 1), lower: ["eth0"], hwTcOffload: true },
  ];
}

export interface NetworkLayout {
  ulaPrefix: string;
  lanPorts: string[];
  wanDevice: string;
  /** swconfig sections (pre-DSA boards), appended as the board's defaults put them. */
  switchConfig?: string;
}

/**
 * /etc/config/network as config_generate writes it. wan6 uses proto `none`: the simulated ISP has
 * no IPv6, and a dhcpv6 interface would sit in setup forever (as the reference lab router was set up).
 */
export function networkConfig(layout: NetworkLayout): string {
  const ports = layout.lanPorts.map((p) => `\tlist ports '${p}'\n`).join("");
  return (
    "\nconfig interface 'loopback'\n\toption device 'lo'\n\toption proto 'static'\n\toption ipaddr '127.0.0.1'\n\toption netmask '255.0.0.0'\n\n" +
    `config globals 'globals'\n\toption ula_prefix '${layout.ulaPrefix}'\n\n` +
    `config device\n\toption name 'br-lan'\n\toption type 'bridge'\n${ports}\n` +
    "config interface 'lan'\n\toption device 'br-lan'\n\toption proto 'static'\n\toption ipaddr '192.168.1.1'\n\toption netmask '255.255.255.0'\n\toption ip6assign '60'\n\n" +
    `config interface 'wan'\n\toption device '${layout.wanDevice}'\n\toption proto 'dhcp'\n\n` +
    `config interface 'wan6'\n\toption device '${layout.wanDevice}'\n\toption proto 'none'\n` +
    (layout.switchConfig ? `\n${layout.switchConfig}` : "")
  );
}

/** swconfig defaults: VLAN 1 (LAN) and VLAN 2 (WAN) over the CPU port. */
export function switchConfig(lanPorts: string, wanPorts: string): string {
  return (
    "config switch\n\toption name 'switch0'\n\toption reset '1'\n\toption enable_vlan '1'\n\n" +
    `config switch_vlan\n\toption device 'switch0'\n\toption vlan '1'\n\toption ports '${lanPorts}'\n\n` +
    `config switch_vlan\n\toption device 'switch0'\n\toption vlan '2'\n\toption ports '${wanPorts}'\n`
  );
}
