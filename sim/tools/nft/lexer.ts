/** A piece of nft input: a file, stdin, or the command line. Error messages quote its lines. */
export interface Source {
  /** `null` for the command line: nft prints no `file:line:col:` prefix for it. */
  name: string | null;
  lines: string[];
  /** The `include` statement that read this file: nft names the chain of includes above an error in it. */
  includedFrom?: Loc;
}

/** 1-based, inclusive, as nft prints them (`file:3:8-11:`). */
export interface Loc {
  source: Source;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
  /** The input line nft quotes when it is not the located one (at end of input: the last line it read). */
  quoted?: string;
}

export type TokenKind = "word" | "string" | "punct" | "nl";

export interface Token {
  kind: TokenKind;
  /** Strings without their quotes. */
  value: string;
  loc: Loc;
  /** Whether whitespace separated it from the previous token on the same line (kept to rebuild rule text). */
  spaced: boolean;
}

export class NftSyntaxError extends Error {
  constructor(
    message: string,
    readonly loc: Loc,
    /** A grammar error, after which nft's parser recovers at the next newline or `;` and reads on. */
    readonly recoverable = false,
  ) {
    super(message);
  }
}

/** Everything nft's parser reported before it gave up; each is printed, in order. */
export class NftSyntaxErrors extends Error {
  constructor(readonly errors: NftSyntaxError[]) {
    super(errors.map((e) => e.message).join("; "));
  }
}

export function makeSource(name: string | null, text: string, includedFrom?: Loc): Source {
  return { name, lines: text.split("\n"), includedFrom };
}

const PUNCT2 = ["==", "!=", "<=", ">="];
const PUNCT1 = new Set(["{", "}", ";", ",", "(", ")", "|", "&", "^", "=", "<", ">", "!"]);
const WORD_STOP = new Set([..."{};,()|&^=<>!\"#", " ", "\t", "\r", "\n"]);

/** Splits nft input into tokens; newlines are tokens because they end statements. */
export function tokenize(source: Source): Token[] {
  const tokens: Token[] = [];
  source.lines.forEach((text, i) => {
    const line = i + 1;
    let pos = 0;
    let spaced = false;
    const push = (kind: TokenKind, value: string, start: number, end: number) => {
      tokens.push({ kind, value, loc: { source, line, col: start + 1, endLine: line, endCol: end }, spaced });
      spaced = false;
    };
    while (pos < text.length) {
      const ch = text[pos];
      if (ch === " " || ch === "\t" || ch === "\r") {
        spaced = true;
        pos++;
      } else if (ch === "#") {
        break;
      } else if (ch === "\\" && pos === text.length - 1) {
        // A trailing backslash joins the next line: no newline token.
        return;
      } else if (ch === '"') {
        const close = text.indexOf('"', pos + 1);
        if (close < 0) {
          const loc = { source, line, col: pos + 1, endLine: line, endCol: text.length };
          throw new NftSyntaxError("syntax error, unexpected junk", loc);
        }
        push("string", text.slice(pos + 1, close), pos, close + 1);
        pos = close + 1;
      } else if (PUNCT2.includes(text.slice(pos, pos + 2))) {
        push("punct", text.slice(pos, pos + 2), pos, pos + 2);
        pos += 2;
      } else if (PUNCT1.has(ch)) {
        push("punct", ch, pos, pos + 1);
        pos++;
      } else {
        let end = pos;
        while (end < text.length && !WORD_STOP.has(text[end])) end++;
        push("word", text.slice(pos, end), pos, end);
        pos = end;
      }
    }
    // nft appends a newline to the command line, so a command there ends the way a line of a file does.
    if (i < source.lines.length - 1 || source.name === null) push("nl", "\n", text.length, text.length + 1);
  });
  return tokens;
}

/** A location covering tokens `first` to `last` (same line in practice). */
export function span(first: Loc, last: Loc): Loc {
  return { source: first.source, line: first.line, col: first.col, endLine: last.endLine, endCol: last.endCol };
}
