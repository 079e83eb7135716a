import { UciErr, UciError, isUciError } from "./errors";
import { LineSource } from "./line-source";
import type { Delta, DeltaCommand, LoadedPackage } from "./loaded-package";
import {
  addListItem,
  removeEntry,
  removeListItem,
  renameEntry,
  reorderSection,
  setValue,
} from "./mutations";
import { parsePtr, resolvePtr } from "./ptr";
import { quote } from "./quote";
import { NUL, ParseContext } from "./tokenizer";
import { validateName } from "./validate";

/** Delta-file line prefixes (delta.c uci_command_char); a plain set has none. */
const PREFIX: Record<DeltaCommand, string> = {
  add: "+",
  remove: "-",
  change: "",
  rename: "@",
  reorder: "^",
  "list-add": "|",
  "list-del": "~",
};

const COMMAND_BY_PREFIX = new Map<string, DeltaCommand>(
  Object.entries(PREFIX)
    .filter(([, prefix]) => prefix !== "")
    .map(([cmd, prefix]) => [prefix, cmd as DeltaCommand]),
);

export interface ParsedDelta extends Delta {
  package: string;
}

/** One line of a delta file (uci_delta_save). */
export function formatDeltaLine(pkg: string, d: Delta): string {
  const head = `${PREFIX[d.cmd]}${pkg}.${d.section}${d.option === undefined ? "" : `.${d.option}`}`;
  return d.cmd === "remove" && d.value === undefined ? `${head}\n` : `${head}=${quote(d.value ?? "")}\n`;
}

/** strtoul(text, NULL, 10) stored into an int, as reorder does with its position. */
export function strtoulToInt(text: string): number {
  const m = /^([+-]?)(\d+)/.exec(text.replace(/^[ \t\n\v\f\r]+/, ""));
  if (!m) return 0;
  const magnitude = BigInt(m[2]);
  return Number(BigInt.asIntN(32, m[1] === "-" ? -magnitude : magnitude));
}

/** uci_parse_delta_tuple: the line in the buffer as one token; throws for anything malformed. */
function parseDeltaTuple(pctx: ParseContext): ParsedDelta {
  const arg = pctx.nextArg(false, false, false);
  if (pctx.cur() !== NUL) throw new UciError(UciErr.INVAL);
  const cmd = COMMAND_BY_PREFIX.get(arg.charAt(0)) ?? "change";
  const parsed = parsePtr(cmd === "change" ? arg : arg.slice(1));
  const { section, option, value } = parsed;
  if (section === undefined || parsed.extended) throw new UciError(UciErr.INVAL);
  if (cmd !== "remove" && value === undefined) throw new UciError(UciErr.INVAL);
  if (cmd === "reorder" && option !== undefined) throw new UciError(UciErr.INVAL);
  if (cmd === "rename" && !validateName(value ?? "")) throw new UciError(UciErr.INVAL);
  if ((cmd === "list-add" || cmd === "list-del") && option === undefined) throw new UciError(UciErr.INVAL);
  return { cmd, package: parsed.package, section, option, value };
}

function applyDelta(lp: LoadedPackage, d: ParsedDelta): void {
  const ptr = resolvePtr(lp, { package: d.package, section: d.section, option: d.option, value: d.value, extended: false });
  switch (d.cmd) {
    case "reorder":
      if (!ptr.complete || !ptr.s) throw new UciError(UciErr.NOTFOUND);
      reorderSection(lp, ptr.s, strtoulToInt(d.value ?? ""), false);
      return;
    case "rename":
      return renameEntry(ptr, false);
    case "remove":
      return removeEntry(ptr, false);
    case "list-add":
      return addListItem(ptr, false);
    case "list-del":
      return removeListItem(ptr, false);
    case "add":
      setValue(ptr, false);
      if (d.option === undefined && ptr.s) ptr.s.anonymous = true;
      return;
    case "change":
      return setValue(ptr, false);
  }
}

/** Where delta parsing keeps its parse context, so error messages can report on it. */
export interface DeltaEnv {
  pctx?: ParseContext;
}

/**
 * uci_parse_delta: replay a delta file onto the package. Lines that do not parse or do not apply
 * are skipped; the result counts the lines that applied. Parsed lines are remembered for `changes`
 * even when they do not apply.
 */
export function replayDeltas(env: DeltaEnv, lp: LoadedPackage, text: string): number {
  const source = new LineSource(text);
  const pctx = new ParseContext(source);
  env.pctx = pctx;
  let changes = 0;
  while (!source.eof) {
    pctx.nextLine();
    if (pctx.charAt(0) === NUL) continue;
    try {
      const d = parseDeltaTuple(pctx);
      if (d.package !== lp.pkg.name) throw new UciError(UciErr.PARSE);
      lp.savedDelta.push({ cmd: d.cmd, section: d.section, option: d.option, value: d.value });
      applyDelta(lp, d);
      changes++;
    } catch (e) {
      if (!isUciError(e)) throw e;
    }
  }
  env.pctx = undefined;
  return changes;
}

/**
 * uci_filter_delta (revert): the delta lines that do not match section/option, re-serialised under
 * `pkg`; undefined when some line does not parse, in which case uci leaves the file alone.
 */
export function filterDeltas(env: DeltaEnv, pkg: string, text: string, section?: string, option?: string): string | undefined {
  const source = new LineSource(text);
  const pctx = new ParseContext(source);
  env.pctx = pctx;
  const kept: string[] = [];
  try {
    while (!source.eof) {
      pctx.nextLine();
      if (pctx.charAt(0) === NUL) continue;
      const d = parseDeltaTuple(pctx);
      const match = (section === undefined || d.section === section) && (option === undefined || d.option === option);
      if (!match) kept.push(formatDeltaLine(pkg, d));
    }
  } catch (e) {
    if (!isUciError(e)) throw e;
    return undefined;
  } finally {
    env.pctx = undefined;
  }
  return kept.join("");
}
