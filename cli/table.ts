import { styleText } from "node:util";

export type Style = Parameters<typeof styleText>[0];

/** A table cell: its text, and how to colour it when colour is on. */
export interface Cell {
  text: string;
  style?: Style;
}

/**
 * Colour only for a person at a terminal; NO_COLOR (no-color.org) wins over a TTY. Decided once
 * here rather than by styleText's own stream check, which only some node 20 releases have.
 */
export function colorFor(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && process.env.NO_COLOR === undefined;
}

export function paint(text: string, style: Style | undefined, color: boolean): string {
  return color && style !== undefined && text !== "" ? styleText(style, text, { validateStream: false }) : text;
}

/**
 * Aligned columns separated by two spaces. Widths are measured on the plain text and styles are
 * applied after padding, so escape codes never shift a column.
 */
export function renderTable(headers: string[], rows: (string | Cell)[][], color: boolean): string {
  const cells = rows.map((row) => row.map((c): Cell => (typeof c === "string" ? { text: c } : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.text.length ?? 0)));
  const line = (row: Cell[]) =>
    row
      .map((c, i) => (i === row.length - 1 ? paint(c.text, c.style, color) : paint(c.text, c.style, color) + " ".repeat(widths[i] - c.text.length)))
      .join("  ")
      .trimEnd();
  return [line(headers.map((text) => ({ text, style: "bold" }))), ...cells.map(line)].join("\n") + "\n";
}

const MODE_STYLE: Record<string, Style> = { hardware: "magenta", software: "cyan", off: "gray" };

/** An offload mode, coloured the same way in every table; "-" where it is not known. */
export function modeCell(mode: string | null, suffix = ""): Cell {
  return mode === null ? { text: "-", style: "gray" } : { text: `${mode}${suffix}`, style: MODE_STYLE[mode] };
}
