import type { NftChain, NftFlowtable, NftRule, NftSet, NftState, NftTable } from "./kernel";
import type { Loc } from "./lexer";
import type { ListCommand } from "./parser";
import { type Json, stmtJson, stmtText } from "./rules";

export const NFT_VERSION = "1.0.6";
export const NFT_RELEASE_NAME = "Lester Gooch #5";

export interface ListOptions {
  handles: boolean;
  terse: boolean;
  stateless: boolean;
}

// --- errors ----------------------------------------------------------------------------------

/**
 * nft's error report: the includes that led to the file, `file:line:col-col: Error: msg`, the input line, and
 * carets under the culprit. A location spanning lines keeps its first line and its columns, whatever line
 * they were on (nft's erec_print does no better).
 */
export function formatError(message: string, loc?: Loc): string {
  if (!loc) return `Error: ${message}\n`;
  let includes = "";
  let label = "In file included from";
  for (let at = loc.source.includedFrom; at; at = at.source.includedFrom) {
    includes += `${label} ${at.source.name}:${at.line}:${at.col}-${at.endCol}:\n`;
    label = "                 from";
  }
  const prefix = loc.source.name === null ? "" : `${loc.source.name}:${loc.line}:${loc.col}-${loc.endCol}: `;
  const text = loc.quoted ?? loc.source.lines[loc.line - 1] ?? "";
  let marker = "";
  for (let i = 0; i < loc.col - 1; i++) marker += text[i] === "\t" ? "\t" : " ";
  marker += "^".repeat(Math.max(1, loc.endCol - loc.col + 1));
  return `${includes}${prefix}Error: ${message}\n${text}\n${marker}\n`;
}

// --- text ------------------------------------------------------------------------------------

const STD_PRIOS: [string, number][] = [
  ["raw", -300],
  ["mangle", -150],
  ["dstnat", -100],
  ["filter", 0],
  ["security", 50],
  ["srcnat", 100],
];
const BRIDGE_PRIOS: [string, number][] = [
  ["dstnat", -300],
  ["filter", -200],
  ["out", 100],
  ["srcnat", 300],
];

/** Which standard priority names nft may print for a family/hook (`dstnat` only on prerouting...). */
function prioCompatible(name: string, family: string, hook: string): boolean {
  if (name === "filter") return true;
  if (!["inet", "ip", "ip6", "bridge", "arp"].includes(family)) return false;
  if (name === "dstnat") return hook === "prerouting" || hook === "output";
  if (name === "srcnat") return hook === "postrouting" || hook === "input";
  return true;
}

/** nft's prio2str: a standard name, a name with an offset up to 10, or the number. */
export function prioText(prio: number, family: string, hook: string): string {
  for (const [name, value] of family === "bridge" ? BRIDGE_PRIOS : STD_PRIOS) {
    if (Math.abs(prio - value) > 10) continue;
    if (!prioCompatible(name, family, hook)) break;
    const offset = prio - value;
    return offset > 0 ? `${name} + ${offset}` : offset < 0 ? `${name} - ${-offset}` : name;
  }
  return String(prio);
}

const handleNote = (o: ListOptions, handle: number) => (o.handles ? ` # handle ${handle}` : "");

function ruleText(rule: NftRule, o: ListOptions): string {
  const body = rule.stmts.map((s) => stmtText(s, o.stateless)).join(" ");
  const comment = rule.comment !== undefined ? ` comment "${rule.comment}"` : "";
  return `${body}${comment}${handleNote(o, rule.handle)}`;
}

function chainHeader(table: NftTable, chain: NftChain, o: ListOptions): string {
  let out = `\tchain ${chain.name} {${handleNote(o, chain.handle)}\n`;
  const b = chain.base;
  if (b) {
    const device = b.device ? ` device "${b.device}"` : "";
    out += `\t\ttype ${b.type} hook ${b.hook}${device} priority ${prioText(b.prio, table.family, b.hook)}; policy ${b.policy};\n`;
  }
  return out;
}

function chainText(table: NftTable, chain: NftChain, o: ListOptions): string {
  return `${chainHeader(table, chain, o)}${chain.rules.map((r) => `\t\t${ruleText(r, o)}\n`).join("")}\t}\n`;
}

function flowtableText(ft: NftFlowtable, o: ListOptions): string {
  let out = `\tflowtable ${ft.name} {${handleNote(o, ft.handle)}\n`;
  out += `\t\thook ${ft.hook} priority ${prioText(ft.prio, "netdev", ft.hook)}\n`;
  if (ft.devices.length) out += `\t\tdevices = { ${ft.devices.join(", ")} }\n`;
  if (ft.offload) out += "\t\tflags offload\n";
  if (ft.counter) out += "\t\tcounter\n";
  return `${out}\t}\n`;
}

function setText(set: NftSet, o: ListOptions): string {
  let out = `\t${set.dataType ? "map" : "set"} ${set.name} {${handleNote(o, set.handle)}\n`;
  out += `\t\ttype ${set.type}${set.dataType ? ` : ${set.dataType}` : ""}\n`;
  if (set.flags.length) out += `\t\tflags ${set.flags.join(",")}\n`;
  if (set.autoMerge) out += "\t\tauto-merge\n";
  if (!o.terse && set.elements.length) out += `\t\telements = { ${set.elements.map((e) => e.text).join(", ")} }\n`;
  return `${out}\t}\n`;
}

export function tableText(table: NftTable, o: ListOptions): string {
  const parts = [
    ...table.sets.map((s) => setText(s, o)),
    ...table.flowtables.map((f) => flowtableText(f, o)),
    ...table.chains.map((c) => chainText(table, c, o)),
  ];
  return `table ${table.family} ${table.name} {${handleNote(o, table.handle)}\n${parts.join("\n")}}\n`;
}

// --- JSON ------------------------------------------------------------------------------------

/** jansson's default layout, which nft uses: one line, `", "` and `": "` separators. */
export function jsonText(value: Json): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jsonText).join(", ")}]`;
  const entries = Object.entries(value);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${jsonText(v)}`).join(", ")}}`;
}

const metainfo: Json = { metainfo: { version: NFT_VERSION, release_name: NFT_RELEASE_NAME, json_schema_version: 1 } };

function tableJson(t: NftTable): Json {
  return { table: { family: t.family, name: t.name, handle: t.handle } };
}

function chainJson(t: NftTable, c: NftChain): Json {
  const chain: { [k: string]: Json } = { family: t.family, table: t.name, name: c.name, handle: c.handle };
  if (c.base) {
    chain.type = c.base.type;
    chain.hook = c.base.hook;
    if (c.base.device) chain.dev = c.base.device;
    chain.prio = c.base.prio;
    chain.policy = c.base.policy;
  }
  return { chain };
}

function ruleJson(t: NftTable, c: NftChain, r: NftRule): Json {
  const rule: { [k: string]: Json } = { family: t.family, table: t.name, chain: c.name, handle: r.handle };
  if (r.comment !== undefined) rule.comment = r.comment;
  rule.expr = r.stmts.map(stmtJson);
  return { rule };
}

/** nft ≤ 1.0.x: no flags or counter in JSON; `dev` is a string for one device. */
function flowtableJson(t: NftTable, f: NftFlowtable): Json {
  const ft: { [k: string]: Json } = { family: t.family, name: f.name, table: t.name, handle: f.handle, hook: f.hook, prio: f.prio };
  if (f.devices.length) ft.dev = f.devices.length === 1 ? f.devices[0] : [...f.devices];
  return { flowtable: ft };
}

function setJson(t: NftTable, s: NftSet, o: ListOptions): Json {
  const types = s.type.split(" . ");
  const set: { [k: string]: Json } = { family: t.family, name: s.name, table: t.name, type: types.length === 1 ? types[0] : types, handle: s.handle };
  if (s.dataType) set.map = s.dataType;
  if (s.flags.length) set.flags = [...s.flags];
  if (!o.terse && s.elements.length) set.elem = s.elements.map((e) => e.json);
  return { [s.dataType ? "map" : "set"]: set };
}

function tableJsonFull(t: NftTable, o: ListOptions): Json[] {
  return [
    tableJson(t),
    ...t.sets.map((s) => setJson(t, s, o)),
    ...t.flowtables.map((f) => flowtableJson(t, f)),
    ...t.chains.map((c) => chainJson(t, c)),
    ...t.chains.flatMap((c) => c.rules.map((r) => ruleJson(t, c, r))),
  ];
}

// --- list commands ---------------------------------------------------------------------------

export interface ListResult {
  output?: string;
  /** Set when the object does not exist: where nft puts its carets. */
  missing?: Loc;
}

/** Answers one `list` command from the ruleset, as text or JSON. */
export function runList(state: NftState, cmd: ListCommand, o: ListOptions, json: boolean): ListResult {
  const inFamily = state.tables.filter((t) => cmd.family === undefined || t.family === cmd.family);
  const wrap = (items: Json[]) => `${jsonText({ nftables: [metainfo, ...items] })}\n`;
  const findTable = () => state.tables.find((t) => t.family === cmd.family && t.name === cmd.table);
  switch (cmd.what) {
    case "ruleset":
      return { output: json ? wrap(inFamily.flatMap((t) => tableJsonFull(t, o))) : inFamily.map((t) => tableText(t, o)).join("") };
    case "tables":
      return { output: json ? wrap(inFamily.map(tableJson)) : inFamily.map((t) => `table ${t.family} ${t.name}\n`).join("") };
    case "table": {
      const t = findTable();
      if (!t) return { missing: cmd.tableLoc };
      return { output: json ? wrap(tableJsonFull(t, o)) : tableText(t, o) };
    }
    case "chains":
      return {
        output: json
          ? wrap(inFamily.flatMap((t) => t.chains.map((c) => chainJson(t, c))))
          : inFamily.map((t) => `table ${t.family} ${t.name} {\n${t.chains.map((c) => `${chainHeader(t, c, o)}\t}\n`).join("")}}\n`).join(""),
      };
    case "flowtables":
      return {
        output: json
          ? wrap(inFamily.flatMap((t) => t.flowtables.map((f) => flowtableJson(t, f))))
          : inFamily.map((t) => `table ${t.family} ${t.name} {\n${t.flowtables.map((f) => flowtableText(f, o)).join("")}}\n`).join(""),
      };
    case "sets":
      return {
        output: json
          ? wrap(inFamily.flatMap((t) => t.sets.map((s) => setJson(t, s, o))))
          : inFamily.map((t) => `table ${t.family} ${t.name} {\n${t.sets.map((s) => setText(s, o)).join("")}}\n`).join(""),
      };
    case "chain": {
      const t = findTable();
      const c = t?.chains.find((x) => x.name === cmd.name);
      if (!t || !c) return { missing: t ? cmd.nameLoc : cmd.tableLoc };
      return { output: json ? wrap([chainJson(t, c), ...c.rules.map((r) => ruleJson(t, c, r))]) : `table ${t.family} ${t.name} {\n${chainText(t, c, o)}}\n` };
    }
    case "flowtable": {
      const t = findTable();
      const f = t?.flowtables.find((x) => x.name === cmd.name);
      if (!t || !f) return { missing: t ? cmd.nameLoc : cmd.tableLoc };
      return { output: json ? wrap([flowtableJson(t, f)]) : `table ${t.family} ${t.name} {\n${flowtableText(f, o)}}\n` };
    }
    case "set": {
      const t = findTable();
      const s = t?.sets.find((x) => x.name === cmd.name);
      if (!t || !s) return { missing: t ? cmd.nameLoc : cmd.tableLoc };
      return { output: json ? wrap([setJson(t, s, o)]) : `table ${t.family} ${t.name} {\n${setText(s, o)}}\n` };
    }
  }
}
