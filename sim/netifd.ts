import type { RouterFs } from "./fs";
import { BlobTable, BlobValue, formatBlobmsg } from "./tools/blobmsg";
import { formatIpv6, netmaskToPrefix, parseIpv6 } from "./tools/inet";
import { parseConfig } from "./tools/uci";
import type { UciSection } from "./tools/uci/model";
import type { DeviceSpec, InterfaceStatus, Netifd, Profile } from "./types";

/**
 * The ISP behind every simulated WAN port: a DHCPv4 server on TEST-NET-3 and nothing for IPv6, so
 * a `dhcpv6` interface keeps soliciting (pending) exactly as on a line without IPv6.
 */
const UPSTREAM = { prefix: "203.0.113", gateway: "203.0.113.1", dnsSearch: "isp.example", leasetime: 86400 };
/** netifd reports a DHCP interface up once odhcpc has its lease, a moment after the static ones. */
const DHCP_LEASE_DELAY_MS = 2000;

export interface RouteEntry {
  target: string;
  mask: number;
  nexthop: string;
  source?: string;
}

/** What `ubus call network.interface dump` shows for an interface, beyond the common contract. */
export interface InterfaceDetail extends InterfaceStatus {
  pending: boolean;
  available: boolean;
  autostart: boolean;
  uptime: number;
  /** What the protocol handler reported since it came up; empty for `none`, which never reports. */
  updated: string[];
  routes: RouteEntry[];
  dnsServers: string[];
  dnsSearch: string[];
  data: Record<string, string | number>;
}

/** Link counters in the order netifd prints them. */
export const STATISTICS_KEYS = [
  "collisions",
  "rx_frame_errors",
  "tx_compressed",
  "multicast",
  "rx_length_errors",
  "tx_dropped",
  "rx_bytes",
  "rx_missed_errors",
  "tx_errors",
  "rx_compressed",
  "rx_over_errors",
  "tx_fifo_errors",
  "rx_crc_errors",
  "rx_packets",
  "tx_heartbeat_errors",
  "rx_dropped",
  "tx_aborted_errors",
  "tx_packets",
  "rx_errors",
  "tx_bytes",
  "tx_window_errors",
  "rx_fifo_errors",
  "tx_carrier_errors",
] as const;
export type DeviceStatistics = Record<(typeof STATISTICS_KEYS)[number], number>;

export interface NetifdOptions {
  /** Milliseconds clock behind interface uptimes (default Date.now). */
  clock?: () => number;
  /** DHCP leases by interface name; by default the address is derived from the device's MAC. */
  leases?: Record<string, string>;
  /** Link counters by device name (default all zero). */
  statistics?: Record<string, Partial<DeviceStatistics>>;
}

interface BridgeConfig {
  name: string;
  ports: string[];
  stp: boolean;
  igmpSnooping: boolean;
}

interface InterfaceConfig {
  name: string;
  proto: string;
  device?: string;
  auto: boolean;
  ipv4: { address: string; mask: number }[];
  gateway?: string;
  dns: string[];
  ip6assign?: number;
}

interface NetworkConfig {
  ulaPrefix?: string;
  bridges: BridgeConfig[];
  interfaces: InterfaceConfig[];
}

/**
 * netifd as the rest of the simulator sees it: interfaces and bridges brought up from the committed
 * /etc/config/network (never staged uci changes, which netifd does not read) when `reload()` runs —
 * at boot and on `ubus call network reload`.
 */
export class SimNetifd implements Netifd {
  private config: NetworkConfig = { bridges: [], interfaces: [] };
  private readonly upSince = new Map<string, number>();
  private readonly manuallyDown = new Set<string>();

  constructor(
    readonly profile: Profile,
    private readonly fs: RouterFs,
    private readonly options: NetifdOptions = {},
  ) {}

  /** Re-reads the committed config and restarts every interface from it (uptimes restart, `ifdown`s are forgotten). */
  reload(): void {
    this.config = readNetworkConfig(this.fs);
    this.manuallyDown.clear();
    this.upSince.clear();
    const now = this.now();
    for (const iface of this.config.interfaces) this.upSince.set(iface.name, startOf(iface, now));
  }

  /** `ubus call network.interface.<name> up`; false when there is no such interface. */
  ifup(name: string): boolean {
    const iface = this.config.interfaces.find((i) => i.name === name);
    if (!iface) return false;
    if (this.manuallyDown.delete(name)) this.upSince.set(name, startOf(iface, this.now()));
    return true;
  }

  /** `ubus call network.interface.<name> down`; false when there is no such interface. */
  ifdown(name: string): boolean {
    if (!this.config.interfaces.some((i) => i.name === name)) return false;
    this.manuallyDown.add(name);
    return true;
  }

  devices(): DeviceSpec[] {
    const bridges = this.config.bridges.map((b) => this.bridgeSpec(b));
    const bridgeNames = new Set(bridges.map((b) => b.name));
    const others = this.profile.devices.filter((d) => d.devtype !== "bridge" && !bridgeNames.has(d.name));
    return [...others, ...bridges].sort(byName);
  }

  device(name: string): DeviceSpec | undefined {
    return this.devices().find((d) => d.name === name);
  }

  interfaces(): InterfaceDetail[] {
    const present = new Set(["lo", ...this.devices().map((d) => d.name)]);
    const now = this.now();
    let assignments = 0;
    return this.config.interfaces.map((cfg) => {
      const available = cfg.device !== undefined && present.has(cfg.device);
      const wanted = available && cfg.auto && !this.manuallyDown.has(cfg.name);
      const base = {
        interface: cfg.name,
        proto: cfg.proto,
        device: cfg.device,
        available,
        autostart: cfg.auto,
        ipv4: [],
        ipv6: [],
        ipv6PrefixAssignment: [],
        updated: [],
        routes: [],
        dnsServers: [],
        dnsSearch: [],
        data: {},
      };
      if (!wanted || !["static", "dhcp", "none"].includes(cfg.proto)) {
        // dhcpv6, pppoe and the like keep waiting for an upstream that never answers.
        return { ...base, up: false, pending: wanted, uptime: 0 };
      }
      const up: InterfaceDetail = {
        ...base,
        up: true,
        pending: false,
        l3_device: cfg.device,
        uptime: Math.max(0, Math.floor((now - (this.upSince.get(cfg.name) ?? now)) / 1000)),
      };
      if (cfg.proto === "static") {
        up.ipv4 = cfg.ipv4;
        up.updated = cfg.gateway ? ["addresses", "routes"] : ["addresses"];
        if (cfg.gateway) up.routes = [{ target: "0.0.0.0", mask: 0, nexthop: cfg.gateway }];
        up.dnsServers = cfg.dns;
        if (cfg.ip6assign !== undefined && this.config.ulaPrefix) {
          up.ipv6PrefixAssignment = [assignPrefix(this.config.ulaPrefix, cfg.ip6assign, assignments++)];
        }
      } else if (cfg.proto === "dhcp") {
        const address = this.options.leases?.[cfg.name] ?? leaseFor(this.device(cfg.device!)?.macaddr ?? "");
        up.ipv4 = [{ address, mask: 24 }];
        up.updated = ["addresses", "routes", "data"];
        up.routes = [{ target: "0.0.0.0", mask: 0, nexthop: UPSTREAM.gateway, source: `${address}/32` }];
        up.dnsServers = [UPSTREAM.gateway];
        up.dnsSearch = [UPSTREAM.dnsSearch];
        up.data = { dhcpserver: UPSTREAM.gateway, leasetime: UPSTREAM.leasetime };
      }
      return up;
    });
  }

  /**
   * `ubus call network.device status`: every present device netifd manages (the ones the config
   * refers to, the lower devices of referenced VLANs, and lo), keyed by name; or one device's table,
   * undefined when netifd does not know the name.
   */
  deviceStatus(hwTcOffload: ReadonlyMap<string, boolean>, name?: string): BlobTable | undefined {
    const known = this.knownDevices();
    if (name !== undefined) return known.has(name) ? this.deviceTable(name, hwTcOffload) : undefined;
    const all = new Map<string, BlobValue>();
    for (const dev of [...known].sort()) {
      if (dev === "lo" || this.device(dev)) all.set(dev, this.deviceTable(dev, hwTcOffload));
    }
    return all;
  }

  private knownDevices(): Set<string> {
    const known = new Set(["lo"]);
    const claim = (dev: string) => {
      if (known.has(dev)) return;
      known.add(dev);
      const bridge = this.config.bridges.find((b) => b.name === dev);
      const spec = this.device(dev);
      // netifd brings up a VLAN's parent itself; a DSA port's conduit is the kernel's business.
      const lowers = bridge?.ports ?? (spec?.devtype === "vlan" ? spec.lower : undefined) ?? [];
      for (const lower of lowers) claim(lower);
    };
    for (const iface of this.config.interfaces) if (iface.device) claim(iface.device);
    for (const bridge of this.config.bridges) claim(bridge.name);
    return known;
  }

  /** Devices that carry an interface which is up or being set up (bridge ports and VLAN parents too). */
  private activeDevices(): Set<string> {
    const active = new Set(["lo"]);
    const activate = (dev: string) => {
      if (active.has(dev) || !this.device(dev)) return;
      active.add(dev);
      for (const lower of this.device(dev)?.lower ?? []) activate(lower);
    };
    for (const iface of this.interfaces()) if ((iface.up || iface.pending) && iface.device) activate(iface.device);
    return active;
  }

  private deviceTable(name: string, hwTcOffload: ReadonlyMap<string, boolean>): BlobTable {
    const spec = this.device(name);
    const bridge = this.config.bridges.find((b) => b.name === name);
    const table = new Map<string, BlobValue>([
      ["external", false],
      ["present", name === "lo" || spec !== undefined],
      ["type", typeName(spec)],
    ]);
    if (name !== "lo" && !spec) return table;
    const up = this.activeDevices().has(name);
    table.set("up", up);
    table.set("carrier", up);
    table.set("auth_status", false);
    if (spec) {
      for (const [k, v] of Object.entries(this.linkInfo(spec))) table.set(k, v);
      table.set("hw-tc-offload", hwTcOffload.get(name) === true);
      table.set("devtype", spec.devtype);
    }
    if (bridge) {
      table.set("bridge-members", [...bridge.ports].sort());
      table.set("bridge-attributes", bridgeAttributes(bridge));
    }
    if (up) {
      const loopback = name === "lo";
      const bridgePort = this.config.bridges.some((b) => b.ports.includes(name));
      const settings: [string, BlobValue][] = [
        ["mtu", loopback ? 65536 : 1500],
        ["mtu6", loopback ? 65536 : 1500],
        ["macaddr", spec?.macaddr ?? "00:00:00:00:00:00"],
        ["txqueuelen", 1000],
        ["ipv6", !bridgePort],
        ["ip6segmentrouting", false],
        ["promisc", false],
        ["rpfilter", 0],
        ["acceptlocal", false],
        ["igmpversion", 0],
        ["mldversion", 0],
        ["neigh4reachabletime", 30000],
        ["neigh6reachabletime", 30000],
        ["neigh4gcstaletime", 60],
        ["neigh6gcstaletime", 60],
        ["neigh4locktime", 100],
        ["dadtransmits", 1],
        ["multicast", !loopback],
        ["sendredirects", true],
        ["drop_v4_unicast_in_l2_multicast", false],
        ["drop_v6_unicast_in_l2_multicast", false],
        ["drop_gratuitous_arp", false],
        ["drop_unsolicited_na", false],
        ["arp_accept", false],
        // virtio NICs come up with GRO off; bridges, loopback and SoC MACs with it on.
        ["gro", !(this.virtualNics() && (spec?.devtype === "ethernet" || spec?.devtype === "dsa"))],
      ];
      for (const [k, v] of settings) table.set(k, v);
    }
    const counters = this.options.statistics?.[name] ?? {};
    table.set("statistics", new Map(STATISTICS_KEYS.map((k) => [k, counters[k] ?? 0])));
    return table;
  }

  /** What netifd reads through ethtool: virtio and bridges report no link modes, SoC ports gigabit autoneg. */
  private linkInfo(spec: DeviceSpec): Record<string, BlobValue> {
    const physical = !this.virtualNics() && spec.devtype !== "bridge";
    const modes = physical ? ["10baseT-H", "10baseT-F", "100baseT-H", "100baseT-F", "1000baseT-F"] : [];
    const pause = physical ? ["rx", "tx"] : [];
    return {
      "link-advertising": modes,
      "link-partner-advertising": modes,
      "link-supported": modes,
      speed: this.virtualNics() ? "10000F" : "1000F",
      autoneg: physical,
      "flow-control": {
        autoneg: true,
        supported: pause,
        "link-advertising": pause,
        "link-partner-advertising": pause,
        negotiated: pause,
      },
    };
  }

  /** x86 images run as VMs with virtio NICs. */
  private virtualNics(): boolean {
    return this.profile.release.target.startsWith("x86/");
  }

  private bridgeSpec(bridge: BridgeConfig): DeviceSpec {
    const fromProfile = this.profile.devices.find((d) => d.name === bridge.name && d.devtype === "bridge");
    const ports = bridge.ports.filter((p) => this.profile.devices.some((d) => d.name === p && d.devtype !== "bridge"));
    const firstPort = this.profile.devices.find((d) => d.name === ports[0]);
    return {
      name: bridge.name,
      devtype: "bridge",
      macaddr: fromProfile?.macaddr ?? firstPort?.macaddr ?? "00:00:00:00:00:00",
      lower: ports,
      hwTcOffload: fromProfile?.hwTcOffload ?? "fixed",
    };
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }
}

/** `ubus call network.interface dump`, as printed. */
export function renderInterfaceDump(interfaces: readonly InterfaceDetail[]): string {
  return `${formatBlobmsg(interfaceDumpTable(interfaces), true)}\n`;
}

/** `ubus call network.device status [{"name": ...}]`, as printed; undefined for a device netifd does not know. */
export function renderDeviceStatus(netifd: SimNetifd, hwTcOffload: ReadonlyMap<string, boolean>, name?: string): string | undefined {
  const table = netifd.deviceStatus(hwTcOffload, name);
  return table && `${formatBlobmsg(table, true)}\n`;
}

export function interfaceDumpTable(interfaces: readonly InterfaceDetail[]): BlobTable {
  return { interface: interfaces.map((i) => interfaceStatusTable(i, true)) };
}

/** One interface's status; `withName` is what the dump adds in front of each entry. */
export function interfaceStatusTable(iface: InterfaceDetail, withName = false): BlobTable {
  const t = new Map<string, BlobValue>();
  if (withName) t.set("interface", iface.interface);
  t.set("up", iface.up);
  t.set("pending", iface.pending);
  t.set("available", iface.available);
  t.set("autostart", iface.autostart);
  t.set("dynamic", false);
  if (iface.up) {
    t.set("uptime", iface.uptime);
    if (iface.l3_device) t.set("l3_device", iface.l3_device);
  }
  t.set("proto", iface.proto);
  if (iface.device) t.set("device", iface.device);
  if (iface.up) {
    if (iface.updated.length > 0) t.set("updated", iface.updated);
    t.set("metric", 0);
    t.set("dns_metric", 0);
    t.set("delegation", true);
    t.set("ipv4-address", iface.ipv4.map((a) => ({ address: a.address, mask: a.mask })));
    t.set("ipv6-address", iface.ipv6.map((a) => ({ address: a.address, mask: a.mask })));
    t.set("ipv6-prefix", []);
    t.set(
      "ipv6-prefix-assignment",
      iface.ipv6PrefixAssignment.map((p) => ({
        address: p.address,
        mask: p.mask,
        "local-address": { address: formatIpv6(parseIpv6(p.address) + 1n), mask: p.mask },
      })),
    );
    t.set("route", iface.routes.map(routeTable));
    t.set("dns-server", iface.dnsServers);
    t.set("dns-search", iface.dnsSearch);
    t.set("neighbors", []);
    t.set("inactive", {
      "ipv4-address": [],
      "ipv6-address": [],
      route: [],
      "dns-server": [],
      "dns-search": [],
      neighbors: [],
    });
  }
  t.set("data", iface.data);
  return t;
}

function routeTable(r: RouteEntry): BlobTable {
  const t: Record<string, BlobValue> = { target: r.target, mask: r.mask, nexthop: r.nexthop };
  if (r.source) t.source = r.source;
  return t;
}

function typeName(spec: DeviceSpec | undefined): string {
  if (spec?.devtype === "bridge") return "bridge";
  // Implicit `eth0.1` devices come from netifd's VLAN device type.
  if (spec?.devtype === "vlan") return "VLAN";
  return "Network device";
}

function bridgeAttributes(bridge: BridgeConfig): BlobTable {
  return {
    stp: bridge.stp,
    forward_delay: 8,
    priority: 32767,
    ageing_time: 0,
    hello_time: 1,
    max_age: 10,
    igmp_snooping: bridge.igmpSnooping,
    bridge_empty: false,
    multicast_querier: false,
    hash_max: 512,
    robustness: 2,
    query_interval: 12500,
    query_response_interval: 1000,
    last_member_interval: 100,
    vlan_filtering: false,
    stp_kernel: false,
  };
}

function startOf(iface: InterfaceConfig, now: number): number {
  return iface.proto === "dhcp" ? now + DHCP_LEASE_DELAY_MS : now;
}

/** A stable lease per WAN MAC, so two routers never share an address. */
function leaseFor(macaddr: string): string {
  const bytes = macaddr.split(":").map((b) => parseInt(b, 16) || 0);
  const host = 2 + (((bytes[4] ?? 0) * 256 + (bytes[5] ?? 0)) % 253);
  return `${UPSTREAM.prefix}.${host}`;
}

/** The n-th /ip6assign subnet of the ULA prefix, in interface order. */
function assignPrefix(ulaPrefix: string, length: number, index: number): { address: string; mask: number } {
  const [base] = ulaPrefix.split("/");
  return { address: formatIpv6(parseIpv6(base) + (BigInt(index) << BigInt(128 - length))), mask: length };
}

function readNetworkConfig(fs: RouterFs): NetworkConfig {
  const text = fs.tryReadText("/etc/config/network");
  if (text === undefined) return { bridges: [], interfaces: [] };
  let sections: UciSection[];
  try {
    sections = parseConfig(text, "network").sections;
  } catch {
    // netifd keeps nothing up from a config it cannot parse.
    return { bridges: [], interfaces: [] };
  }
  const bridges: BridgeConfig[] = [];
  const interfaces: InterfaceConfig[] = [];
  let ulaPrefix: string | undefined;
  for (const s of sections) {
    if (s.type === "globals") ulaPrefix = option(s, "ula_prefix") ?? ulaPrefix;
    if (s.type === "device" && option(s, "type") === "bridge" && option(s, "name")) {
      bridges.push({
        name: option(s, "name")!,
        ports: list(s, "ports"),
        stp: option(s, "stp") === "1",
        igmpSnooping: option(s, "igmp_snooping") === "1",
      });
    }
  }
  for (const s of sections) {
    if (s.type !== "interface" || option(s, "disabled") === "1") continue;
    let device = option(s, "device");
    // Pre-21.02 syntax: the interface itself declares the bridge and its ports.
    if (!device && option(s, "type") === "bridge") {
      device = `br-${s.name}`;
      if (!bridges.some((b) => b.name === device)) {
        bridges.push({ name: device, ports: list(s, "ifname"), stp: false, igmpSnooping: false });
      }
    } else if (!device) {
      device = list(s, "ifname")[0];
    }
    interfaces.push({
      name: s.name,
      proto: option(s, "proto") ?? "none",
      device,
      auto: option(s, "auto") !== "0",
      ipv4: ipv4Addresses(s),
      gateway: option(s, "gateway"),
      dns: list(s, "dns"),
      ip6assign: option(s, "ip6assign") === undefined ? undefined : Number(option(s, "ip6assign")),
    });
  }
  interfaces.sort(byName);
  return { ulaPrefix, bridges, interfaces };
}

function ipv4Addresses(s: UciSection): { address: string; mask: number }[] {
  const netmask = option(s, "netmask");
  return list(s, "ipaddr").map((entry) => {
    const [address, prefix] = entry.split("/");
    if (prefix !== undefined) return { address, mask: Number(prefix) };
    return { address, mask: netmask ? netmaskToPrefix(netmask) : 32 };
  });
}

function option(s: UciSection, key: string): string | undefined {
  const v = s.options.get(key);
  return Array.isArray(v) ? v.join(" ") : v;
}

/** netifd takes a list option or a whitespace-separated option interchangeably. */
function list(s: UciSection, key: string): string[] {
  const v = s.options.get(key);
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : v.split(/\s+/)).filter((x) => x.length > 0);
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
