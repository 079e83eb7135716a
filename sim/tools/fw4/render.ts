import type { UciPackage, UciSection, UciValue } from "../uci/model";
import type { DeviceSpec, InterfaceStatus } from "../../types";
import { type Subnet, cidr, parseSubnet } from "./addr";

/**
 * Which firewall4 code renders (openwrt-behaviour.md §2.2, §2.7):
 * - "2203": no flowtable `counter`; lower devices for SW; for HW only lower devices with hw-tc-offload;
 * - "2305": as firewall4 in OpenWrt 23.05.4: lower devices for SW, all lower devices for HW, `counter`;
 * - "master": zone devices for SW, all lower devices for HW, conntrack vmaps, `iif`/`oif "lo"`.
 */
export type Fw4Flavor = "2203" | "2305" | "master";

export interface Fw4Include {
  position: string;
  chain?: string;
  path: string;
}

export interface Fw4RenderInput {
  flavor: Fw4Flavor;
  /** The effective firewall config (committed file plus staged deltas); undefined when it is missing. */
  config: UciPackage | undefined;
  /** `ubus call network.interface dump`. */
  interfaces: InterfaceStatus[];
  /** Devices present on the router (`/sys/class/net`) with netifd's devtype and lower devices. */
  devices: DeviceSpec[];
  /** netifd's `hw-tc-offload` per device (only firewall4 2022 code looks at it). */
  hwTcOffload(device: string): boolean;
  /** Whether the kernel currently has `inet fw4` flowtable `ft` (fw4 then deletes it before redefining it). */
  flowtableLoaded: boolean;
  /** fw4's `nft -c` probe: would the kernel take an offload flowtable on these devices? */
  hwOffloadProbe(devices: string[]): boolean;
  /** Files under /usr/share/nftables.d picked up by `auto_includes`. */
  autoIncludes: Fw4Include[];
}

/** What `fw4 start` records in /var/run/fw4.state (and `fw4 network|device|zone` read back). */
export interface Fw4State {
  zones: { name: string; network: { device: string }[]; devices: string[] }[];
  includes: { type: string; path: string; position?: string; chain?: string }[];
}

export interface Fw4Render {
  ruleset: string;
  /** Warnings without fw4's `[!] ` prefix. */
  warnings: string[];
  state: Fw4State;
}

// ---------------------------------------------------------------------------------------------
// fw4 value parsers (fw4.uc parse_*): null means "invalid value".

type Family = 0 | 4 | 6;

function parseBool(v: string): boolean | null {
  if (["1", "on", "true", "yes"].includes(v)) return true;
  if (["0", "off", "false", "no"].includes(v)) return false;
  return null;
}

function parseEnum(v: string, choices: string[]): string | null {
  const lc = v.toLowerCase();
  return choices.find((c) => c.slice(0, lc.length).toLowerCase() === lc && lc.length > 0) ?? null;
}

const parsePolicy = (v: string) => parseEnum(v, ["accept", "reject", "drop"]);

function parseFamily(v: string): Family | null {
  if (v === "any" || v === "all" || v === "*") return 0;
  if (v === "inet" || v.includes("4")) return 4;
  if (v.includes("6")) return 6;
  return null;
}

function parseLimit(v: string): { rate: number; unit: string } | null {
  const m = /^([0-9]+)(\/([a-z]+))?$/.exec(v.replace(/^\s*!/, "").trim());
  if (!m) return null;
  const unit = m[3] ? parseEnum(m[3], ["second", "minute", "hour", "day"]) : "second";
  return unit ? { rate: Number(m[1]), unit } : null;
}

function parseInvert(v: string): { invert: boolean; val: string } | null {
  const invert = /^[ \t]*!/.test(v);
  const val = v.replace(/^[ \t]*!/, "").trim();
  return val.length ? { invert, val } : null;
}

interface Proto {
  any?: boolean;
  name?: string;
  invert?: boolean;
}

function parseProtocol(v: string): Proto[] | null {
  const p = parseInvert(v);
  if (!p) return null;
  const val = p.val.toLowerCase();
  switch (val) {
    case "all":
    case "any":
    case "*":
      return [{ any: true, invert: p.invert }];
    case "1":
    case "icmp":
      return [{ name: "icmp", invert: p.invert }];
    case "58":
    case "icmpv6":
    case "ipv6-icmp":
      return [{ name: "ipv6-icmp", invert: p.invert }];
    case "tcpudp":
      return [
        { name: "tcp", invert: p.invert },
        { name: "udp", invert: p.invert },
      ];
    case "6":
      return [{ name: "tcp", invert: p.invert }];
    case "17":
      return [{ name: "udp", invert: p.invert }];
    default:
      return [{ name: val, invert: p.invert }];
  }
}

interface Port {
  invert: boolean;
  min: number;
  max: number;
}

function parsePort(v: string): Port | null {
  const p = parseInvert(v);
  const m = p ? /^([0-9]{1,5})([-:]([0-9]{1,5}))?$/.exec(p.val) : null;
  if (!p || !m) return null;
  const min = Number(m[1]);
  const max = m[3] ? Number(m[3]) : min;
  if (min > max || max > 65535) return null;
  return { invert: p.invert, min, max };
}

const portText = (p: Port) => (p.min === p.max ? `${p.min}` : `${p.min}-${p.max}`);

/** [type, code_min, code_max] as firewall4 23.05 tables them. */
const ICMP4: Record<string, [number, number, number]> = {
  any: [0xff, 0, 0xff],
  "echo-reply": [0, 0, 0xff],
  pong: [0, 0, 0xff],
  "destination-unreachable": [3, 0, 0xff],
  "network-unreachable": [3, 0, 0],
  "host-unreachable": [3, 1, 1],
  "protocol-unreachable": [3, 2, 2],
  "port-unreachable": [3, 3, 3],
  "fragmentation-needed": [3, 4, 4],
  "source-route-failed": [3, 5, 5],
  "network-unknown": [3, 6, 6],
  "host-unknown": [3, 7, 7],
  "network-prohibited": [3, 9, 9],
  "host-prohibited": [3, 10, 10],
  "TOS-network-unreachable": [3, 11, 11],
  "TOS-host-unreachable": [3, 12, 12],
  "communication-prohibited": [3, 13, 13],
  "host-precedence-violation": [3, 14, 14],
  "precedence-cutoff": [3, 15, 15],
  "source-quench": [4, 0, 0xff],
  redirect: [5, 0, 0xff],
  "network-redirect": [5, 0, 0],
  "host-redirect": [5, 1, 1],
  "TOS-network-redirect": [5, 2, 2],
  "TOS-host-redirect": [5, 3, 3],
  "echo-request": [8, 0, 0xff],
  ping: [8, 0, 0xff],
  "router-advertisement": [9, 0, 0xff],
  "router-solicitation": [10, 0, 0xff],
  "time-exceeded": [11, 0, 0xff],
  "ttl-exceeded": [11, 0, 0xff],
  "ttl-zero-during-transit": [11, 0, 0],
  "ttl-zero-during-reassembly": [11, 1, 1],
  "parameter-problem": [12, 0, 0xff],
  "ip-header-bad": [12, 0, 0],
  "required-option-missing": [12, 1, 1],
  "timestamp-request": [13, 0, 0xff],
  "timestamp-reply": [14, 0, 0xff],
  "address-mask-request": [17, 0, 0xff],
  "address-mask-reply": [18, 0, 0xff],
};

const ICMP6: Record<string, [number, number, number]> = {
  "destination-unreachable": [1, 0, 0xff],
  "no-route": [1, 0, 0],
  "communication-prohibited": [1, 1, 1],
  "address-unreachable": [1, 3, 3],
  "port-unreachable": [1, 4, 4],
  "packet-too-big": [2, 0, 0],
  "time-exceeded": [3, 0, 0xff],
  "ttl-exceeded": [3, 0, 0xff],
  "ttl-zero-during-transit": [3, 0, 0],
  "ttl-zero-during-reassembly": [3, 1, 1],
  "parameter-problem": [4, 0, 0xff],
  "bad-header": [4, 0, 0],
  "unknown-header-type": [4, 1, 1],
  "unknown-option": [4, 2, 2],
  "echo-request": [128, 0, 0xff],
  ping: [128, 0, 0xff],
  "echo-reply": [129, 0, 0xff],
  pong: [129, 0, 0xff],
  "router-solicitation": [133, 0, 0xff],
  "router-advertisement": [134, 0, 0xff],
  "neighbour-solicitation": [135, 0, 0],
  "neighbor-solicitation": [135, 0, 0],
  "neighbour-advertisement": [136, 0, 0],
  "neighbor-advertisement": [136, 0, 0],
  redirect: [137, 0, 0xff],
};

interface IcmpType {
  family: Family;
  type?: number;
  codeMin?: number;
  codeMax?: number;
  type6?: number;
  code6Min?: number;
  code6Max?: number;
}

function parseIcmpType(v: string): IcmpType | null {
  const rv: IcmpType = { family: 0 };
  const v4 = ICMP4[v];
  const v6 = ICMP6[v];
  if (v4) [rv.family, rv.type, rv.codeMin, rv.codeMax] = [4, ...v4];
  if (v6) {
    rv.family = v4 ? 0 : 6;
    [rv.type6, rv.code6Min, rv.code6Max] = v6;
  }
  if (v4 || v6) return rv;
  const m = /^([0-9]+)(\/([0-9]+))?$/.exec(v);
  if (!m) return null;
  const type = Number(m[1]);
  const [min, max] = m[3] ? [Number(m[3]), Number(m[3])] : [0, 0xff];
  if (type > 0xff || min > 0xff) return null;
  return { family: 0, type, codeMin: min, codeMax: max, type6: type, code6Min: min, code6Max: max };
}

/** fw4.quote(): bare only for address/number-like strings. */
function quote(s: string, force = false): string {
  if (force || !/^([0-9A-Fa-f:./-]+)( \. [0-9A-Fa-f:./-]+)*$/.test(s)) return `"${s.replace(/"/g, "'")}"`;
  return s;
}

/** fw4.set(): deduplicated; braces unless exactly one item (or forced). */
function nftSet(items: (string | number)[], force = false): string {
  const seen = new Set<string>();
  const v = items.map(String).filter((i) => !seen.has(i) && seen.add(i));
  if (force || v.length !== 1) return `{ ${v.map((i) => quote(i)).join(", ")} }`;
  return quote(v[0]);
}

const nfproto = (f: Family) => (f === 4 ? "ipv4" : f === 6 ? "ipv6" : "");
const nfprotoHuman = (f: Family) => (f === 4 ? "IPv4" : f === 6 ? "IPv6" : "IPv4/IPv6");
const ipproto = (f: Family) => (f === 4 ? "ip" : "ip6");

// ---------------------------------------------------------------------------------------------
// The parsed configuration.

interface Defaults {
  input?: string;
  output?: string;
  forward?: string;
  drop_invalid?: boolean;
  synflood_protect?: boolean;
  synflood_rate?: { rate: number; unit: string };
  synflood_burst?: number;
  tcp_reject_code?: string;
  any_reject_code?: string;
  flow_offloading?: boolean;
  flow_offloading_hw?: boolean;
  auto_includes?: boolean;
  auto_helper?: boolean;
}

interface MatchRule {
  family: Family;
  devicesPos?: string[];
  devicesNeg?: string[];
  devicesNegWildcard?: string[];
  subnetsPos?: string[];
  subnetsNeg?: string[];
}

interface Zone {
  name: string;
  family: Family;
  input: string;
  output: string;
  forward: string;
  masq: boolean;
  masq6: boolean;
  masqAllowInvalid: boolean;
  mtuFix: boolean;
  log: number;
  counter: boolean;
  networks: string[];
  matchRules: MatchRule[];
  matchDevices: string[];
  matchSubnets: string[];
  relatedPhysdevs: string[];
  sflags: Set<string>;
  dflags: Set<string>;
}

interface Rule {
  chain: string;
  name: string;
  family: Family;
  proto: Proto;
  hasAddrs: boolean;
  hasPorts: boolean;
  saddrsPos?: string[];
  saddrsNeg?: string[];
  daddrsPos?: string[];
  daddrsNeg?: string[];
  sportsPos?: string[];
  sportsNeg?: string[];
  dportsPos?: string[];
  dportsNeg?: string[];
  smacsPos?: string[];
  smacsNeg?: string[];
  icmpTypes?: number[];
  icmpCodes?: string[];
  limit?: { rate: number; unit: string };
  limitBurst?: number;
  counter: boolean;
  log?: string;
  target?: string;
  jumpChain?: string;
  iifnames?: string[];
  oifnames?: string[];
}

type OptionKind = "string" | "bool" | "policy" | "family" | "limit" | "int" | "list" | "reject_code";

/** Options fw4 knows per section type; the ones it does not support still count as known. */
const KNOWN: Record<string, Record<string, OptionKind>> = {
  defaults: {
    input: "policy",
    output: "policy",
    forward: "policy",
    drop_invalid: "bool",
    drop_invalid_early: "bool",
    tcp_reject_code: "reject_code",
    any_reject_code: "reject_code",
    syn_flood: "bool",
    synflood_protect: "bool",
    synflood_rate: "limit",
    synflood_burst: "int",
    tcp_syncookies: "bool",
    tcp_ecn: "int",
    tcp_window_scaling: "bool",
    accept_redirects: "bool",
    accept_source_route: "bool",
    auto_helper: "bool",
    custom_chains: "bool",
    disable_ipv6: "bool",
    flow_offloading: "bool",
    flow_offloading_hw: "bool",
    flow_offloading_related: "bool",
    auto_includes: "bool",
  },
  zone: {
    enabled: "bool",
    name: "string",
    family: "family",
    network: "list",
    device: "list",
    subnet: "list",
    input: "policy",
    output: "policy",
    forward: "policy",
    masq: "bool",
    masq_allow_invalid: "bool",
    masq_src: "list",
    masq_dest: "list",
    masq6: "bool",
    extra: "string",
    extra_src: "string",
    extra_dest: "string",
    mtu_fix: "bool",
    custom_chains: "bool",
    log: "int",
    log_limit: "limit",
    auto_helper: "bool",
    helper: "list",
    counter: "bool",
  },
  forwarding: { enabled: "bool", name: "string", family: "family", src: "string", dest: "string" },
  rule: {
    enabled: "bool",
    name: "string",
    _name: "string",
    family: "family",
    src: "string",
    dest: "string",
    device: "string",
    direction: "string",
    ipset: "string",
    helper: "string",
    set_helper: "string",
    proto: "list",
    src_ip: "list",
    src_mac: "list",
    src_port: "list",
    dest_ip: "list",
    dest_port: "list",
    icmp_type: "list",
    extra: "string",
    limit: "limit",
    limit_burst: "int",
    utc_time: "bool",
    start_date: "string",
    stop_date: "string",
    start_time: "string",
    stop_time: "string",
    weekdays: "string",
    monthdays: "string",
    mark: "string",
    set_mark: "string",
    set_xmark: "string",
    dscp: "string",
    set_dscp: "string",
    counter: "bool",
    log: "string",
    log_limit: "limit",
    target: "string",
  },
  include: { enabled: "bool", path: "string", type: "string", position: "string", chain: "string", fw4_compatible: "bool", reload: "bool" },
};

const UNSUPPORTED = new Set(["defaults.custom_chains", "defaults.disable_ipv6", "zone.extra", "zone.extra_src", "zone.extra_dest", "zone.custom_chains", "rule.extra", "rule.monthdays"]);

class Fw4Model {
  readonly warnings: string[] = [];
  defaults: Defaults = {};
  readonly zones: Zone[] = [];
  readonly rules: Rule[] = [];
  readonly includes: Fw4State["includes"] = [];
  private readonly networks = new Map<string, InterfaceStatus>();
  private defaultsSeen = false;

  constructor(private readonly input: Fw4RenderInput) {
    for (const ifc of input.interfaces) this.networks.set(ifc.interface, ifc);
    const sections = input.config?.sections ?? [];
    for (const s of sections.filter((x) => x.type === "defaults")) this.parseDefaults(s);
    if (!this.defaultsSeen) this.defaults = this.applyDefaults({});
    for (const s of sections.filter((x) => x.type === "zone")) this.parseZone(s);
    for (const s of sections.filter((x) => x.type === "rule")) this.parseRule(s);
    for (const s of sections.filter((x) => x.type === "forwarding")) this.parseForwarding(s);
    for (const s of sections.filter((x) => x.type === "include")) this.parseInclude(s);
    if (this.defaults.auto_includes) for (const inc of input.autoIncludes) this.includes.push({ type: "nftables", ...inc });
  }

  warn(msg: string): void {
    this.warnings.push(msg);
  }

  private sectionId(s: UciSection): string {
    if (!s.anonymous) return s.name;
    const sameType = (this.input.config?.sections ?? []).filter((x) => x.type === s.type);
    return `@${s.type}[${sameType.indexOf(s)}]`;
  }

  private warnSection(s: UciSection, msg: string): void {
    const name = s.options.get("name");
    this.warn(typeof name === "string" ? `Section ${this.sectionId(s)} (${name}) ${msg}` : `Section ${this.sectionId(s)} ${msg}`);
  }

  /**
   * fw4's parse_options: unknown options only warn; an invalid value (or a list where a single value
   * belongs) makes the whole section invalid.
   */
  private options(s: UciSection): Map<string, UciValue> | null {
    const known = KNOWN[s.type] ?? {};
    const out = new Map<string, UciValue>();
    let valid = true;
    for (const [opt, kind] of Object.entries(known)) {
      const val = s.options.get(opt);
      if (val === undefined) continue;
      if (kind !== "list" && Array.isArray(val)) {
        this.warnSection(s, `option '${opt}' must not be a list`);
        valid = false;
        continue;
      }
      const bad = (v: string) => {
        this.warnSection(s, `option '${opt}' specifies invalid value '${v}'`);
        valid = false;
      };
      if (typeof val === "string") {
        if (kind === "bool" && parseBool(val) === null) bad(val);
        else if (kind === "policy" && parsePolicy(val) === null) bad(val);
        else if (kind === "family" && parseFamily(val) === null) bad(val);
        else if (kind === "limit" && parseLimit(val) === null) bad(val);
        else if (kind === "int" && Number.isNaN(Number(val))) bad(val);
        else if (kind === "reject_code" && parseEnum(val, REJECT_CODES) === null) bad(val);
      }
      if (UNSUPPORTED.has(`${s.type}.${opt}`)) this.warnSection(s, `option '${opt}' is not supported by fw4`);
      else out.set(opt, val);
    }
    for (const opt of s.options.keys()) if (!(opt in known)) this.warnSection(s, `specifies unknown option '${opt}'`);
    return valid ? out : null;
  }

  private parseDefaults(s: UciSection): void {
    if (this.defaultsSeen) return this.warnSection(s, ": ignoring duplicate defaults section");
    this.defaultsSeen = true;
    const o = this.options(s);
    // An invalid defaults section leaves every default unset: policies then render empty.
    this.defaults = o ? this.applyDefaults(Object.fromEntries([...o].map(([k, v]) => [k, String(v)]))) : {};
  }

  private applyDefaults(o: Record<string, string>): Defaults {
    const bool = (k: string, d: string) => parseBool(o[k] ?? d) ?? false;
    const synflood = o.synflood_protect ?? o.syn_flood;
    return {
      input: parsePolicy(o.input ?? "drop") ?? undefined,
      output: parsePolicy(o.output ?? "drop") ?? undefined,
      forward: parsePolicy(o.forward ?? "drop") ?? undefined,
      drop_invalid: bool("drop_invalid", "0"),
      synflood_protect: synflood === undefined ? undefined : parseBool(synflood) ?? undefined,
      synflood_rate: parseLimit(o.synflood_rate ?? "25/second") ?? undefined,
      synflood_burst: Number(o.synflood_burst ?? "50"),
      tcp_reject_code: parseEnum(o.tcp_reject_code ?? "tcp-reset", REJECT_CODES) ?? undefined,
      any_reject_code: parseEnum(o.any_reject_code ?? "port-unreachable", REJECT_CODES) ?? undefined,
      flow_offloading: bool("flow_offloading", "0"),
      flow_offloading_hw: bool("flow_offloading_hw", "0"),
      auto_includes: bool("auto_includes", "1"),
      auto_helper: bool("auto_helper", "1"),
    };
  }

  private str(o: Map<string, UciValue>, k: string): string | undefined {
    const v = o.get(k);
    return typeof v === "string" ? v : undefined;
  }

  /** to_array(): lists stay lists, a string is split on whitespace. */
  private list(o: Map<string, UciValue>, k: string): string[] {
    const v = o.get(k);
    if (v === undefined) return [];
    return Array.isArray(v) ? v : v.trim() === "" ? [] : v.trim().split(/[ \t]+/);
  }

  private parseZone(s: UciSection): void {
    const o = this.options(s);
    const name = o ? this.str(o, "name") : undefined;
    if (o && name === undefined) this.warnSection(s, "option 'name' is mandatory but not set");
    if (!o || name === undefined || !/^[a-zA-Z_.][a-zA-Z0-9/_.-]*$/.test(name)) return this.warnSection(s, "skipped due to invalid options");
    if (parseBool(this.str(o, "enabled") ?? "1") === false) return this.warnSection(s, "is disabled, ignoring section");
    const bool = (k: string, d = "0") => parseBool(this.str(o, k) ?? d) === true;
    const policy = (k: string, d: string | undefined) => parsePolicy(this.str(o, k) ?? d ?? "") ?? "";
    const zone: Zone = {
      name,
      family: parseFamily(this.str(o, "family") ?? "any") ?? 0,
      input: policy("input", this.defaults.input),
      output: policy("output", this.defaults.output),
      forward: policy("forward", this.defaults.forward),
      masq: bool("masq"),
      masq6: bool("masq6"),
      masqAllowInvalid: bool("masq_allow_invalid"),
      mtuFix: bool("mtu_fix"),
      log: Number(this.str(o, "log") ?? "0") || 0,
      counter: bool("counter", "1"),
      networks: [],
      matchRules: [],
      matchDevices: [],
      matchSubnets: [],
      relatedPhysdevs: [],
      sflags: new Set(),
      dflags: new Set(),
    };
    const matchDevices: { device: string; invert: boolean }[] = [];
    const relatedSubnets: Subnet[] = [];
    for (const raw of this.list(o, "network")) {
      const e = parseInvert(raw);
      if (!e) continue;
      zone.networks.push(e.val);
      const net = this.networks.get(e.val);
      if (!net) continue;
      const device = net.l3_device ?? net.device;
      if (device) matchDevices.push({ device, invert: e.invert });
      if (net.device && !e.invert) zone.relatedPhysdevs.push(net.device);
      relatedSubnets.push(...interfaceSubnets(net));
    }
    for (const raw of this.list(o, "device")) {
      const e = parseInvert(raw);
      if (e) matchDevices.push({ device: e.val, invert: e.invert });
    }
    const zoneSubnets = this.list(o, "subnet").flatMap((v) => {
      const inv = parseInvert(v);
      const sub = inv && parseSubnet(inv.val);
      return sub && inv ? [{ ...sub, invert: inv.invert }] : [];
    });
    relatedSubnets.push(...zoneSubnets);
    zone.matchRules = zoneMatchRules(zone.family, matchDevices, zoneSubnets);
    zone.sflags.add(zone.input);
    zone.dflags.add(zone.output);
    zone.dflags.add(zone.forward);
    zone.matchDevices = matchDevices.filter((d) => !d.invert).map((d) => d.device);
    zone.matchSubnets = relatedSubnets.map(cidr);
    if (zone.masq || zone.masq6) zone.dflags.add("snat");
    const autoHelper = this.defaults.auto_helper !== false && bool("auto_helper", "1");
    if (autoHelper && !(zone.masq || zone.masq6)) zone.dflags.add("helper");
    this.zones.push(zone);
  }

  private zoneRef(v: string | undefined): { any: true } | { any: false; zone: Zone } | null | undefined {
    if (v === undefined) return undefined;
    if (v === "*") return { any: true };
    const zone = this.zones.find((z) => z.name === v);
    return zone ? { any: false, zone } : null;
  }

  private parseForwarding(s: UciSection): void {
    const o = this.options(s);
    const src = o && this.zoneRef(this.str(o, "src"));
    const dest = o && this.zoneRef(this.str(o, "dest"));
    if (!o || !src || !dest) return this.warnSection(s, "skipped due to invalid options");
    if (parseBool(this.str(o, "enabled") ?? "1") === false) return this.warnSection(s, "is disabled, ignoring section");
    const family = this.inferFamily(s, parseFamily(this.str(o, "family") ?? "any") ?? 0, [
      [src.any ? undefined : src.zone.family, "source zone"],
      [dest.any ? undefined : dest.zone.family, "destination zone"],
    ]);
    if (family === null) return;
    const srcName = src.any ? "any" : src.zone.name;
    const destName = dest.any ? "any" : dest.zone.name;
    const rule: Rule = {
      chain: src.any ? "forward" : `forward_${src.zone.name}`,
      name: this.str(o, "name") ?? `Accept ${srcName} to ${destName} ${family ? `${nfprotoHuman(family)} ` : ""}forwarding`,
      family,
      proto: { any: true },
      hasAddrs: false,
      hasPorts: false,
      counter: false,
    };
    if (dest.any) rule.target = "accept";
    else {
      rule.jumpChain = `accept_to_${dest.zone.name}`;
      dest.zone.dflags.add("accept");
    }
    this.rules.push(rule);
  }

  /** fw4's infer_family(): the one family all restrictions agree on, or null (with a warning). */
  private inferFamily(s: UciSection, start: Family, objects: [Family | undefined, string][]): Family | null {
    let res = start;
    let by: string | undefined;
    for (const [family, desc] of objects) {
      if (!family || family === res) continue;
      if (!res) {
        res = family;
        by = desc;
        continue;
      }
      this.warnSection(
        s,
        `${by ? `references IPv${family} only ${desc} but is restricted to IPv${res} by ${by}` : `is restricted to IPv${res} but referenced ${desc} is IPv${family} only`}, skipping`,
      );
      return null;
    }
    return res;
  }

  private addresses(values: string[]): { v4: (Subnet & { invert: boolean })[]; v6: (Subnet & { invert: boolean })[] } | null {
    const v4: (Subnet & { invert: boolean })[] = [];
    const v6: (Subnet & { invert: boolean })[] = [];
    for (const raw of values) {
      const inv = parseInvert(raw);
      if (!inv) return null;
      const direct = parseSubnet(inv.val);
      const net = this.networks.get(inv.val);
      const subs = direct ? [direct] : net ? interfaceSubnets(net) : null;
      if (!subs) return null;
      for (const sub of subs) (sub.family === 4 ? v4 : v6).push({ ...sub, invert: inv.invert });
    }
    return { v4, v6 };
  }

  private parseRule(s: UciSection): void {
    const o = this.options(s);
    const src = o ? this.zoneRef(this.str(o, "src")) : undefined;
    const dest = o ? this.zoneRef(this.str(o, "dest")) : undefined;
    const protos = o ? (o.get("proto") === undefined ? parseProtocol("tcpudp") : this.list(o, "proto").map(parseProtocol)) : null;
    const icmp = o ? this.list(o, "icmp_type").map(parseIcmpType) : [];
    const sports = o ? this.list(o, "src_port").map(parsePort) : [];
    const dports = o ? this.list(o, "dest_port").map(parsePort) : [];
    const sip = o ? this.addresses(this.list(o, "src_ip")) : null;
    const dip = o ? this.addresses(this.list(o, "dest_ip")) : null;
    const invalid = (v: unknown) => v === null;
    if (!o || src === null || dest === null || !protos || protos.some(invalid) || icmp.some(invalid) || sports.some(invalid) || dports.some(invalid) || !sip || !dip) {
      return this.warnSection(s, "skipped due to invalid options");
    }
    if (parseBool(this.str(o, "enabled") ?? "1") === false) return this.warnSection(s, "is disabled, ignoring section");
    const target = this.str(o, "target") === undefined ? undefined : parseEnum(this.str(o, "target")!, ["accept", "reject", "drop"]);
    // Targets beyond accept/reject/drop (notrack, helper, mark, dscp) are not rendered by the simulator.
    if (target === null) return;
    const name = this.str(o, "name") ?? this.sectionId(s);
    const logOpt = this.str(o, "log");
    const log = logOpt === undefined || parseBool(logOpt) === false ? undefined : parseBool(logOpt) ? `${name}: ` : logOpt;
    const limit = this.str(o, "limit") ? parseLimit(this.str(o, "limit")!) ?? undefined : undefined;
    const limitBurst = this.str(o, "limit_burst") === undefined ? undefined : Number(this.str(o, "limit_burst"));
    const counter = parseBool(this.str(o, "counter") ?? "1") === true;
    const macs = this.list(o, "src_mac").map(parseInvert).filter((m) => m !== null);
    const ruleFamily = parseFamily(this.str(o, "family") ?? "any") ?? 0;

    for (const proto of (protos as Proto[][]).flat()) {
      let family: Family = ruleFamily;
      let itypes4: IcmpType[] = [];
      let itypes6: IcmpType[] = [];
      let ruleSports: Port[] = [];
      let ruleDports: Port[] = [];
      if (proto.name === "icmp") {
        itypes4 = (icmp as IcmpType[]).filter((i) => !i.family || i.family === 4);
        itypes6 = (icmp as IcmpType[]).filter((i) => !i.family || i.family === 6);
      } else if (proto.name === "ipv6-icmp") {
        family = 6;
        itypes6 = (icmp as IcmpType[]).filter((i) => !i.family || i.family === 6);
      } else if (proto.name === "tcp" || proto.name === "udp") {
        ruleSports = sports as Port[];
        ruleDports = dports as Port[];
      }
      const sipFamily = sip.v4.length && !sip.v6.length ? 4 : sip.v6.length && !sip.v4.length ? 6 : undefined;
      const dipFamily = dip.v4.length && !dip.v6.length ? 4 : dip.v6.length && !dip.v4.length ? 6 : undefined;
      const inferred = this.inferFamily(s, family, [
        [sipFamily, "source IP"],
        [dipFamily, "destination IP"],
        [src && !src.any ? src.zone.family : undefined, "source zone"],
        [dest && !dest.any ? dest.zone.family : undefined, "destination zone"],
      ]);
      if (inferred === null) continue;
      family = inferred;
      const has4 = !!(sip.v4.length || dip.v4.length || itypes4.length);
      const has6 = !!(sip.v6.length || dip.v6.length || itypes6.length);
      if (!family) family = has4 && !has6 ? 4 : has6 && !has4 ? 6 : 0;

      const add = (fam: Family, saddrs: Subnet[] & { invert?: boolean }[], daddrs: typeof saddrs, types?: IcmpType[], codes?: IcmpType[]) => {
        const pos = (a: (Subnet & { invert?: boolean })[]) => nullIfEmpty(a.filter((x) => !x.invert).map(cidr));
        const neg = (a: (Subnet & { invert?: boolean })[]) => nullIfEmpty(a.filter((x) => x.invert).map(cidr));
        const r: Rule = {
          chain: "output",
          name,
          family: fam,
          proto,
          hasAddrs: saddrs.length > 0 || daddrs.length > 0,
          hasPorts: ruleSports.length > 0 || ruleDports.length > 0,
          saddrsPos: pos(saddrs),
          saddrsNeg: neg(saddrs),
          daddrsPos: pos(daddrs),
          daddrsNeg: neg(daddrs),
          sportsPos: nullIfEmpty(ruleSports.filter((p) => !p.invert).map(portText)),
          sportsNeg: nullIfEmpty(ruleSports.filter((p) => p.invert).map(portText)),
          dportsPos: nullIfEmpty(ruleDports.filter((p) => !p.invert).map(portText)),
          dportsNeg: nullIfEmpty(ruleDports.filter((p) => p.invert).map(portText)),
          smacsPos: nullIfEmpty(macs.filter((m) => !m!.invert).map((m) => m!.val.toLowerCase())),
          smacsNeg: nullIfEmpty(macs.filter((m) => m!.invert).map((m) => m!.val.toLowerCase())),
          icmpTypes: nullIfEmpty((types ?? []).map((i) => (fam === 4 ? i.type! : i.type6!))),
          icmpCodes: nullIfEmpty((codes ?? []).map((i) => (fam === 4 ? `${i.type} . ${i.codeMin}` : `${i.type6} . ${i.code6Min}`))),
          limit,
          limitBurst,
          counter,
          log,
          target,
        };
        if (src) r.chain = src.any ? (dest ? "forward" : "input") : `${dest ? "forward" : "input"}_${src.zone.name}`;
        if (dest && !src) r.chain = dest.any ? "output" : `output_${dest.zone.name}`;
        if (target && dest && !dest.any) {
          r.jumpChain = `${target}_to_${dest.zone.name}`;
          dest.zone.dflags.add(target);
        } else if (target && src && !src.any && src.zone.log && target !== "accept") {
          r.jumpChain = `${target}_from_${src.zone.name}`;
          src.zone.sflags.add(target);
        } else if (target === "reject") r.jumpChain = "handle_reject";
        const device = this.str(o, "device");
        if (device) r[this.str(o, "direction") === "out" || this.str(o, "direction") === "egress" ? "oifnames" : "iifnames"] = [device];
        this.rules.push(r);
      };

      if (!family && !has4 && !has6) {
        add(0, [], []);
        continue;
      }
      for (const [fam, itypes, saddrs, daddrs] of [
        [4, itypes4, sip.v4, dip.v4],
        [6, itypes6, sip.v6, dip.v6],
      ] as const) {
        if (family !== 0 && family !== fam) continue;
        const lo = fam === 4 ? "codeMin" : "code6Min";
        const hi = fam === 4 ? "codeMax" : "code6Max";
        const types = itypes.filter((i) => i[lo] === 0 && i[hi] === 0xff);
        const codes = itypes.filter((i) => i[lo] !== 0 || i[hi] !== 0xff);
        if (types.length || !codes.length) add(fam, saddrs, daddrs, types, undefined);
        if (codes.length) add(fam, saddrs, daddrs, undefined, codes);
      }
    }
  }

  private parseInclude(s: UciSection): void {
    const o = this.options(s);
    if (!o) return this.warnSection(s, "skipped due to invalid options");
    if (parseBool(this.str(o, "enabled") ?? "1") === false) return this.warnSection(s, "is disabled, ignoring section");
    const path = this.str(o, "path");
    if (!path) return this.warnSection(s, "option 'path' is mandatory but not set");
    const type = parseEnum(this.str(o, "type") ?? "script", ["script", "nftables"]) ?? "script";
    if (type === "script") {
      this.includes.push({ type, path });
      return;
    }
    const position = (parseEnum(this.str(o, "position") ?? "table-append", POSITIONS) ?? "table-append").replace("postpend", "append");
    this.includes.push({ type, path, position, chain: this.str(o, "chain") });
  }
}

const REJECT_CODES = ["tcp-reset", "port-unreachable", "admin-prohibited", "host-unreachable", "no-route"];
const POSITIONS = ["ruleset-prepend", "ruleset-postpend", "ruleset-append", "table-prepend", "table-postpend", "table-append", "chain-prepend", "chain-postpend", "chain-append"];

function nullIfEmpty<T>(a: T[]): T[] | undefined {
  return a.length ? a : undefined;
}

/** The addresses fw4 reads from an interface's ubus status (prefix assignments count with their local address). */
function interfaceSubnets(net: InterfaceStatus): Subnet[] {
  const out: Subnet[] = [];
  for (const a of net.ipv4) out.push({ family: 4, addr: a.address, bits: a.mask });
  for (const a of net.ipv6) out.push({ family: 6, addr: a.address, bits: a.mask });
  for (const a of net.ipv6PrefixAssignment) out.push({ family: 6, addr: a.address, bits: a.mask });
  return out;
}

/** fw4's device grouping for zone jump rules: wildcards alone, plain devices together. */
function zoneMatchRules(family: Family, devices: { device: string; invert: boolean }[], subnets: (Subnet & { invert: boolean })[]): MatchRule[] {
  const groups: { pos?: string[]; neg: string[]; negWild: string[] }[] = [];
  const plain: string[] = [];
  const neg: string[] = [];
  const negWild: string[] = [];
  for (const d of devices) {
    const m = /^([^+]*)(\+)?$/.exec(d.device);
    if (!m) continue;
    if (!d.invert && m[0] === "+") continue;
    const name = d.invert && m[0] === "+" ? "/never/" : m[2] ? `${m[1]}*` : d.device;
    const invert = d.invert && m[0] !== "+";
    if (!invert && m[2]) groups.push({ pos: [name], neg, negWild });
    else if (!invert) plain.push(name);
    else if (m[2]) negWild.push(name);
    else neg.push(name);
  }
  if (plain.length) groups.push({ pos: plain, neg, negWild });
  else if (!groups.length) groups.push({ neg, negWild });
  const v4 = subnets.filter((s) => s.family === 4);
  const v6 = subnets.filter((s) => s.family === 6);
  const zoneFamily: Family = family || (v4.length && !v6.length ? 4 : v6.length && !v4.length ? 6 : 0);
  if (!devices.length && !subnets.length) return [];
  const rules: MatchRule[] = [];
  for (const g of groups) {
    const base = { devicesPos: g.pos, devicesNeg: nullIfEmpty(g.neg), devicesNegWildcard: nullIfEmpty(g.negWild) };
    if (!zoneFamily && !subnets.length) {
      rules.push({ family: 0, ...base });
      continue;
    }
    for (const [fam, subs] of [
      [4, v4],
      [6, v6],
    ] as const) {
      if (zoneFamily && zoneFamily !== fam) continue;
      rules.push({
        family: fam,
        ...base,
        subnetsPos: nullIfEmpty(subs.filter((s) => !s.invert).map(cidr)),
        subnetsNeg: nullIfEmpty(subs.filter((s) => s.invert).map(cidr)),
      });
    }
  }
  return rules;
}

// ---------------------------------------------------------------------------------------------
// Flowtable devices (fw4.uc resolve_offload_devices and its history).

function lowerDevices(devices: DeviceSpec[], name: string, seen = new Set<string>()): string[] {
  const dev = devices.find((d) => d.name === name);
  if (!dev || seen.has(name)) return [];
  seen.add(name);
  if (dev.devtype === "bridge" || dev.devtype === "vlan") return [...(dev.lower ?? [])].sort().flatMap((l) => lowerDevices(devices, l, seen));
  return [name];
}

const sortUniq = (a: string[]) => [...new Set(a)].sort();

function offloadDevices(input: Fw4RenderInput, model: Fw4Model): string[] {
  const d = model.defaults;
  if (!d.flow_offloading) return [];
  const physdevs = model.zones.flatMap((z) => z.relatedPhysdevs);
  const lower = sortUniq(physdevs.flatMap((p) => lowerDevices(input.devices, p)));
  if (d.flow_offloading_hw) {
    const hw = input.flavor === "2203" ? lower.filter((dev) => input.hwTcOffload(dev)) : lower;
    if (hw.length && input.hwOffloadProbe(hw)) return hw;
    model.warn("Hardware flow offloading unavailable, falling back to software offloading");
    d.flow_offloading_hw = false;
  }
  if (input.flavor === "master") return sortUniq(physdevs.filter((p) => input.devices.some((dev) => dev.name === p)));
  return lower;
}

// ---------------------------------------------------------------------------------------------
// The templates (ruleset.uc, rule.uc, zone-*.uc).

function ruleText(r: Rule): string {
  let o = "";
  if (r.family && !r.hasAddrs) o += `meta nfproto ${nfproto(r.family)} `;
  if (!r.proto.any && !r.hasPorts && !r.icmpTypes && !r.icmpCodes) {
    const l4 = r.proto.name === "icmp" && !r.family ? nftSet(["icmp", "ipv6-icmp"]) : r.proto.name === "icmp" && r.family === 6 ? "ipv6-icmp" : r.proto.name;
    o += `meta l4proto ${l4} `;
  }
  if (r.iifnames) o += `iifname ${nftSet(r.iifnames)} `;
  if (r.oifnames) o += `oifname ${nftSet(r.oifnames)} `;
  if (r.saddrsPos) o += `${ipproto(r.family)} saddr ${nftSet(r.saddrsPos)} `;
  if (r.saddrsNeg) o += `${ipproto(r.family)} saddr != ${nftSet(r.saddrsNeg)} `;
  if (r.daddrsPos) o += `${ipproto(r.family)} daddr ${nftSet(r.daddrsPos)} `;
  if (r.daddrsNeg) o += `${ipproto(r.family)} daddr != ${nftSet(r.daddrsNeg)} `;
  if (r.sportsPos) o += `${r.proto.name} sport ${nftSet(r.sportsPos)} `;
  if (r.sportsNeg) o += `${r.proto.name} sport != ${nftSet(r.sportsNeg)} `;
  if (r.dportsPos) o += `${r.proto.name} dport ${nftSet(r.dportsPos)} `;
  if (r.dportsNeg) o += `${r.proto.name} dport != ${nftSet(r.dportsNeg)} `;
  if (r.smacsPos) o += `ether saddr ${nftSet(r.smacsPos)} `;
  if (r.smacsNeg) o += `ether saddr != ${nftSet(r.smacsNeg)} `;
  const icmp = r.family === 4 ? "icmp" : "icmpv6";
  if (r.icmpTypes) o += `${icmp} type ${nftSet(r.icmpTypes)} `;
  if (r.icmpCodes) o += `${icmp} type . ${icmp} code ${nftSet(r.icmpCodes, true)} `;
  if (r.limit) o += `limit rate ${r.limit.rate}/${r.limit.unit}${r.limitBurst ? ` burst ${r.limitBurst} packets` : ""} `;
  if (r.counter) o += "counter ";
  if (r.log) o += `log prefix ${quote(r.log, true)} `;
  if (r.jumpChain) o += `jump ${r.jumpChain} `;
  else if (r.target) o += `${r.target} `;
  return `${o}comment ${quote(`!fw4: ${r.name}`, true)}`;
}

function zoneMatch(rule: MatchRule, egress: boolean): string {
  const dev = egress ? "oifname" : "iifname";
  const addr = egress ? "daddr" : "saddr";
  let o = "";
  if (rule.devicesPos) o += `${dev} ${nftSet(rule.devicesPos)} `;
  for (const d of rule.devicesNegWildcard ?? []) o += `${dev} != ${quote(d, true)} `;
  if (rule.devicesNeg) o += `${dev} != ${nftSet(rule.devicesNeg)} `;
  if (rule.subnetsPos) o += `${ipproto(rule.family)} ${addr} ${nftSet(rule.subnetsPos)} `;
  if (rule.subnetsNeg) o += `${ipproto(rule.family)} ${addr} != ${nftSet(rule.subnetsNeg)} `;
  return o;
}

const familyPrefix = (f: Family) => (f ? `meta nfproto ${nfproto(f)} ` : "");

function zoneJump(zone: Zone, rule: MatchRule, direction: string): string {
  const egress = direction === "output" || direction === "srcnat";
  const what = direction === "helper" ? "helper assignment" : `${direction} traffic`;
  return `${familyPrefix(rule.family)}${zoneMatch(rule, egress)}jump ${direction}_${zone.name} comment "!fw4: Handle ${zone.name} ${nfprotoHuman(rule.family)} ${what}"`;
}

function zoneVerdict(zone: Zone, rule: MatchRule, egress: boolean, verdict: string): string {
  let o = familyPrefix(rule.family) + zoneMatch(rule, egress);
  if (zone.counter) o += "counter ";
  if (verdict !== "accept" && zone.log & 1) o += `log prefix "${verdict} ${zone.name} ${egress ? "out" : "in"}: " `;
  const comment = `comment "!fw4: ${verdict} ${zone.name} ${nfprotoHuman(rule.family)} traffic"`;
  return verdict === "reject" ? `${o}jump handle_reject ${comment}` : `${o}${verdict} ${comment}`;
}

function zoneDropInvalid(zone: Zone, rule: MatchRule): string {
  const fam = zone.masq !== zone.masq6 ? `meta nfproto ${zone.masq ? "ipv4" : "ipv6"} ` : "";
  return `${fam}${zoneMatch(rule, true)}ct state invalid ${zone.counter ? "counter " : ""}${zone.log & 1 ? `log prefix "drop ${zone.name} invalid ct state: " ` : ""}drop comment "!fw4: Prevent NAT leakage"`;
}

function zoneMssfix(zone: Zone, rule: MatchRule, egress: boolean, flavor: Fw4Flavor): string {
  const flags = flavor === "master" ? "tcp flags syn / syn,fin,rst" : "tcp flags syn";
  const log = zone.log & 2 ? `log prefix "MSSFIX ${zone.name} out: " ` : "";
  return `${familyPrefix(rule.family)}${zoneMatch(rule, egress)}${flags} tcp option maxseg size set rt mtu ${log}comment "!fw4: Zone ${zone.name} ${nfprotoHuman(rule.family)} ${egress ? "egress" : "ingress"} MTU fixing"`;
}

const isLoopback = (dev: string) => dev === "lo";

/** Renders what `fw4 print` prints: the ruleset for the effective config and the router's live state. */
export function renderFw4(input: Fw4RenderInput): Fw4Render {
  const m = new Fw4Model(input);
  const d = m.defaults;
  const master = input.flavor === "master";
  const flowDevices = offloadDevices(input, m);
  const rules = (chain: string) => m.rules.filter((r) => r.chain === chain).map((r) => `\t\t${ruleText(r)}\n`).join("");
  const includes = (position: string, chain?: string) => {
    const pad = position.startsWith("table-") ? "\t" : position.startsWith("chain-") ? "\t\t" : "";
    const pre = position.startsWith("chain-") ? "" : "\n";
    const lines = m.includes.filter((i) => i.type === "nftables" && i.position === position && (!chain || i.chain === chain)).map((i) => `${pad}include "${i.path}"\n`);
    return lines.length ? pre + lines.join("") : "";
  };
  const policy = (p: string | undefined) => (p === "reject" ? "drop" : p ?? "");
  const ctLine = (what: string, direction: string) =>
    master
      ? `\t\tct state vmap { established : accept, related : accept${d.drop_invalid ? ", invalid : drop" : ""} } comment "!fw4: Handle ${direction} flows"\n`
      : `\t\tct state established,related accept comment "!fw4: Allow ${what} established and related flows"\n${d.drop_invalid ? '\t\tct state invalid drop comment "!fw4: Drop flows with invalid conntrack state"\n' : ""}`;
  const forZones = (f: (z: Zone) => string) => m.zones.map(f).join("");

  let o = "table inet fw4\nflush table inet fw4\n";
  if (input.flowtableLoaded) o += "delete flowtable inet fw4 ft\n";
  o += includes("ruleset-prepend");
  o += "\ntable inet fw4 {\n";
  if (flowDevices.length) {
    o += "\t#\n\t# Flowtable\n\t#\n\n\tflowtable ft {\n\t\thook ingress priority 0;\n";
    o += `\t\tdevices = ${nftSet(flowDevices, true)};\n`;
    if (input.flavor !== "2203") o += "\t\tcounter;\n";
    if (d.flow_offloading_hw) o += "\t\tflags offload;\n";
    o += "\t}\n\n\n";
  }
  o += "\t#\n\t# Defines\n\t#\n\n";
  o += forZones((z) => {
    const id = z.name.replace(/^[0-9]/, "_$&");
    return `\tdefine ${id}_devices = ${nftSet(z.matchDevices, true)}\n\tdefine ${id}_subnets = ${nftSet(z.matchSubnets, true)}\n\n`;
  });
  o += '\n\t#\n\t# User includes\n\t#\n\n\tinclude "/etc/nftables.d/*.nft"\n';
  o += includes("table-prepend");
  o += "\n\n\t#\n\t# Filter rules\n\t#\n\n";

  // input
  o += `\tchain input {\n\t\ttype filter hook input priority filter; policy ${policy(d.input)};\n\n`;
  o += `\t\t${master ? "iif" : "iifname"} "lo" accept comment "!fw4: Accept traffic from loopback"\n\n`;
  o += includes("chain-prepend", "input");
  o += ctLine("inbound", "inbound");
  if (d.synflood_protect && d.synflood_rate) o += '\t\ttcp flags & (fin | syn | rst | ack) == syn jump syn_flood comment "!fw4: Rate limit TCP syn packets"\n';
  o += rules("input");
  o += forZones((z) => z.matchRules.map((r) => `\t\t${zoneJump(z, r, "input")}\n`).join(""));
  if (d.input === "reject") o += "\t\tjump handle_reject\n";
  o += includes("chain-append", "input");
  o += "\t}\n\n";

  // forward
  o += `\tchain forward {\n\t\ttype filter hook forward priority filter; policy ${policy(d.forward)};\n\n`;
  if (flowDevices.length) o += "\t\tmeta l4proto { tcp, udp } flow offload @ft;\n";
  o += includes("chain-prepend", "forward");
  o += ctLine("forwarded", "forwarded");
  o += rules("forward");
  o += forZones((z) => z.matchRules.map((r) => `\t\t${zoneJump(z, r, "forward")}\n`).join(""));
  o += includes("chain-append", "forward");
  if (d.forward === "reject") o += "\t\tjump handle_reject\n";
  o += "\t}\n\n";

  // output
  o += `\tchain output {\n\t\ttype filter hook output priority filter; policy ${policy(d.output)};\n\n`;
  o += `\t\t${master ? "oif" : "oifname"} "lo" accept comment "!fw4: Accept traffic towards loopback"\n\n`;
  o += includes("chain-prepend", "output");
  o += ctLine("outbound", "outbound");
  o += rules("output");
  o += forZones((z) =>
    z.matchRules
      .map((r) => {
        const loopDevs = nullIfEmpty((r.devicesPos ?? []).filter(isLoopback));
        const helper = z.dflags.has("helper") && loopDevs ? `\t\t${zoneJump(z, { ...r, devicesPos: loopDevs, subnetsPos: undefined }, "helper")}\n` : "";
        return `${helper}\t\t${zoneJump(z, r, "output")}\n`;
      })
      .join(""),
  );
  o += includes("chain-append", "output");
  if (d.output === "reject") o += "\t\tjump handle_reject\n";
  o += "\t}\n\n";

  // prerouting
  o += "\tchain prerouting {\n\t\ttype filter hook prerouting priority filter; policy accept;\n";
  o += forZones((z) =>
    z.dflags.has("helper")
      ? z.matchRules
          .map((r) => {
            const devs = nullIfEmpty((r.devicesPos ?? []).filter((dev) => !isLoopback(dev)));
            return r.devicesNeg || devs || r.subnetsPos ? `\t\t${zoneJump(z, { ...r, devicesPos: devs }, "helper")}\n` : "";
          })
          .join("")
      : "",
  );
  o += "\t}\n\n";

  const rejectWith = (code: string | undefined) => (code !== "tcp-reset" ? `icmpx type ${code ?? ""}` : "tcp reset");
  o += `\tchain handle_reject {\n\t\tmeta l4proto tcp reject with ${rejectWith(d.tcp_reject_code)} comment "!fw4: Reject TCP traffic"\n`;
  o += `\t\treject with ${rejectWith(d.any_reject_code)} comment "!fw4: Reject any other traffic"\n\t}\n\n`;

  if (d.synflood_protect && d.synflood_rate) {
    const burst = d.synflood_burst ? ` burst ${d.synflood_burst} packets` : "";
    o += `\tchain syn_flood {\n\t\tlimit rate ${d.synflood_rate.rate}/${d.synflood_rate.unit}${burst} return comment "!fw4: Accept SYN packets below rate-limit"\n`;
    o += '\t\tdrop comment "!fw4: Drop excess packets"\n\t}\n\n';
  }

  for (const z of m.zones) {
    const chain = (name: string, body: string) => `\tchain ${name} {\n${body}\t}\n\n`;
    o += chain(`input_${z.name}`, includes("chain-prepend", `input_${z.name}`) + rules(`input_${z.name}`) + includes("chain-append", `input_${z.name}`) + `\t\tjump ${z.input}_from_${z.name}\n`);
    o += chain(`output_${z.name}`, includes("chain-prepend", `output_${z.name}`) + rules(`output_${z.name}`) + includes("chain-append", `output_${z.name}`) + `\t\tjump ${z.output}_to_${z.name}\n`);
    const fwdLog = d.forward !== "accept" && z.log & 1 ? `\t\tlog prefix "${d.forward ?? ""} ${z.name} forward: "\n` : "";
    o += chain(`forward_${z.name}`, includes("chain-prepend", `forward_${z.name}`) + rules(`forward_${z.name}`) + includes("chain-append", `forward_${z.name}`) + `\t\tjump ${z.forward}_to_${z.name}\n${fwdLog}`);
    if (z.dflags.has("helper")) o += chain(`helper_${z.name}`, rules(`helper_${z.name}`));
    for (const verdict of ["accept", "reject", "drop"]) {
      if (z.sflags.has(verdict)) o += chain(`${verdict}_from_${z.name}`, z.matchRules.map((r) => `\t\t${zoneVerdict(z, r, false, verdict)}\n`).join(""));
      if (z.dflags.has(verdict)) {
        const body = z.matchRules
          .map((r) => {
            const invalid = verdict === "accept" && (z.masq || z.masq6) && !z.masqAllowInvalid ? `\t\t${zoneDropInvalid(z, r)}\n` : "";
            return `${invalid}\t\t${zoneVerdict(z, r, true, verdict)}\n`;
          })
          .join("");
        o += chain(`${verdict}_to_${z.name}`, body);
      }
    }
  }

  o += "\n\t#\n\t# NAT rules\n\t#\n\n";
  o += "\tchain dstnat {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n" + includes("chain-prepend", "dstnat") + includes("chain-append", "dstnat") + "\t}\n\n";
  o += "\tchain srcnat {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n" + includes("chain-prepend", "srcnat");
  o += forZones((z) => (z.dflags.has("snat") ? z.matchRules.map((r) => `\t\t${zoneJump(z, r, "srcnat")}\n`).join("") : ""));
  o += includes("chain-append", "srcnat") + "\t}\n\n";
  for (const z of m.zones) {
    if (!z.dflags.has("snat")) continue;
    o += `\tchain srcnat_${z.name} {\n` + includes("chain-prepend", `srcnat_${z.name}`);
    if (z.masq) o += `\t\tmeta nfproto ipv4 masquerade comment "!fw4: Masquerade IPv4 ${z.name} traffic"\n`;
    if (z.masq6) o += `\t\tmeta nfproto ipv6 masquerade comment "!fw4: Masquerade IPv6 ${z.name} traffic"\n`;
    o += includes("chain-append", `srcnat_${z.name}`) + "\t}\n\n";
  }

  o += "\n\t#\n\t# Raw rules (notrack)\n\t#\n\n";
  o += "\tchain raw_prerouting {\n\t\ttype filter hook prerouting priority raw; policy accept;\n" + includes("chain-append", "raw_prerouting") + "\t}\n\n";
  o += "\tchain raw_output {\n\t\ttype filter hook output priority raw; policy accept;\n" + includes("chain-prepend", "raw_output") + includes("chain-append", "raw_output") + "\t}\n\n";

  // firewall4 master moved the egress MSS clamping to postrouting; older code does both in forward.
  const mss = (directions: boolean[]) =>
    forZones((z) => (z.mtuFix ? z.matchRules.map((r) => directions.map((egress) => `\t\t${zoneMssfix(z, r, egress, input.flavor)}\n`).join("")).join("") : ""));
  const mangle = (name: string, header: string, extra = "") =>
    `\tchain ${name} {\n\t\t${header}\n` + includes("chain-prepend", name) + rules(name) + extra + includes("chain-append", name) + "\t}\n";
  o += "\n\t#\n\t# Mangle rules\n\t#\n\n";
  o += mangle("mangle_prerouting", "type filter hook prerouting priority mangle; policy accept;") + "\n";
  o += mangle("mangle_postrouting", "type filter hook postrouting priority mangle; policy accept;", master ? mss([true]) : "") + "\n";
  o += mangle("mangle_input", "type filter hook input priority mangle; policy accept;") + "\n";
  o += mangle("mangle_output", "type route hook output priority mangle; policy accept;") + "\n";
  o += mangle("mangle_forward", "type filter hook forward priority mangle; policy accept;", master ? mss([false]) : mss([false, true]));
  o += includes("table-append");
  o += "}\n";
  o += includes("ruleset-append");

  const state: Fw4State = {
    zones: m.zones.map((z) => ({ name: z.name, network: z.networks.map((n) => ({ device: n })), devices: z.matchRules.flatMap((r) => r.devicesPos ?? []) })),
    includes: m.includes,
  };
  return { ruleset: o, warnings: m.warnings, state };
}
