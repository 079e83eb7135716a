import type { RouterFs } from "./fs";

/** A network device as the router's kernel and netifd see it. */
export interface DeviceSpec {
  name: string;
  /** netifd `devtype`; bridges and vlans are resolved to their lower devices for hardware offload. */
  devtype: "ethernet" | "dsa" | "bridge" | "vlan" | "wlan";
  macaddr: string;
  /** Lower devices (bridge ports, the vlan's parent). */
  lower?: string[];
  /** NETIF_F_HW_TC at boot. "fixed" means ethtool reports `off [fixed]` and refuses to change it. */
  hwTcOffload: boolean | "fixed";
}

export interface PackageSpec {
  name: string;
  version: string;
  /** Installed size on the overlay, KiB. */
  sizeKiB: number;
  depends?: string[];
}

export interface Profile {
  id: string;
  /** Human description for `sim --list` and reports. */
  summary: string;
  release: {
    distribution: "OpenWrt";
    version: string;
    revision: string;
    target: string;
    arch: string;
    codename?: string;
  };
  kernel: string;
  firewall: "fw3" | "fw4";
  /**
   * Which firewall4 code the image carries; decides the rendered text and the flowtable device
   * selection (see openwrt-behaviour.md §2.2 and §2.7).
   */
  fw4Flavor?: "2203" | "2305" | "master";
  packageManager: "opkg" | "apk";
  board: {
    model: string;
    boardName: string;
    system: string;
    hostname: string;
    rootfsType: "squashfs" | "ext4";
  };
  /** The SoC has a flow engine that nft flowtables can use (`flags offload`). */
  hwFlowEngine: boolean;
  /** OpenWrt's "ignore EOPNOTSUPP on flowtable devices" kernel patch: mixed hw/sw device sets are accepted. */
  mixedOffloadPatch: boolean;
  /** Accepts hardware offload, then reboots under load (a buggy driver). */
  crashesUnderHwOffload: boolean;
  devices: DeviceSpec[];
  /** Installed at first boot. */
  packages: PackageSpec[];
  /** What the package feeds offer. */
  feed: PackageSpec[];
  overlay: { totalKiB: number; usedKiB: number; device: string };
  /** Default /etc/config/network content (uci syntax). */
  networkConfig: string;
  /** Default /etc/config/firewall content (uci syntax). */
  firewallConfig: string;
  /** Optional /etc/config/sqm content (uci syntax). */
  sqmConfig?: string;
}

export interface ConntrackEntry {
  proto: "tcp" | "udp";
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** Offload state as the kernel would tag it in /proc/net/nf_conntrack. */
  offload: "none" | "software" | "hardware";
  bytes: number;
  packets: number;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** What one emulated program sees of the router it runs on. */
export interface ToolContext {
  /** argv[0] is the name the program was invoked as (e.g. "uci", "fw4"). */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  fs: RouterFs;
  router: RouterHandle;
  /** Reads the caller's whole stdin. Only call it when the program really reads stdin. */
  readStdin(): Promise<Buffer>;
  stdout(data: string | Buffer): void;
  stderr(data: string | Buffer): void;
  /** Runs another emulated program in-process (fw4 piping into nft, for example). */
  run(argv: string[], stdin?: string | Buffer): Promise<ToolResult>;
}

/** An emulated router program: returns its exit status. */
export type Tool = (ctx: ToolContext) => Promise<number>;

/** The simulated router's kernel and firmware state that emulated programs read and change. */
export interface RouterHandle {
  readonly profile: Profile;
  readonly fs: RouterFs;
  readonly kernel: KernelState;
  readonly faults: FaultState;
  readonly netifd: Netifd;
  /** Reboots the router (as `reboot` does): the caller's process is killed with the rest. */
  requestReboot(reason: string): void;
  /** The flash: what `sync`/`fsync` (and uci's own fsync) make survive a power cut. */
  readonly flash: FlashHandle;
  /** Free space on the overlay in KiB, after the full-overlay fault is applied. */
  overlayFreeKiB(): number;
}

export interface KernelState {
  /** hw-tc-offload per device as the kernel currently has it (ethtool -K changes it). */
  hwTcOffload: Map<string, boolean>;
  conntrack: ConntrackEntry[];
  /** Loaded kernel modules (flow offload modules appear once their package is installed). */
  modules: Set<string>;
  /** The nftables ruleset, owned by the nft emulator. */
  nft: import("./tools/nft/kernel").NftKernel;
  /** fw3 only: iptables rules by table, as `iptables -S` lines. */
  iptables: Map<string, string[]>;
  /**
   * Would the kernel accept `flags offload` for a flowtable on these devices?
   * The answer follows the SoC's flow engine, each device's hw-tc-offload and the mixed-device patch.
   */
  acceptsHwOffload(devices: string[]): boolean;
}

export interface FlashHandle {
  sync(): void;
  fsync(routerPath: string): void;
  /** Content fsynced under a temp name that was then renamed without a directory sync. */
  persistAs(routerPath: string, data: string | Buffer): void;
}

export interface FaultState {
  /** The next firewall reload/start/restart fails in nft (then the fault clears). */
  failNextFirewallReload: boolean;
  /** The overlay reports (and behaves as) full. */
  overlayFull: boolean;
}

/** One logical interface as netifd reports it (`ubus call network.interface dump`). */
export interface InterfaceStatus {
  interface: string;
  up: boolean;
  proto: string;
  /** The interface's device (`br-lan`, `eth1`, for PPPoE the underlying device). */
  device?: string;
  l3_device?: string;
  ipv4: { address: string; mask: number }[];
  ipv6: { address: string; mask: number }[];
  ipv6PrefixAssignment: { address: string; mask: number }[];
}

/** netifd's view: interfaces brought up from /etc/config/network at boot (or network reload). */
export interface Netifd {
  interfaces(): InterfaceStatus[];
  /** Devices present on the router, by name. */
  device(name: string): DeviceSpec | undefined;
  devices(): DeviceSpec[];
}
