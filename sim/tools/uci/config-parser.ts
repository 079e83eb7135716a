import { UciErr, UciError, describeError } from "./errors";
import type { LineSource } from "./line-source";
import { emptyPackage, findSection, type LoadedPackage } from "./loaded-package";
import type { UciSection } from "./model";
import { addListItem, addSection, setValue } from "./mutations";
import type { Ptr } from "./ptr";
import { NUL, ParseContext } from "./tokenizer";
import { validatePackage, validateType } from "./validate";

/** What a parse needs from its uci context. */
export interface ParserEnv {
  strict: boolean;
  /** -S: print each parse error (without the program prefix) and go on with the next line. */
  warn?: (text: string) => void;
  /** The live parse context, which uci's error messages report on. */
  pctx?: ParseContext;
}

export interface ImportTarget {
  /** Package name for input without a `package` line; with `single`, the only package. */
  name?: string;
  /** Ignore `package` lines and parse everything into one package. */
  single: boolean;
  /** Parse into this loaded package and stage the differences (`uci -m import`). */
  merge?: LoadedPackage;
}

interface State {
  pctx: ParseContext;
  name: string | undefined;
  pkg: LoadedPackage | undefined;
  section: UciSection | undefined;
  merge: boolean;
  done: LoadedPackage[];
}

/**
 * uci_import: parse config syntax (package/config/option/list, p/c/o/l, comments, quoting, line
 * continuation) and return the packages it describes, in input order.
 */
export function importConfig(env: ParserEnv, source: LineSource, target: ImportTarget): LoadedPackage[] {
  const pctx = new ParseContext(source);
  env.pctx = pctx;
  if (target.name !== undefined && !validatePackage(target.name)) throw new UciError(UciErr.INVAL);
  const state: State = {
    pctx,
    name: target.name,
    pkg: target.merge,
    section: undefined,
    merge: target.merge !== undefined,
    done: [],
  };
  while (!source.eof) {
    pctx.nextLine();
    if (pctx.charAt(0) === NUL) continue;
    try {
      parseLine(env, state, target.single);
    } catch (e) {
      if (!(e instanceof UciError)) throw e;
      env.warn?.(`${describeError(e.code, pctx)}\n`);
      if (e.code !== UciErr.PARSE || env.strict) throw e;
    }
  }
  if (!state.pkg && target.name !== undefined) switchPackage(state);
  state.name = undefined;
  switchPackage(state);
  env.pctx = undefined;
  return state.done;
}

/** uci_switch_config: finish the current package and, when a name is pending, start that one. */
function switchPackage(state: State): void {
  if (state.pkg) {
    state.done.push(state.pkg);
    state.pkg = undefined;
    state.section = undefined;
  }
  const name = state.name;
  if (name === undefined) return;
  if (state.done.some((p) => p.pkg.name === name)) throw new UciError(UciErr.DUPLICATE);
  state.pkg = emptyPackage(name);
}

function assertEol(env: ParserEnv, pctx: ParseContext): void {
  pctx.skipWhitespace();
  if (pctx.nextArg(false, false, false) !== "" && env.strict) pctx.fail("too many arguments");
}

/** Moves past the keyword that strtok just cut out of the buffer. */
function skipKeyword(pctx: ParseContext, what: string): void {
  if (!pctx.increasePos(pctx.strFrom(pctx.pos).length + 1)) pctx.fail(`${what} without name`);
}

function parseLine(env: ParserEnv, state: State, single: boolean): void {
  const { pctx } = state;
  pctx.skipWhitespace();
  for (;;) {
    const word = pctx.strtokWord();
    if (word === undefined || word.startsWith("#")) return;
    const rest = word.slice(1);
    if (word[0] === "p" && (rest === "" || rest === "ackage")) parsePackage(env, state, single);
    else if (word[0] === "c" && (rest === "" || rest === "onfig")) parseSection(env, state);
    else if (word[0] === "o" && (rest === "" || rest === "ption")) parseOption(env, state, false);
    else if (word[0] === "l" && (rest === "" || rest === "ist")) parseOption(env, state, true);
    else pctx.fail("invalid command");
  }
}

function parsePackage(env: ParserEnv, state: State, single: boolean): void {
  const { pctx } = state;
  skipKeyword(pctx, "package");
  const name = pctx.nextArg(true, true, true);
  assertEol(env, pctx);
  if (single) return;
  state.name = name;
  switchPackage(state);
}

function parseSection(env: ParserEnv, state: State): void {
  const { pctx } = state;
  if (!state.pkg) {
    if (state.name === undefined) pctx.fail("attempting to import a file without a package name");
    switchPackage(state);
  }
  const lp = state.pkg!;
  skipKeyword(pctx, "config");
  const type = pctx.nextArg(true, false, false);
  if (!validateType(type)) pctx.fail("invalid character in type field");
  const name = pctx.nextArg(false, true, false);
  assertEol(env, pctx);
  if (name === "") {
    state.section = addSection(lp, type, state.merge);
    return;
  }
  const existing = findSection(lp, name);
  if (existing && env.strict && existing.type !== type) {
    pctx.fail("section of different type overwrites prior section with same name");
  }
  const ptr: Ptr = { package: lp.pkg.name, section: name, value: type, extended: false, lp, s: existing, complete: false };
  setValue(ptr, state.merge);
  state.section = ptr.s;
}

function parseOption(env: ParserEnv, state: State, list: boolean): void {
  const pctx: ParseContext = state.pctx;
  const s = state.section;
  if (!s) pctx.fail("option/list command found before the first section");
  skipKeyword(pctx, "option");
  const name = pctx.nextArg(true, true, false);
  const value = pctx.nextArg(false, false, false);
  assertEol(env, pctx);
  const ptr: Ptr = {
    package: state.pkg!.pkg.name,
    section: s.name,
    option: name,
    value,
    extended: false,
    lp: state.pkg!,
    s,
    complete: false,
  };
  if (list) addListItem(ptr, state.merge);
  else setValue(ptr, state.merge);
}
