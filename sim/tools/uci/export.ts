import type { UciPackage } from "./model";
import { escapeQuotes } from "./quote";

/**
 * The config-file syntax uci writes on commit and prints on export (file.c uci_export_package):
 * a blank line before each section, TAB-indented options, every value single-quoted, and a final
 * blank line. `named` also names anonymous sections (`-n`); `header` adds the `package` line.
 */
export function exportPackage(p: UciPackage, opts: { named?: boolean; header?: boolean } = {}): string {
  const out: string[] = [];
  if (opts.header) out.push(`package ${escapeQuotes(p.name)}\n`);
  for (const s of p.sections) {
    const name = !s.anonymous || opts.named ? ` '${escapeQuotes(s.name)}'` : "";
    out.push(`\nconfig ${escapeQuotes(s.type)}${name}\n`);
    for (const [option, value] of s.options) {
      const key = escapeQuotes(option);
      if (Array.isArray(value)) {
        for (const item of value) out.push(`\tlist ${key} '${escapeQuotes(item)}'\n`);
      } else {
        out.push(`\toption ${key} '${escapeQuotes(value)}'\n`);
      }
    }
  }
  out.push("\n");
  return out.join("");
}
