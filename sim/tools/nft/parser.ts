import * as path from "path";
import type { RouterFs } from "../../fs";
import { globToRegExp } from "../glob";
import type { Batch, ChainBase, FlowtableSpec, SetSpec, TableRef } from "./kernel";
import { type Loc, type Source, type Token, NftSyntaxError, NftSyntaxErrors, makeSource, span, tokenize } from "./lexer";
import { parseRule, parseSetElements } from "./rules";

export const FAMILIES = new Set(["ip", "ip6", "inet", "arp", "bridge", "netdev"]);

export type ListWhat = "ruleset" | "tables" | "table" | "chains" | "chain" | "flowtables" | "flowtable" | "sets" | "set";

export interface ListCommand {
  what: ListWhat;
  family?: string;
  table?: string;
  name?: string;
  tableLoc?: Loc;
  nameLoc?: Loc;
}

/** A parsed script: kernel batch operations, plus the list commands to answer. */
export interface Script {
  ops: ((batch: Batch) => void)[];
  lists: ListCommand[];
}

/** nft's error for a file it cannot open. */
export class NftFileError extends Error {}

const MAX_INCLUDE_DEPTH = 16;
/** nft stops parsing after this many syntax errors (parser_max_errors). */
const MAX_ERRORS = 10;
/** Where nft looks for relative include paths on OpenWrt. */
const INCLUDE_PATH = "/etc";

const STD_PRIOS: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
const BRIDGE_PRIOS: Record<string, number> = { dstnat: -300, filter: -200, out: 100, srcnat: 300 };

/**
 * Turns input text into batch operations and list commands; throws NftSyntaxError (one error) or
 * NftSyntaxErrors (what the parser reported before it gave up) like nft's parser.
 */
export function parseScript(source: Source, fs: RouterFs): Script {
  const preprocessor = new Preprocessor(fs);
  const tokens = preprocessor.run(tokenize(source), 0);
  const before = preprocessor.errors;
  let script: Script;
  try {
    script = new ScriptParser(tokens, source).parse();
  } catch (e) {
    if (before.length === 0) throw e;
    // After a syntax error nft evaluates nothing, so only further syntax errors are reported.
    if (e instanceof NftSyntaxErrors) throw new NftSyntaxErrors([...before, ...e.errors]);
    if (e instanceof NftSyntaxError) throw new NftSyntaxErrors(before);
    throw e;
  }
  if (before.length) throw new NftSyntaxErrors(before);
  return script;
}

function isEnd(t: Token | undefined): boolean {
  return t === undefined || (t.kind !== "string" && (t.value === "\n" || t.value === ";"));
}

/** Resolves `include`, `define` and `$variables` before parsing, as nft's scanner does. */
class Preprocessor {
  private readonly defines = new Map<string, Token[]>();
  /** Includes of missing files: reported like syntax errors, and parsing goes on. */
  readonly errors: NftSyntaxError[] = [];

  constructor(private readonly fs: RouterFs) {}

  run(tokens: Token[], depth: number): Token[] {
    const out: Token[] = [];
    let i = 0;
    const atStatementStart = () => {
      const prev = out[out.length - 1];
      return prev === undefined || isEnd(prev) || (prev.kind === "punct" && (prev.value === "{" || prev.value === "}"));
    };
    while (i < tokens.length) {
      const t = tokens[i];
      if (t.kind === "word" && t.value === "define" && atStatementStart()) {
        const name = tokens[i + 1];
        const eq = tokens[i + 2];
        if (!name || name.kind !== "word" || !eq || eq.value !== "=") throw new NftSyntaxError("syntax error, unexpected define", t.loc);
        let j = i + 3;
        let depthBraces = 0;
        const value: Token[] = [];
        while (j < tokens.length && (depthBraces > 0 || !isEnd(tokens[j]))) {
          if (tokens[j].value === "{" && tokens[j].kind === "punct") depthBraces++;
          if (tokens[j].value === "}" && tokens[j].kind === "punct") depthBraces--;
          if (tokens[j].kind !== "nl") value.push(tokens[j]);
          j++;
        }
        this.defines.set(name.value, this.expandVars(value));
        i = j;
      } else if (t.kind === "word" && t.value === "include" && atStatementStart()) {
        const file = tokens[i + 1];
        if (!file || file.kind !== "string") throw new NftSyntaxError("syntax error, unexpected include", t.loc);
        // In nft's grammar the include statement ends with its newline or `;`, and so does its location.
        const sep = tokens[i + 2];
        const loc = span(t.loc, sep && isEnd(sep) ? sep.loc : file.loc);
        try {
          out.push(...this.include(file.value, loc, depth));
          i += 2;
        } catch (e) {
          if (!(e instanceof NftSyntaxError) || !e.recoverable) throw e;
          this.errors.push(e);
          // The parser has read the statement with its separator; recovering, it drops the rest of the next line.
          i += sep && isEnd(sep) ? 3 : 2;
          while (i < tokens.length && !isEnd(tokens[i])) i++;
          i++;
        }
      } else {
        out.push(...this.expandVars([t]));
        i++;
      }
    }
    return out;
  }

  private expandVars(tokens: Token[]): Token[] {
    return tokens.flatMap((t) => {
      if (t.kind !== "word" || !t.value.startsWith("$")) return [t];
      const value = this.defines.get(t.value.slice(1));
      if (!value) throw new NftSyntaxError(`unknown identifier '${t.value.slice(1)}'`, t.loc);
      return value.map((v, idx) => ({ ...v, loc: t.loc, spaced: idx === 0 ? t.spaced : v.spaced }));
    });
  }

  private include(pattern: string, loc: Loc, depth: number): Token[] {
    if (depth >= MAX_INCLUDE_DEPTH) throw new NftSyntaxError(`Include nested too deeply, max ${MAX_INCLUDE_DEPTH} levels`, loc);
    const full = pattern.startsWith("/") ? pattern : path.posix.join(INCLUDE_PATH, pattern);
    let files: string[];
    if (/[*?[]/.test(path.posix.basename(full))) {
      const dir = path.posix.dirname(full);
      const re = globToRegExp(path.posix.basename(full));
      files = this.fs
        .list(dir)
        .filter((n) => re.test(n))
        .map((n) => path.posix.join(dir, n))
        .filter((p) => !this.fs.isDir(p));
    } else {
      if (!this.fs.exists(full) || this.fs.isDir(full)) throw new NftSyntaxError(`File not found: ${pattern}`, loc, true);
      files = [full];
    }
    const out: Token[] = [];
    for (const file of files) {
      const text = this.fs.tryReadText(file);
      if (text === undefined) throw new NftSyntaxError(`Could not open file "${file}": No such file or directory`, loc);
      out.push(...this.run(tokenize(makeSource(file, text, loc)), depth + 1));
      // The included file's last statement ends where the file does.
      out.push({ kind: "nl", value: "\n", loc, spaced: false });
    }
    return out;
  }
}

class ScriptParser {
  private pos = 0;
  private readonly script: Script = { ops: [], lists: [] };
  private readonly errors: NftSyntaxError[] = [];

  constructor(
    private readonly tokens: Token[],
    private readonly source: Source,
  ) {}

  parse(): Script {
    for (;;) {
      this.skipEnds();
      if (this.pos >= this.tokens.length) break;
      this.recovering(() => {
        this.command();
        const t = this.peek();
        if (t && !isEnd(t)) this.unexpected(t);
      });
    }
    if (this.errors.length) throw new NftSyntaxErrors(this.errors);
    return this.script;
  }

  /**
   * Runs one line of a block. A grammar error in it does not end the parse: like nft's `error stmt_separator`
   * rule, the rest of the line up to the next newline or `;` is dropped and the block reads on, so one
   * mistake can bring more reports (a block left open ends in "unexpected end of file").
   */
  private recovering(line: () => void): void {
    try {
      line();
    } catch (e) {
      if (!(e instanceof NftSyntaxError) || !e.recoverable) {
        if (this.errors.length && e instanceof NftSyntaxError) throw new NftSyntaxErrors(this.errors);
        throw e;
      }
      this.errors.push(e);
      if (this.errors.length >= MAX_ERRORS || this.pos >= this.tokens.length) throw new NftSyntaxErrors(this.errors);
      for (let t = this.peek(); t !== undefined; t = this.peek()) {
        this.pos++;
        if (isEnd(t)) break;
      }
    }
  }

  /** A line of a block must end in a newline or `;`: `counter accept }` is an error. */
  private endOfLine(): void {
    const t = this.peek();
    if (!isEnd(t)) this.unexpected(t, "newline or semicolon");
  }

  // --- token helpers -----------------------------------------------------------------------

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  private is(value: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t !== undefined && t.kind !== "string" && t.value === value;
  }

  private skipEnds(): void {
    while (this.peek() && isEnd(this.peek())) this.pos++;
  }

  /** Column 1 of the line after the last newline; nft quotes the last line it read there. */
  private endLoc(): Loc {
    const { lines } = this.source;
    const line = lines.length;
    return { source: this.source, line, col: 1, endLine: line, endCol: 1, quoted: lines[Math.max(0, line - 2)] };
  }

  private unexpected(t: Token | undefined, expecting?: string): never {
    const what = t === undefined ? "end of file" : t.kind === "nl" ? "newline" : t.kind === "punct" ? `'${t.value}'` : "string";
    const loc = t === undefined ? this.endLoc() : t.kind === "nl" ? { ...t.loc, endCol: t.loc.col } : t.loc;
    throw new NftSyntaxError(`syntax error, unexpected ${what}${expecting ? `, expecting ${expecting}` : ""}`, loc, true);
  }

  private next(): Token {
    const t = this.peek();
    if (t === undefined) this.unexpected(t);
    this.pos++;
    return t;
  }

  /** `expecting` is what bison names in its message; object keywords (`list <what>`) name nothing. */
  private word(expecting: string | null = "string"): Token {
    const t = this.peek();
    if (!t || isEnd(t) || t.kind === "punct") this.unexpected(t, expecting ?? undefined);
    this.pos++;
    return t;
  }

  private expect(value: string): Token {
    const t = this.peek();
    if (!t || t.value !== value || t.kind === "string") this.unexpected(t, `'${value}'`);
    this.pos++;
    return t;
  }

  private optionalFamily(): string {
    const t = this.peek();
    if (t && t.kind === "word" && FAMILIES.has(t.value)) {
      this.pos++;
      return t.value;
    }
    return "ip";
  }

  private tableRef(): TableRef {
    const family = this.optionalFamily();
    const name = this.word();
    return { family, table: name.value, tableLoc: name.loc };
  }

  /** Tokens of one statement, up to a newline/`;` outside braces (or the closing brace of the block). */
  private statementTokens(): Token[] {
    const out: Token[] = [];
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (t === undefined) break;
      if (t.kind === "punct" && t.value === "}" && depth === 0) break;
      if (depth === 0 && isEnd(t)) break;
      if (t.kind === "punct" && t.value === "{") depth++;
      if (t.kind === "punct" && t.value === "}") depth--;
      this.pos++;
      if (t.kind !== "nl") out.push(t);
    }
    return out;
  }

  // --- commands ----------------------------------------------------------------------------

  private command(): void {
    const start = this.peek()!;
    const verb = start.kind === "word" ? start.value : "";
    switch (verb) {
      case "table":
        this.pos++;
        return this.addTable(false);
      case "add":
      case "create":
        this.pos++;
        return this.add(start, verb === "create");
      case "insert":
        this.pos++;
        this.expect("rule");
        return this.addRuleCommand(true);
      case "delete":
      case "destroy":
        this.pos++;
        return this.del();
      case "flush":
        this.pos++;
        return this.flush();
      case "list":
        this.pos++;
        return this.list();
      default:
        this.unexpected(start);
    }
  }

  private add(start: Token, exclusive: boolean): void {
    const obj = this.word(null);
    switch (obj.value) {
      case "table":
        return this.addTable(exclusive);
      case "chain": {
        const ref = this.tableRef();
        const name = this.word();
        let base: ChainBase | undefined;
        if (this.is("{")) {
          this.pos++;
          base = this.chainBody(ref, name.value, []);
        }
        this.script.ops.push((b) => b.addChain(ref, name.value, name.loc, base, exclusive));
        return;
      }
      case "rule":
        return this.addRuleCommand(false);
      case "flowtable": {
        const ref = this.tableRef();
        const name = this.word();
        this.expect("{");
        const spec = this.flowtableBody();
        // A kernel error on a flowtable given as a command points at the whole command line, which in nft's
        // grammar includes the newline or `;` that ends it.
        const end = this.peek();
        const loc = span(start.loc, end && isEnd(end) ? end.loc : this.tokens[this.pos - 1].loc);
        this.script.ops.push((b) => b.addFlowtable(ref, name.value, loc, spec, exclusive));
        return;
      }
      case "set":
      case "map": {
        const ref = this.tableRef();
        const name = this.word();
        this.expect("{");
        const spec = this.setBody();
        this.script.ops.push((b) => b.addSet(ref, name.value, name.loc, spec, exclusive));
        return;
      }
      case "element": {
        const ref = this.tableRef();
        const name = this.word();
        const elemTokens = this.statementTokens();
        this.script.ops.push((b) => b.addElements(ref, name.value, name.loc, elemTokens));
        return;
      }
      default:
        this.unexpected(obj);
    }
  }

  private addTable(exclusive: boolean): void {
    const ref = this.tableRef();
    this.script.ops.push((b) => b.addTable(ref, exclusive));
    if (!this.is("{")) return;
    this.pos++;
    // nft expands a table block into chains, sets, flowtables, then the rules of each chain.
    const chains: ((b: Batch) => void)[] = [];
    const sets: ((b: Batch) => void)[] = [];
    const flowtables: ((b: Batch) => void)[] = [];
    const rules: ((b: Batch) => void)[] = [];
    this.block(() => {
      const kind = this.word();
      switch (kind.value) {
        case "chain": {
          const name = this.word();
          this.expect("{");
          const chainRules: ((b: Batch) => void)[] = [];
          const base = this.chainBody(ref, name.value, chainRules);
          chains.push((b) => b.addChain(ref, name.value, name.loc, base, false));
          rules.push(...chainRules);
          break;
        }
        case "flowtable": {
          const name = this.word();
          this.expect("{");
          const spec = this.flowtableBody();
          flowtables.push((b) => b.addFlowtable(ref, name.value, name.loc, spec, false));
          break;
        }
        case "set":
        case "map": {
          const name = this.word();
          this.expect("{");
          const spec = this.setBody();
          sets.push((b) => b.addSet(ref, name.value, name.loc, spec, false));
          break;
        }
        default:
          this.unexpected(kind);
      }
      this.endOfLine();
    });
    this.script.ops.push(...chains, ...sets, ...flowtables, ...rules);
  }

  /** Parses a chain body after `{`; rule operations go to `rules`. Returns the base chain spec, if any. */
  private chainBody(ref: TableRef, chain: string, rules: ((b: Batch) => void)[]): ChainBase | undefined {
    let base: ChainBase | undefined;
    this.block(() => {
      if (this.is("type")) {
        this.pos++;
        const type = this.word().value;
        this.expect("hook");
        const hook = this.word().value;
        let device: string | undefined;
        if (this.is("device")) {
          this.pos++;
          device = this.word().value;
        }
        this.expect("priority");
        base = { type, hook, prio: this.priority(ref.family), policy: base?.policy ?? "accept", device };
      } else if (this.is("policy")) {
        this.pos++;
        const policy = this.word().value;
        if (base) base.policy = policy;
      } else if (this.is("comment")) {
        this.pos++;
        this.word();
      } else {
        const rule = parseRule(this.statementTokens(), ref.family);
        rules.push((b) => b.addRule(ref, chain, undefined, rule, { insert: false }));
      }
      this.endOfLine();
    });
    return base;
  }

  /** The lines of a block up to its `}`, each read with nft's error recovery. */
  private block(line: () => void): void {
    for (;;) {
      this.skipEnds();
      const t = this.peek();
      if (t?.kind === "punct" && t.value === "}") {
        this.pos++;
        return;
      }
      this.recovering(() => {
        if (t === undefined) this.unexpected(t);
        line();
      });
    }
  }

  private priority(family: string): number {
    const t = this.word();
    const names = family === "bridge" ? BRIDGE_PRIOS : STD_PRIOS;
    let prio = t.value in names ? names[t.value] : Number(t.value);
    if (Number.isNaN(prio)) this.unexpected(t);
    if (this.is("+") || this.is("-")) {
      const sign = this.next().value === "+" ? 1 : -1;
      prio += sign * Number(this.word().value);
    }
    return prio;
  }

  private flowtableBody(): FlowtableSpec {
    const spec: FlowtableSpec = { hook: "ingress", prio: 0, devices: [], offload: false, counter: false };
    this.block(() => {
      const key = this.word();
      switch (key.value) {
        case "hook":
          spec.hook = this.word().value;
          this.expect("priority");
          spec.prio = this.priority("netdev");
          break;
        case "devices": {
          this.expect("=");
          if (this.is("{")) {
            this.pos++;
            const devices: string[] = [];
            while (!this.is("}")) {
              if (this.is(",") || this.peek()?.kind === "nl") {
                this.pos++;
                continue;
              }
              devices.push(this.word().value);
            }
            this.pos++;
            spec.devices = devices;
          } else {
            spec.devices = [this.word().value];
          }
          break;
        }
        case "flags":
          spec.offload = this.word().value === "offload" || spec.offload;
          break;
        case "counter":
          spec.counter = true;
          break;
        default:
          this.unexpected(key);
      }
      this.endOfLine();
    });
    return spec;
  }

  private setBody(): SetSpec {
    const spec: SetSpec = { type: "", flags: [], autoMerge: false, elements: [] };
    let elementTokens: Token[] = [];
    this.block(() => {
      const key = this.word();
      const value = this.statementTokens();
      switch (key.value) {
        case "type": {
          const text = value.map((v) => v.value).join(" ");
          const [keyType, dataType] = text.split(" : ");
          spec.type = keyType;
          spec.dataType = dataType;
          break;
        }
        case "flags":
          spec.flags = value.filter((v) => v.value !== ",").map((v) => v.value);
          break;
        case "auto-merge":
          spec.autoMerge = true;
          break;
        case "elements":
          elementTokens = value.slice(1);
          break;
      }
      this.endOfLine();
    });
    if (elementTokens.length) spec.elements = parseSetElements(elementTokens, spec.type.split(" . "));
    return spec;
  }

  private addRuleCommand(insert: boolean): void {
    const ref = this.tableRef();
    const chain = this.word();
    let handle: number | undefined;
    let handleLoc: Loc | undefined;
    if (this.is("position") || this.is("handle")) {
      this.pos++;
      const h = this.word();
      handle = Number(h.value);
      handleLoc = h.loc;
    }
    const rule = parseRule(this.statementTokens(), ref.family);
    this.script.ops.push((b) => b.addRule(ref, chain.value, chain.loc, rule, { insert, handle, handleLoc }));
  }

  private del(): void {
    const obj = this.word(null);
    switch (obj.value) {
      case "table": {
        const ref = this.tableRef();
        this.script.ops.push((b) => b.deleteTable(ref));
        return;
      }
      case "chain":
      case "flowtable":
      case "set":
      case "map": {
        const ref = this.tableRef();
        const name = this.word();
        if (obj.value === "chain") this.script.ops.push((b) => b.deleteChain(ref, name.value, name.loc));
        else if (obj.value === "flowtable") this.script.ops.push((b) => b.deleteFlowtable(ref, name.value, name.loc));
        else this.script.ops.push((b) => b.deleteSet(ref, name.value, name.loc));
        return;
      }
      case "rule": {
        const ref = this.tableRef();
        const chain = this.word();
        this.expect("handle");
        const h = this.word();
        this.script.ops.push((b) => b.deleteRule(ref, chain.value, chain.loc, Number(h.value), h.loc));
        return;
      }
      default:
        this.unexpected(obj);
    }
  }

  private flush(): void {
    const obj = this.word(null);
    switch (obj.value) {
      case "ruleset": {
        const t = this.peek();
        const family = t && t.kind === "word" && FAMILIES.has(t.value) ? this.next().value : undefined;
        this.script.ops.push((b) => b.flushRuleset(family));
        return;
      }
      case "table": {
        const ref = this.tableRef();
        this.script.ops.push((b) => b.flushTable(ref));
        return;
      }
      case "chain":
      case "set":
      case "map": {
        const ref = this.tableRef();
        const name = this.word();
        if (obj.value === "chain") this.script.ops.push((b) => b.flushChain(ref, name.value, name.loc));
        else this.script.ops.push((b) => b.flushSet(ref, name.value, name.loc));
        return;
      }
      default:
        this.unexpected(obj);
    }
  }

  private list(): void {
    const obj = this.word(null);
    const what = obj.value as ListWhat;
    switch (what) {
      case "ruleset":
      case "tables":
      case "chains":
      case "flowtables":
      case "sets": {
        const t = this.peek();
        const family = t && t.kind === "word" && FAMILIES.has(t.value) ? this.next().value : undefined;
        this.script.lists.push({ what, family });
        return;
      }
      case "table": {
        const ref = this.tableRef();
        this.script.lists.push({ what, family: ref.family, table: ref.table, tableLoc: ref.tableLoc });
        return;
      }
      case "chain":
      case "flowtable":
      case "set": {
        const ref = this.tableRef();
        const name = this.word();
        this.script.lists.push({ what, family: ref.family, table: ref.table, tableLoc: ref.tableLoc, name: name.value, nameLoc: name.loc });
        return;
      }
      default:
        this.unexpected(obj);
    }
  }
}
