/**
 * JSON as libubox's blobmsg_format_json prints it for the `ubus` CLI. Tables keyed by names that
 * come from configuration (devices, interfaces) are Maps, so a name like "10" keeps its place
 * instead of being hoisted the way JavaScript orders integer-like object keys.
 */
export type BlobValue = string | number | boolean | null | BlobValue[] | BlobTable;
export type BlobTable = Map<string, BlobValue> | { [key: string]: BlobValue };

/**
 * Indented output (`ubus call`) puts every element on its own line with tab indentation; an empty
 * array or table still gets the line break plus the inner indentation, which is why real output
 * shows `[` followed by a whitespace-only line. Compact output (`ubus -S`) has no whitespace at all.
 */
export function formatBlobmsg(table: BlobTable, indent: boolean): string {
  return formatList(entriesOf(table), false, indent, 0);
}

function formatList(entries: [string | null, BlobValue][], array: boolean, indent: boolean, level: number): string {
  const separator = indent ? `\n${"\t".repeat(level + 1)}` : "";
  const parts = entries.map(([key, value]) => {
    const name = !array && key !== null ? `${formatString(key)}:${indent ? " " : ""}` : "";
    return name + formatValue(value, indent, level + 1);
  });
  const close = indent ? `\n${"\t".repeat(level)}` : "";
  return `${array ? "[" : "{"}${separator}${parts.join(`,${separator}`)}${close}${array ? "]" : "}"}`;
}

function formatValue(value: BlobValue, indent: boolean, level: number): string {
  if (value === null) return "null";
  if (typeof value === "string") return formatString(value);
  if (typeof value === "number") return String(Math.trunc(value));
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) return formatList(value.map((v) => [null, v]), true, indent, level);
  return formatList(entriesOf(value), false, indent, level);
}

function entriesOf(table: BlobTable): [string, BlobValue][] {
  return table instanceof Map ? [...table.entries()] : Object.entries(table);
}

/**
 * blobmsg_format_string: the usual control escapes and \u00XX below 0x20. The 23.05 userland
 * recorded in the reference capture prints "/" unescaped ("203.0.113.151/32"), so it stays as is.
 */
function formatString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\b") out += "\\b";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20) out += `\\u00${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}
