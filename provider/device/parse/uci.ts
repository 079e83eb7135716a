/** Parsers for what the `uci` CLI prints (openwrt-behaviour.md §1.4). */

export type UciValue = string | string[];

export interface UciShowSection {
  /** The reference as printed: a name (`lan_zone`, `cfg01e63d`) or `@type[i]`. */
  ref: string;
  type: string;
  options: Map<string, UciValue>;
}

/**
 * `uci show PKG`: `pkg.ref=type` lines, then `pkg.ref.opt='value'` lines; a list prints each item
 * quoted and joined by spaces; `'` inside a value is written `'\''`; newlines inside values are raw.
 */
export function parseUciShow(text: string, pkg: string): UciShowSection[] {
  const sections: UciShowSection[] = [];
  const byRef = new Map<string, UciShowSection>();
  let pos = 0;
  const prefix = `${pkg}.`;
  while (pos < text.length) {
    const lineEnd = text.indexOf("\n", pos);
    const line = text.slice(pos, lineEnd < 0 ? text.length : lineEnd);
    if (line.length === 0) {
      pos = lineEnd < 0 ? text.length : lineEnd + 1;
      continue;
    }
    if (!line.startsWith(prefix)) throw new Error(`unexpected line in uci show ${pkg}: ${JSON.stringify(line.slice(0, 80))}`);
    const eq = line.indexOf("=");
    const key = line.slice(prefix.length, eq);
    const dot = key.indexOf(".");
    if (dot < 0) {
      const section: UciShowSection = { ref: key, type: line.slice(eq + 1), options: new Map() };
      sections.push(section);
      byRef.set(key, section);
      pos = lineEnd < 0 ? text.length : lineEnd + 1;
      continue;
    }
    const { items, end } = readQuotedItems(text, pos + eq + 1);
    const section = byRef.get(key.slice(0, dot));
    if (!section) throw new Error(`uci show ${pkg}: option before its section: ${key}`);
    // A one-item list prints like a plain option; uci show cannot tell them apart.
    section.options.set(key.slice(dot + 1), items.length === 1 ? items[0] : items);
    pos = end;
  }
  return sections;
}

/** Reads `'a' 'b'...` up to the end of the line after the last closing quote. */
function readQuotedItems(text: string, start: number): { items: string[]; end: number } {
  const items: string[] = [];
  let i = start;
  for (;;) {
    if (text[i] !== "'") throw new Error(`malformed uci show value near ${JSON.stringify(text.slice(start, start + 40))}`);
    let value = "";
    i++;
    for (;;) {
      const close = text.indexOf("'", i);
      if (close < 0) throw new Error("unterminated quote in uci show output");
      value += text.slice(i, close);
      i = close + 1;
      // `'\''` is an escaped quote inside the value, not its end.
      if (text.startsWith("\\''", i)) {
        value += "'";
        i += 3;
        continue;
      }
      break;
    }
    items.push(value);
    if (text[i] === " " && text[i + 1] === "'") {
      i++;
      continue;
    }
    break;
  }
  if (text[i] === "\n") i++;
  return { items, end: i };
}

/** `uci changes`: lines per package, in staging order. */
export function parseUciChanges(text: string): Record<string, string[]> {
  const byPackage: Record<string, string[]> = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const pkg = line.replace(/^-/, "").split(".")[0];
    (byPackage[pkg] ??= []).push(line);
  }
  return byPackage;
}

export function optionString(section: UciShowSection | undefined, option: string): string | undefined {
  const value = section?.options.get(option);
  return Array.isArray(value) ? value.join(" ") : value;
}

export function optionList(section: UciShowSection | undefined, option: string): string[] {
  const value = section?.options.get(option);
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(/\s+/).filter(Boolean);
}
