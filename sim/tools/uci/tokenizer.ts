import { UciErr, UciError } from "./errors";
import type { LineSource } from "./line-source";
import { validateName, validatePackage } from "./validate";

/** End of the C string: the buffer's terminator, or a NUL uci wrote into it while tokenising. */
export const NUL = "\0";

export function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
}

/**
 * uci's parse context (file.c): a line buffer, a read position and a line counter. The config
 * parser, the delta reader and `uci batch` all tokenise through it. It mirrors the C code closely,
 * including the NULs that code writes into the buffer, because those writes decide how `;` and `#`
 * end a line and where error positions point.
 */
export class ParseContext {
  buf = "";
  pos = 0;
  line = 0;
  reason: string | undefined;
  byte = 0;
  /** How much of the buffer the last successful read filled (the bound uci_increase_pos checks). */
  private filled = 0;

  constructor(readonly source: LineSource) {}

  /** uci_getln: cut the buffer at `offset` and append the next input line. */
  getln(offset: number): void {
    this.buf = this.buf.slice(0, offset);
    const chunk = this.source.gets();
    if (chunk === undefined) return;
    this.buf += chunk;
    this.filled = this.buf.length;
    if (chunk.endsWith("\n")) this.line++;
  }

  /** Reads the next line into a fresh buffer. */
  nextLine(): void {
    this.pos = 0;
    this.getln(0);
  }

  charAt(i: number): string {
    return i < this.buf.length ? this.buf[i] : NUL;
  }

  cur(): string {
    return this.charAt(this.pos);
  }

  /** The C string starting at `i`. */
  strFrom(i: number): string {
    const end = this.buf.indexOf(NUL, i);
    return this.buf.slice(i, end < 0 ? undefined : end);
  }

  private setChar(i: number, c: string): void {
    if (i < this.buf.length) this.buf = this.buf.slice(0, i) + c + this.buf.slice(i + 1);
  }

  fail(reason: string): never {
    this.reason = reason;
    this.byte = Buffer.byteLength(this.buf.slice(0, this.pos));
    throw new UciError(UciErr.PARSE, this);
  }

  skipWhitespace(): void {
    while (this.cur() !== NUL && isSpace(this.cur())) this.pos++;
  }

  /** uci_increase_pos: false when the move would run past the filled buffer. */
  increasePos(add: number): boolean {
    if (this.pos + add > this.filled) return false;
    this.pos += add;
    return true;
  }

  /** strtok(cur, " \t"): the next word, NUL-terminated in place; the position does not move. */
  strtokWord(): string | undefined {
    let start = this.pos;
    while (this.charAt(start) === " " || this.charAt(start) === "\t") start++;
    if (this.charAt(start) === NUL) return undefined;
    let end = start;
    for (let c = this.charAt(end); c !== NUL && c !== " " && c !== "\t"; c = this.charAt(++end));
    this.setChar(end, NUL);
    return this.buf.slice(start, end);
  }

  /** A backslash: true when the next character is taken literally, false after a line continuation. */
  private parseBackslash(): boolean {
    this.pos += 1;
    const c = this.cur();
    if (
      c === NUL ||
      c === "\n" ||
      (c === "\r" && this.charAt(this.pos + 1) === "\n" && this.charAt(this.pos + 2) === NUL)
    ) {
      this.getln(this.pos);
      return false;
    }
    return true;
  }

  private parseDoubleQuote(out: string[]): void {
    this.pos += 1;
    for (;;) {
      const c = this.cur();
      if (c === '"') {
        this.pos += 1;
        return;
      }
      if (c === NUL) {
        this.getln(this.pos);
        if (this.cur() === NUL) this.fail('EOF with unterminated "');
        continue;
      }
      if (c === "\\" && !this.parseBackslash()) continue;
      out.push(this.cur());
      this.pos += 1;
    }
  }

  private parseSingleQuote(out: string[]): void {
    this.pos += 1;
    for (;;) {
      const c = this.cur();
      if (c === "'") {
        this.pos += 1;
        return;
      }
      if (c === NUL) {
        this.getln(this.pos);
        if (this.cur() === NUL) this.fail("EOF with unterminated '");
        continue;
      }
      out.push(c);
      this.pos += 1;
    }
  }

  /** parse_str: one word, quotes and escapes resolved; adjacent pieces concatenate. */
  private parseStr(): string {
    const start = this.pos;
    const out: string[] = [];
    let next = true;
    scan: do {
      const c = this.cur();
      switch (c) {
        case "'":
          this.parseSingleQuote(out);
          break;
        case '"':
          this.parseDoubleQuote(out);
          break;
        case "#":
          this.setChar(this.pos, NUL);
          break scan;
        case NUL:
          break scan;
        case ";":
          next = false;
          break scan;
        case "\\":
          if (!this.parseBackslash()) continue;
          out.push(this.cur());
          this.pos += 1;
          break;
        default:
          out.push(c);
          this.pos += 1;
      }
    } while (this.cur() !== NUL && !isSpace(this.cur()));
    if (this.cur() !== NUL && next) this.pos += 1;
    // uci compacts the word in place and terminates it there: when nothing was removed, that NUL
    // lands on a `;` that ended the word, so the rest of the line is never read.
    this.setChar(start + out.length, NUL);
    return out.join("");
  }

  /** next_arg: the next word ("" when there is none), optionally required and validated as a name. */
  nextArg(required: boolean, name: boolean, packageName: boolean): string {
    this.skipWhitespace();
    let arg: string;
    if (this.cur() === ";") {
      this.setChar(this.pos, NUL);
      this.pos += 1;
      arg = "";
    } else {
      arg = this.parseStr();
    }
    if (arg === "") {
      if (required) this.fail("insufficient arguments");
      return arg;
    }
    if (name && !(packageName ? validatePackage(arg) : validateName(arg))) {
      this.fail("invalid character in name field");
    }
    return arg;
  }
}
