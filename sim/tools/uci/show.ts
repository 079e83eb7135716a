import type { LoadedPackage } from "./loaded-package";
import type { UciSection, UciValue } from "./model";
import { quote } from "./quote";

/*
 * Output of `uci show`, `uci get` and `uci changes` (cli.c).
 */

/** A value as show (quoted) or get (raw, list items quoted only when they hold whitespace) prints it. */
export function formatValue(value: UciValue, quoted: boolean, delimiter: string): string {
  if (!Array.isArray(value)) return quoted ? quote(value) : value;
  return value.map((item) => (quoted || /[ \t\r\n]/.test(item) ? quote(item) : item)).join(delimiter);
}

export function showSection(pkg: string, ref: string, s: UciSection, delimiter: string): string {
  let out = `${pkg}.${ref}=${s.type}\n`;
  for (const [name, value] of s.options) out += showOption(pkg, ref, name, value, delimiter);
  return out;
}

export function showOption(pkg: string, ref: string, name: string, value: UciValue, delimiter: string): string {
  return `${pkg}.${ref}.${name}=${formatValue(value, true, delimiter)}\n`;
}

/**
 * A whole package. In extended mode anonymous sections are shown as `@type[i]`, where i counts
 * every section of that type before it, named ones included.
 */
export function showPackage(lp: LoadedPackage, extended: boolean, delimiter: string): string {
  const seen = new Map<string, number>();
  let out = "";
  for (const s of lp.pkg.sections) {
    const index = seen.get(s.type) ?? 0;
    seen.set(s.type, index + 1);
    const ref = extended && s.anonymous ? `@${s.type}[${index}]` : s.name;
    out += showSection(lp.pkg.name, ref, s, delimiter);
  }
  return out;
}

/** `uci changes`: every replayed delta line; only the delta file itself tells add/rename/reorder apart. */
export function showChanges(lp: LoadedPackage): string {
  let out = "";
  for (const d of lp.savedDelta) {
    const prefix = d.cmd === "remove" ? "-" : "";
    const op = d.cmd === "list-add" ? "+=" : d.cmd === "list-del" ? "-=" : "=";
    out += `${prefix}${lp.pkg.name}.${d.section}${d.option === undefined ? "" : `.${d.option}`}`;
    if (d.cmd !== "remove") out += `${op}${quote(d.value ?? "")}`;
    out += "\n";
  }
  return out;
}
