import { UciErr, UciError } from "./errors";
import { findSection, type LoadedPackage } from "./loaded-package";
import type { UciSection } from "./model";
import { isSpace } from "./tokenizer";
import { validateName, validatePackage, validateText, validateType } from "./validate";

/** `package[.section[.option]][=value]` split as uci_parse_ptr splits it. */
export interface ParsedPtr {
  package: string;
  section?: string;
  option?: string;
  value?: string;
  /** The section part is not a plain name, so it is looked up as `@type[index]`. */
  extended: boolean;
}

/** A parsed address resolved against a loaded package. */
export interface Ptr extends ParsedPtr {
  lp: LoadedPackage;
  s?: UciSection;
  /** Everything the address names exists (UCI_LOOKUP_COMPLETE). */
  complete: boolean;
}

/** Throws Parse error for a 4th part, a bad package or option name, or control characters in the value. */
export function parsePtr(text: string): ParsedPtr {
  const eq = text.indexOf("=");
  const value = eq < 0 ? undefined : text.slice(eq + 1);
  const parts = (eq < 0 ? text : text.slice(0, eq)).split(".");
  if (parts.length > 3) throw new UciError(UciErr.PARSE);
  const [pkg, section, option] = parts;
  if (!validatePackage(pkg)) throw new UciError(UciErr.PARSE);
  if (option !== undefined && !validateName(option)) throw new UciError(UciErr.PARSE);
  if (value !== undefined && !validateText(value)) throw new UciError(UciErr.PARSE);
  return { package: pkg, section, option, value, extended: section !== undefined && !validateName(section) };
}

/** strtol(s, &end, 10) as far as uci uses it: the number, and whether anything follows it. */
function strtol(s: string): { value: number; rest: string } {
  let i = 0;
  while (i < s.length && isSpace(s[i])) i++;
  const signStart = i;
  if (s[i] === "+" || s[i] === "-") i++;
  const digitsStart = i;
  while (i < s.length && s[i] >= "0" && s[i] <= "9") i++;
  if (i === digitsStart) return { value: 0, rest: s };
  return { value: Number(s.slice(signStart, i)), rest: s.slice(i) };
}

/** `@type[index]` / `@[index]` (list.c uci_lookup_ext_section); malformed references are Invalid argument. */
function lookupExtended(lp: LoadedPackage, ref: string): UciSection | undefined {
  const open = ref.indexOf("[", 1);
  const close = open < 0 ? -1 : ref.indexOf("]", open + 1);
  if (!ref.startsWith("@") || open < 0 || close < 0 || close !== ref.length - 1) {
    throw new UciError(UciErr.INVAL);
  }
  const { value, rest } = strtol(ref.slice(open + 1, close));
  if (rest !== "") throw new UciError(UciErr.INVAL);
  const type = ref.slice(1, open);
  if (type !== "" && !validateType(type)) throw new UciError(UciErr.INVAL);
  const candidates = lp.pkg.sections.filter((s) => type === "" || s.type === type);
  const index = value < 0 ? value + candidates.length : value;
  return candidates[index];
}

export function resolvePtr(lp: LoadedPackage, parsed: ParsedPtr): Ptr {
  const ptr: Ptr = { ...parsed, lp, complete: false };
  if (parsed.section === undefined) {
    ptr.complete = true;
    return ptr;
  }
  const s = parsed.extended ? lookupExtended(lp, parsed.section) : findSection(lp, parsed.section);
  if (!s) return ptr;
  ptr.s = s;
  ptr.section = s.name;
  ptr.complete = parsed.option === undefined || s.options.has(parsed.option);
  return ptr;
}
