import { type Loc, type Token, NftSyntaxError, span } from "./lexer";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * One statement of a rule as the kernel stores it. Text and JSON are rendered the way nft 1.0.6 lists
 * them, which differs from what was written (`flow offload` → `flow add`, `counter` → `counter packets 0
 * bytes 0`, icmp numbers → names, implied dependencies dropped...).
 */
export type Stmt =
  | {
      kind: "plain";
      text: string;
      json: Json;
      /** Where the statement was written; only present while its batch is processed. */
      loc?: Loc;
      anonSets: number;
      jump?: string;
      setRef?: string;
      /** What the match tests, for nft's dependency elimination (`meta l4proto tcp tcp dport 22`). */
      dep?: StmtDep;
    }
  | { kind: "counter"; packets: number; bytes: number; loc?: Loc }
  | { kind: "flow"; flowtable: string; loc?: Loc };

interface StmtDep {
  payload?: string;
  l4proto?: string;
  nfproto?: string;
}

export interface ParsedRule {
  stmts: Stmt[];
  comment?: string;
}

/** The parts of nft's view of a rule that listings need. */
export function stmtText(stmt: Stmt, stateless: boolean): string {
  switch (stmt.kind) {
    case "counter":
      return stateless ? "counter" : `counter packets ${stmt.packets} bytes ${stmt.bytes}`;
    case "flow":
      return `flow add @${stmt.flowtable}`;
    default:
      return stmt.text;
  }
}

export function stmtJson(stmt: Stmt): Json {
  switch (stmt.kind) {
    case "counter":
      return { counter: { packets: stmt.packets, bytes: stmt.bytes } };
    case "flow":
      return { flow: { op: "add", flowtable: `@${stmt.flowtable}` } };
    default:
      return stmt.json;
  }
}

/** Anonymous sets and maps take a handle each in the kernel, right before their rule's. */
export function anonSetCount(rule: ParsedRule): number {
  return rule.stmts.reduce((n, s) => n + (s.kind === "plain" ? s.anonSets : 0), 0);
}

// ---------------------------------------------------------------------------------------------
// Data types: how nft prints, sorts and JSON-encodes values of each kind of expression.

type DType =
  | "ifname"
  | "iface"
  | "l4proto"
  | "nfproto"
  | "port"
  | "icmp_type"
  | "icmpv6_type"
  | "icmp_code"
  | "icmpv6_code"
  | "ipv4"
  | "ipv6"
  | "ct_state"
  | "ct_status"
  | "tcp_flags"
  | "mark"
  | "ether"
  | "integer"
  | "string"
  | "other";

const ICMP_TYPES: Record<number, string> = {
  0: "echo-reply",
  3: "destination-unreachable",
  4: "source-quench",
  5: "redirect",
  8: "echo-request",
  9: "router-advertisement",
  10: "router-solicitation",
  11: "time-exceeded",
  12: "parameter-problem",
  13: "timestamp-request",
  14: "timestamp-reply",
  15: "info-request",
  16: "info-reply",
  17: "address-mask-request",
  18: "address-mask-reply",
};

const ICMPV6_TYPES: Record<number, string> = {
  1: "destination-unreachable",
  2: "packet-too-big",
  3: "time-exceeded",
  4: "parameter-problem",
  128: "echo-request",
  129: "echo-reply",
  130: "mld-listener-query",
  131: "mld-listener-report",
  132: "mld-listener-done",
  133: "nd-router-solicit",
  134: "nd-router-advert",
  135: "nd-neighbor-solicit",
  136: "nd-neighbor-advert",
  137: "nd-redirect",
  138: "router-renumbering",
  141: "ind-neighbor-solicit",
  142: "ind-neighbor-advert",
  143: "mld2-listener-report",
};

const ICMP_CODES: Record<number, string> = {
  0: "net-unreachable",
  1: "host-unreachable",
  2: "prot-unreachable",
  3: "port-unreachable",
  4: "frag-needed",
  9: "net-prohibited",
  10: "host-prohibited",
  13: "admin-prohibited",
};

const ICMPV6_CODES: Record<number, string> = {
  0: "no-route",
  1: "admin-prohibited",
  3: "addr-unreachable",
  4: "port-unreachable",
  5: "policy-fail",
  6: "reject-route",
};

/** What musl's getprotobynumber answers on OpenWrt (nft prints protocol numbers through it). */
const PROTOCOLS: Record<number, string> = {
  0: "ip",
  1: "icmp",
  2: "igmp",
  4: "ipencap",
  6: "tcp",
  8: "egp",
  12: "pup",
  17: "udp",
  41: "ipv6",
  43: "ipv6-route",
  44: "ipv6-frag",
  46: "rsvp",
  47: "gre",
  50: "esp",
  51: "ah",
  58: "ipv6-icmp",
  59: "ipv6-nonxt",
  60: "ipv6-opts",
  89: "ospf",
  94: "ipip",
  103: "pim",
  108: "ipcomp",
  112: "vrrp",
  115: "l2tp",
  132: "sctp",
  136: "udplite",
};

const CT_STATE_BITS: Record<string, number> = { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 };
const CT_STATUS_BITS: Record<string, number> = {
  expected: 1,
  "seen-reply": 2,
  assured: 4,
  confirmed: 8,
  snat: 16,
  dnat: 32,
  dying: 512,
};
const TCP_FLAG_BITS: Record<string, number> = { fin: 1, syn: 2, rst: 4, psh: 8, ack: 16, urg: 32, ecn: 64, cwr: 128 };

const NUMBERED: Partial<Record<DType, Record<number, string>>> = {
  icmp_type: ICMP_TYPES,
  icmpv6_type: ICMPV6_TYPES,
  icmp_code: ICMP_CODES,
  icmpv6_code: ICMPV6_CODES,
  l4proto: PROTOCOLS,
};

const FLAG_BITS: Partial<Record<DType, Record<string, number>>> = {
  ct_state: CT_STATE_BITS,
  ct_status: CT_STATUS_BITS,
  tcp_flags: TCP_FLAG_BITS,
};

function byName(table: Record<number, string>, name: string): number | undefined {
  for (const [k, v] of Object.entries(table)) if (v === name) return Number(k);
  return undefined;
}

/** A single value as written: one atom, or a concatenation `a . b`. */
interface RawElem {
  atoms: string[];
  loc: Loc;
  /** vmap data (`established : accept`). */
  verdict?: string;
}

interface Rendered {
  text: string;
  json: Json;
  /** nft lists set elements in value order (mpz compare of the kernel key). */
  key: bigint;
}

function parseNumber(s: string): number | undefined {
  if (/^0x[0-9a-f]+$/i.test(s)) return parseInt(s, 16);
  if (/^[0-9]+$/.test(s)) return Number(s);
  return undefined;
}

function ipv4Key(s: string): bigint {
  const parts = s.split(".").map(Number);
  return parts.length === 4 && parts.every((p) => p >= 0 && p <= 255)
    ? parts.reduce((acc, p) => acc * 256n + BigInt(p), 0n)
    : 0n;
}

function ipv6Key(s: string): bigint {
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t];
  return groups.reduce((acc, g) => acc * 65536n + BigInt(parseInt(g || "0", 16) || 0), 0n);
}

/** Strings are host-order byte arrays in nft's mpz values: little-endian, so shorter sorts first. */
function stringKey(s: string): bigint {
  let k = 0n;
  for (let i = s.length - 1; i >= 0; i--) k = k * 256n + BigInt(s.charCodeAt(i) & 0xff);
  return k;
}

function renderAtom(dtype: DType, atom: string): Rendered {
  const num = parseNumber(atom);
  const bits = FLAG_BITS[dtype];
  if (bits) return { text: atom, json: atom, key: BigInt(bits[atom] ?? num ?? 0) };
  const numbered = NUMBERED[dtype];
  if (numbered) {
    const value = num ?? byName(numbered, atom);
    if (value === undefined) return { text: atom, json: atom, key: 0n };
    const name = numbered[value] ?? String(value);
    return { text: name, json: numbered[value] ?? value, key: BigInt(value) };
  }
  switch (dtype) {
    case "ifname":
    case "iface":
    case "string":
      return { text: `"${atom}"`, json: atom, key: stringKey(atom) };
    case "port":
    case "integer": {
      const range = /^([0-9]+)-([0-9]+)$/.exec(atom);
      if (range) return { text: atom, json: { range: [Number(range[1]), Number(range[2])] }, key: BigInt(range[1]) };
      return num === undefined ? { text: atom, json: atom, key: 0n } : { text: String(num), json: num, key: BigInt(num) };
    }
    case "mark":
      return num === undefined
        ? { text: atom, json: atom, key: 0n }
        : { text: `0x${num.toString(16).padStart(8, "0")}`, json: num, key: BigInt(num) };
    case "ipv4":
    case "ipv6": {
      const keyOf = dtype === "ipv4" ? ipv4Key : ipv6Key;
      const prefix = /^(.+)\/([0-9]+)$/.exec(atom);
      if (prefix) return { text: atom, json: { prefix: { addr: prefix[1], len: Number(prefix[2]) } }, key: keyOf(prefix[1]) };
      const range = dtype === "ipv4" ? /^([0-9.]+)-([0-9.]+)$/.exec(atom) : /^([0-9a-f:]+)-([0-9a-f:]+)$/i.exec(atom);
      if (range) return { text: atom, json: { range: [range[1], range[2]] }, key: keyOf(range[1]) };
      return { text: atom, json: atom, key: keyOf(atom) };
    }
    case "ether":
      return { text: atom.toLowerCase(), json: atom.toLowerCase(), key: 0n };
    default:
      return num === undefined ? { text: atom, json: atom, key: 0n } : { text: atom, json: num, key: BigInt(num) };
  }
}

function renderElem(dtypes: DType[], elem: RawElem): Rendered {
  const parts = elem.atoms.map((a, i) => renderAtom(dtypes[i] ?? dtypes[dtypes.length - 1], a));
  if (parts.length === 1) return parts[0];
  return {
    text: parts.map((p) => p.text).join(" . "),
    json: { concat: parts.map((p) => p.json) },
    // Concatenated keys are compared as one host-order integer: the last field is the most significant.
    key: parts.reduce((acc, p, i) => acc + (p.key << BigInt(32 * i)), 0n),
  };
}

// ---------------------------------------------------------------------------------------------
// Expressions on the left of a match.

interface LeftExpr {
  text: string;
  json: Json;
  dtypes: DType[];
  /** Payload protocol, for dependency handling (`meta l4proto tcp tcp dport 22` → `tcp dport 22`). */
  protos: string[];
}

const META_SHORT = new Set(["iif", "iifname", "oif", "oifname", "iiftype", "oiftype", "iifgroup", "oifgroup", "skuid", "skgid", "rtclassid", "ibrname", "obrname", "pkttype", "cpu", "cgroup", "nftrace"]);
const META_KEYS = new Set([...META_SHORT, "l4proto", "nfproto", "mark", "protocol", "priority", "length", "hour", "day", "time", "secmark", "random"]);

const META_DTYPE: Record<string, DType> = {
  iif: "iface",
  oif: "iface",
  iifname: "ifname",
  oifname: "ifname",
  ibrname: "ifname",
  obrname: "ifname",
  l4proto: "l4proto",
  nfproto: "other",
  mark: "mark",
};

const PAYLOAD_PROTOS = new Set(["ip", "ip6", "tcp", "udp", "udplite", "sctp", "dccp", "th", "icmp", "icmpv6", "igmp", "ether", "vlan", "arp", "ah", "esp", "comp"]);

function payloadDtype(proto: string, field: string): DType {
  if (field === "saddr" || field === "daddr") return proto === "ip" ? "ipv4" : proto === "ip6" ? "ipv6" : proto === "ether" ? "ether" : "other";
  if (field === "sport" || field === "dport") return "port";
  if ((proto === "ip" && field === "protocol") || (proto === "ip6" && field === "nexthdr")) return "l4proto";
  if (proto === "tcp" && field === "flags") return "tcp_flags";
  if (proto === "icmp") return field === "type" ? "icmp_type" : field === "code" ? "icmp_code" : "integer";
  if (proto === "icmpv6") return field === "type" ? "icmpv6_type" : field === "code" ? "icmpv6_code" : "integer";
  return "integer";
}

const CT_DTYPE: Record<string, DType> = { state: "ct_state", status: "ct_status", mark: "mark", helper: "string" };

/** Keywords that start a statement or expression nft knows; anything else is a symbol nft cannot type. */
const KNOWN_STARTS = new Set([
  ...META_KEYS,
  ...PAYLOAD_PROTOS,
  "meta",
  "ct",
  "counter",
  "limit",
  "log",
  "reject",
  "accept",
  "drop",
  "return",
  "continue",
  "queue",
  "jump",
  "goto",
  "masquerade",
  "snat",
  "dnat",
  "redirect",
  "notrack",
  "flow",
  "comment",
  "fib",
  "socket",
  "rt",
  "numgen",
  "jhash",
  "symhash",
  "quota",
  "dup",
  "fwd",
  "tproxy",
  "synproxy",
  "set",
  "update",
  "add",
  "delete",
  "meter",
  "osf",
  "ipsec",
  "exthdr",
  "hbh",
  "frag",
  "dst",
  "mh",
  "srh",
]);

// ---------------------------------------------------------------------------------------------
// The parser.

class RuleParser {
  private pos = 0;
  readonly stmts: Stmt[] = [];
  comment?: string;

  constructor(
    private readonly tokens: Token[],
    private readonly family: string,
  ) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  private next(): Token {
    const t = this.tokens[this.pos++];
    if (!t) throw new NftSyntaxError("syntax error, unexpected end of rule", this.tokens[this.tokens.length - 1].loc);
    return t;
  }

  private is(value: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t !== undefined && t.kind !== "string" && t.value === value;
  }

  private expectWord(): Token {
    const t = this.next();
    if (t.kind !== "word" && t.kind !== "string") throw new NftSyntaxError(`syntax error, unexpected ${t.value}`, t.loc);
    return t;
  }

  private locFrom(start: number): Loc {
    return span(this.tokens[start].loc, this.tokens[Math.max(start, this.pos - 1)].loc);
  }

  private plain(start: number, text: string, json: Json, extra: { anonSets?: number; setRef?: string; dep?: StmtDep } = {}): void {
    this.stmts.push({ kind: "plain", text, json, loc: this.locFrom(start), anonSets: extra.anonSets ?? 0, setRef: extra.setRef, dep: extra.dep });
  }

  private depOf(left: LeftExpr, text: string): StmtDep | undefined {
    if (left.protos.length) return { payload: left.protos[0] };
    if (left.text === "meta l4proto") return { l4proto: text };
    if (left.text === "meta nfproto") return { nfproto: text };
    return undefined;
  }

  parse(): ParsedRule {
    const first = this.peek();
    if (first && first.kind === "word" && !KNOWN_STARTS.has(first.value) && !first.value.startsWith("@")) {
      throw new NftSyntaxError("No symbol type information", first.loc);
    }
    while (this.pos < this.tokens.length) this.statement();
    return { stmts: fixDependencies(this.stmts, this.family), comment: this.comment };
  }

  elements(dtypes: DType[]): SetElement[] {
    return this.setElems(false).map((e) => renderElem(dtypes, e));
  }

  private statement(): void {
    const start = this.pos;
    const t = this.next();
    const w = t.kind === "string" ? "" : t.value;
    switch (w) {
      case "accept":
      case "drop":
      case "return":
      case "continue":
        return this.plain(start, w, { [w]: null });
      case "jump":
      case "goto": {
        const target = this.expectWord();
        this.stmts.push({ kind: "plain", text: `${w} ${target.value}`, json: { [w]: { target: target.value } }, loc: target.loc, anonSets: 0, jump: target.value });
        return;
      }
      case "counter":
        return this.counter(start);
      case "comment":
        this.comment = this.expectWord().value;
        return;
      case "limit":
        return this.limit(start);
      case "log":
        return this.log(start);
      case "reject":
        return this.reject(start);
      case "masquerade":
        return this.plain(start, "masquerade", { masquerade: null });
      case "notrack":
        return this.plain(start, "notrack", { notrack: null });
      case "snat":
      case "dnat":
        return this.nat(start, w);
      case "flow":
        return this.flow(start);
      case "meta":
        return this.meta(start, this.expectWord().value);
      case "ct":
        return this.ct(start);
      default:
        if (META_SHORT.has(w)) return this.meta(start, w);
        if (PAYLOAD_PROTOS.has(w) && this.peek()?.kind === "word") return this.payloadStatement(start, w);
        return this.unmodeled(start);
    }
  }

  /** Statements the simulator does not model keep their text; JSON carries it verbatim. */
  private unmodeled(start: number): void {
    while (this.pos < this.tokens.length && !this.is("comment")) this.pos++;
    const text = joinTokens(this.tokens.slice(start, this.pos));
    this.plain(start, text, { unmodeled: text });
  }

  private counter(start: number): void {
    let packets = 0;
    let bytes = 0;
    if (this.is("packets")) {
      this.next();
      packets = Number(this.expectWord().value);
      if (this.is("bytes")) {
        this.next();
        bytes = Number(this.expectWord().value);
      }
    }
    this.stmts.push({ kind: "counter", packets, bytes, loc: this.locFrom(start) });
  }

  private limit(start: number): void {
    if (this.is("rate")) this.next();
    let inv = false;
    if (this.is("over")) {
      this.next();
      inv = true;
    }
    const rateTok = this.expectWord().value;
    const m = /^([0-9]+)\/([a-z]+)$/.exec(rateTok);
    const rate = m ? Number(m[1]) : Number(rateTok);
    const per = normalizeUnit(m ? m[2] : this.slashUnit());
    let burst = 5;
    if (this.is("burst")) {
      this.next();
      burst = Number(this.expectWord().value);
      if (this.is("packets")) this.next();
    }
    const text = `limit rate ${inv ? "over " : ""}${rate}/${per}${burst !== 5 ? ` burst ${burst} packets` : ""}`;
    const json: { [k: string]: Json } = { rate, burst, per };
    if (inv) json.inv = true;
    this.plain(start, text, { limit: json });
  }

  private slashUnit(): string {
    if (this.is("/")) this.next();
    return this.expectWord().value;
  }

  private log(start: number): void {
    const opts: { [k: string]: Json } = {};
    const parts = ["log"];
    for (;;) {
      if (this.is("prefix")) {
        this.next();
        const p = this.expectWord().value;
        opts.prefix = p;
        parts.push(`prefix "${p}"`);
      } else if (this.is("level") || this.is("group") || this.is("snaplen") || this.is("queue-threshold")) {
        const key = this.next().value;
        const v = this.expectWord().value;
        const n = parseNumber(v);
        opts[key] = n ?? v;
        parts.push(`${key} ${v}`);
      } else break;
    }
    this.plain(start, parts.join(" "), { log: Object.keys(opts).length ? opts : null });
  }

  private reject(start: number): void {
    const defaultType = this.family === "ip" ? "icmp" : this.family === "ip6" ? "icmpv6" : "icmpx";
    let type = defaultType;
    let code = "port-unreachable";
    if (this.is("with")) {
      this.next();
      const kind = this.expectWord().value;
      if (kind === "tcp") {
        if (this.is("reset")) this.next();
        this.plain(start, "reject with tcp reset", { reject: { type: "tcp reset" } });
        return;
      }
      type = kind;
      if (this.is("type")) this.next();
      code = this.expectWord().value;
    }
    const text = type === defaultType && code === "port-unreachable" ? "reject" : `reject with ${type} ${code}`;
    this.plain(start, text, { reject: { type, expr: code } });
  }

  private nat(start: number, kind: string): void {
    let family = "";
    if (this.is("ip") || this.is("ip6")) family = this.next().value;
    if (this.is("to")) this.next();
    const target = this.expectWord().value;
    const addr = target.replace(/:[0-9]+$/, "");
    const port = target.length > addr.length ? Number(target.slice(addr.length + 1)) : undefined;
    const fam = family || (this.family === "inet" ? (addr.includes(":") ? "ip6" : "ip") : "");
    const json: { [k: string]: Json } = {};
    if (fam) json.family = fam;
    json.addr = addr;
    if (port !== undefined) json.port = port;
    this.plain(start, `${kind}${fam ? ` ${fam}` : ""} to ${target}`, { [kind]: json });
  }

  private flow(start: number): void {
    const op = this.expectWord();
    if (op.value !== "add" && op.value !== "offload") throw new NftSyntaxError(`syntax error, unexpected ${op.value}`, op.loc);
    const ref = this.expectWord();
    if (!ref.value.startsWith("@")) throw new NftSyntaxError(`syntax error, unexpected ${ref.value}`, ref.loc);
    this.stmts.push({ kind: "flow", flowtable: ref.value.slice(1), loc: this.locFrom(start) });
  }

  private meta(start: number, key: string): void {
    const short = META_SHORT.has(key);
    const left: LeftExpr = { text: short ? key : `meta ${key}`, json: { meta: { key } }, dtypes: [META_DTYPE[key] ?? "integer"], protos: [] };
    if (this.is("set")) return this.mangle(start, left);
    this.match(start, left);
  }

  private ct(start: number): void {
    const key = this.expectWord().value;
    const left: LeftExpr = { text: `ct ${key}`, json: { ct: { key } }, dtypes: [CT_DTYPE[key] ?? "integer"], protos: [] };
    if (this.is("set")) return this.mangle(start, left);
    if (this.is("vmap")) return this.vmap(start, left);
    this.match(start, left);
  }

  private mangle(start: number, left: LeftExpr): void {
    this.next();
    const value = renderAtom(left.dtypes[0], this.expectWord().value);
    // nft's JSON has a statement of its own for assigning a ct helper.
    const json: Json = left.text === "ct helper" ? { "ct helper": value.json } : { mangle: { key: left.json, value: value.json } };
    this.plain(start, `${left.text} set ${value.text}`, json);
  }

  private payloadStatement(start: number, proto: string): void {
    if (proto === "tcp" && this.is("option")) return this.tcpOption(start);
    const left = this.payloadLeft(proto);
    this.match(start, left);
  }

  private payloadLeft(proto: string): LeftExpr {
    const field = this.expectWord().value;
    const parts: LeftExpr[] = [{ text: `${proto} ${field}`, json: { payload: { protocol: proto, field } }, dtypes: [payloadDtype(proto, field)], protos: [proto] }];
    while (this.is(".") && PAYLOAD_PROTOS.has(this.peek(1)?.value ?? "")) {
      this.next();
      const p = this.next().value;
      const f = this.expectWord().value;
      parts.push({ text: `${p} ${f}`, json: { payload: { protocol: p, field: f } }, dtypes: [payloadDtype(p, f)], protos: [p] });
    }
    if (parts.length === 1) return parts[0];
    return {
      text: parts.map((p) => p.text).join(" . "),
      json: { concat: parts.map((p) => p.json) },
      dtypes: parts.flatMap((p) => p.dtypes),
      protos: parts.flatMap((p) => p.protos),
    };
  }

  private tcpOption(start: number): void {
    this.next();
    const name = this.expectWord().value;
    const field = this.expectWord().value;
    if (!this.is("set")) return this.unmodeled(start);
    this.next();
    const valueStart = this.pos;
    const a = this.expectWord().value;
    if (a === "rt" && this.is("mtu")) {
      this.next();
      this.plain(start, `tcp option ${name} ${field} set rt mtu`, {
        mangle: { key: { "tcp option": { name, field } }, value: { rt: { key: "mtu" } } },
      });
      return;
    }
    this.pos = valueStart;
    const v = renderAtom("integer", this.expectWord().value);
    this.plain(start, `tcp option ${name} ${field} set ${v.text}`, { mangle: { key: { "tcp option": { name, field } }, value: v.json } });
  }

  private vmap(start: number, left: LeftExpr): void {
    this.next();
    const elems = this.setElems(true);
    const rendered = elems.map((e) => ({ r: renderElem(left.dtypes, e), verdict: e.verdict ?? "" }));
    rendered.sort((a, b) => (a.r.key < b.r.key ? -1 : a.r.key > b.r.key ? 1 : 0));
    const text = `${left.text} vmap { ${rendered.map((e) => `${e.r.text} : ${e.verdict}`).join(", ")} }`;
    const data = rendered.map((e) => {
      const [verdict, target] = e.verdict.split(" ");
      return [e.r.json, { [verdict]: target === undefined ? null : { target } }] as Json;
    });
    this.plain(start, text, { vmap: { key: left.json, data: { set: data } } }, { anonSets: 1 });
  }

  /** Elements between `{` and `}`; the opening brace is the current token. */
  private setElems(isMap: boolean): RawElem[] {
    const open = this.next();
    if (open.value !== "{") throw new NftSyntaxError(`syntax error, unexpected ${open.value}`, open.loc);
    const elems: RawElem[] = [];
    while (!this.is("}")) {
      const elemStart = this.pos;
      const atoms = [this.expectWord().value];
      while (this.is(".")) {
        this.next();
        atoms.push(this.expectWord().value);
      }
      const elem: RawElem = { atoms, loc: this.locFrom(elemStart) };
      if (isMap) {
        const colon = this.expectWord();
        if (colon.value !== ":") throw new NftSyntaxError(`syntax error, unexpected ${colon.value}`, colon.loc);
        elem.verdict = this.expectWord().value;
        if (elem.verdict === "jump" || elem.verdict === "goto") elem.verdict += ` ${this.expectWord().value}`;
      }
      elems.push(elem);
      if (this.is(",")) this.next();
      else if (!this.is("}")) {
        const t = this.next();
        throw new NftSyntaxError(`syntax error, unexpected ${t.value}`, t.loc);
      }
    }
    this.next();
    return elems;
  }

  private match(start: number, left: LeftExpr): void {
    const dtype = left.dtypes[0];
    const flags = FLAG_BITS[dtype];
    // `tcp flags & (fin | syn) == syn` and `tcp flags syn / fin,syn` are the same mask match.
    if (flags && this.is("&")) {
      this.next();
      const mask = this.flagGroup();
      const opTok = this.next();
      const op = opTok.value === "!=" ? "!=" : "==";
      const value = this.flagList();
      return this.maskedFlags(start, left, flags, value, mask, op);
    }
    let op = "";
    if (["!=", "==", "<", ">", "<=", ">="].includes(this.peek()?.value ?? "") && this.peek()?.kind === "punct") op = this.next().value;
    if (this.is("{")) {
      const elems = this.setElems(false);
      const rendered = elems.map((e) => renderElem(left.dtypes, e));
      if (rendered.length === 1) return this.simpleMatch(start, left, op, rendered[0].text, rendered[0].json);
      rendered.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const text = `${left.text}${op && op !== "==" ? ` ${op}` : ""} { ${rendered.map((r) => r.text).join(", ")} }`;
      this.plain(start, text, { match: { op: op || "==", left: left.json, right: { set: rendered.map((r) => r.json) } } }, { anonSets: 1, dep: this.depOf(left, "") });
      return;
    }
    if (flags) {
      const value = this.flagList();
      if (this.is("/")) {
        this.next();
        return this.maskedFlags(start, left, flags, value, this.flagList(), op === "!=" ? "!=" : "==");
      }
      const sorted = sortFlags(flags, value);
      const text = `${left.text}${op && op !== "==" ? ` ${op}` : ""} ${sorted.join(",")}`;
      this.plain(start, text, { match: { op: op || "in", left: left.json, right: sorted.length === 1 ? sorted[0] : sorted } }, { dep: this.depOf(left, "") });
      return;
    }
    const atomTok = this.expectWord();
    if (atomTok.value.startsWith("@")) {
      this.plain(start, `${left.text}${op && op !== "==" ? ` ${op}` : ""} ${atomTok.value}`, { match: { op: op || "==", left: left.json, right: atomTok.value } }, { setRef: atomTok.value.slice(1) });
      return;
    }
    const atoms = [atomTok.value];
    while (left.dtypes.length > atoms.length && this.is(".")) {
      this.next();
      atoms.push(this.expectWord().value);
    }
    const r = renderElem(left.dtypes, { atoms, loc: atomTok.loc });
    this.simpleMatch(start, left, op, r.text, r.json);
  }

  private simpleMatch(start: number, left: LeftExpr, op: string, text: string, json: Json): void {
    // Only a plain equality can stand for an implied dependency.
    const dep = op && op !== "==" && !left.protos.length ? undefined : this.depOf(left, text);
    this.plain(start, `${left.text}${op && op !== "==" ? ` ${op}` : ""} ${text}`, { match: { op: op || "==", left: left.json, right: json } }, { dep });
  }

  private maskedFlags(start: number, left: LeftExpr, flags: Record<string, number>, value: string[], mask: string[], op: string): void {
    const v = sortFlags(flags, value);
    const m = sortFlags(flags, mask);
    const text = `${left.text}${op === "!=" ? " !=" : ""} ${v.join(",")} / ${m.join(",")}`;
    this.plain(start, text, { match: { op, left: { "&": [left.json, m.length === 1 ? m[0] : m] }, right: v.length === 1 ? v[0] : v } }, { dep: this.depOf(left, "") });
  }

  /** `(fin | syn | rst)` or a single flag. */
  private flagGroup(): string[] {
    if (!this.is("(")) return this.flagList();
    this.next();
    const out = [this.expectWord().value];
    while (this.is("|")) {
      this.next();
      out.push(this.expectWord().value);
    }
    const close = this.next();
    if (close.value !== ")") throw new NftSyntaxError(`syntax error, unexpected ${close.value}`, close.loc);
    return out;
  }

  /** `established,related` */
  private flagList(): string[] {
    const out = [this.expectWord().value];
    while (this.is(",")) {
      this.next();
      out.push(this.expectWord().value);
    }
    return out;
  }
}

function sortFlags(bits: Record<string, number>, names: string[]): string[] {
  return [...new Set(names)].sort((a, b) => (bits[a] ?? 0) - (bits[b] ?? 0));
}

function normalizeUnit(u: string): string {
  const units: Record<string, string> = { s: "second", sec: "second", second: "second", m: "minute", min: "minute", minute: "minute", h: "hour", hour: "hour", d: "day", day: "day", week: "week" };
  return units[u] ?? u;
}

/** The implicit matches nft adds in front of a payload match in the inet family (and hides when listing). */
function dependencyOf(proto: string): { l4?: string; nf?: string } {
  switch (proto) {
    case "ip":
      return { nf: "ipv4" };
    case "ip6":
      return { nf: "ipv6" };
    case "icmp":
      return { nf: "ipv4", l4: "icmp" };
    case "icmpv6":
      return { nf: "ipv6", l4: "ipv6-icmp" };
    case "tcp":
    case "udp":
    case "udplite":
    case "sctp":
    case "dccp":
    case "igmp":
    case "esp":
    case "ah":
      return { l4: proto };
    default:
      return {};
  }
}

/**
 * nft drops a written match that equals the dependency of the payload match right after it, and adds
 * `meta l4proto tcp` in front of `reject with tcp reset` when nothing restricts the rule to TCP.
 */
function fixDependencies(stmts: Stmt[], family: string): Stmt[] {
  const out: Stmt[] = [];
  for (const stmt of stmts) {
    const payload = stmt.kind === "plain" ? stmt.dep?.payload : undefined;
    if (payload) {
      const dep = dependencyOf(payload);
      for (;;) {
        const prev = out[out.length - 1];
        const prevDep = prev?.kind === "plain" ? prev.dep : undefined;
        if (!prevDep) break;
        if ((dep.l4 && prevDep.l4proto === dep.l4) || (dep.nf && family === "inet" && prevDep.nfproto === dep.nf)) out.pop();
        else break;
      }
    }
    if (stmt.kind === "plain" && stmt.text === "reject with tcp reset") {
      const prev = out[out.length - 1];
      const prevDep = prev?.kind === "plain" ? prev.dep : undefined;
      const restricted = prevDep && (prevDep.l4proto === "tcp" || prevDep.payload === "tcp");
      if (!restricted) {
        out.push({
          kind: "plain",
          text: "meta l4proto tcp",
          json: { match: { op: "==", left: { meta: { key: "l4proto" } }, right: "tcp" } },
          loc: stmt.loc,
          anonSets: 0,
        });
      }
    }
    out.push(stmt);
  }
  return out;
}

/** Rebuilds source text from tokens, keeping single spaces where the input had whitespace. */
export function joinTokens(tokens: Token[]): string {
  return tokens
    .map((t, i) => {
      const text = t.kind === "string" ? `"${t.value}"` : t.value;
      return i > 0 && t.spaced ? ` ${text}` : text;
    })
    .join("");
}

const SET_TYPE_DTYPE: Record<string, DType> = {
  ipv4_addr: "ipv4",
  ipv6_addr: "ipv6",
  inet_service: "port",
  ifname: "ifname",
  ether_addr: "ether",
  inet_proto: "l4proto",
  mark: "mark",
  icmp_type: "icmp_type",
  icmpv6_type: "icmpv6_type",
};

export interface SetElement {
  text: string;
  json: Json;
  key: bigint;
}

/** Elements of a named set (`{ 10.0.0.1, 10.0.0.2 }`), rendered for its type (`ipv4_addr . inet_service`). */
export function parseSetElements(tokens: Token[], typeNames: string[]): SetElement[] {
  const dtypes = typeNames.map((t) => SET_TYPE_DTYPE[t] ?? "other");
  return new RuleParser(tokens, "inet").elements(dtypes);
}

/** Parses the statements of one rule (tokens between newlines/semicolons, variables already expanded). */
export function parseRule(tokens: Token[], family: string): ParsedRule {
  return new RuleParser(tokens, family).parse();
}
