/** libuci's error numbers (uci.h); `uci add` exits with them, so the values matter. */
export const UciErr = {
  MEM: 1,
  INVAL: 2,
  NOTFOUND: 3,
  IO: 4,
  PARSE: 5,
  DUPLICATE: 6,
  UNKNOWN: 7,
} as const;

export type UciErrCode = (typeof UciErr)[keyof typeof UciErr];

const ERROR_TEXT: Record<UciErrCode, string> = {
  1: "Out of memory",
  2: "Invalid argument",
  3: "Entry not found",
  4: "I/O error",
  5: "Parse error",
  6: "Duplicate entry",
  7: "Unknown error",
};

/** Where the parser stood when it last failed: uci appends it to every "Parse error" it reports. */
export interface ParsePosition {
  readonly reason: string | undefined;
  readonly line: number;
  readonly byte: number;
}

/**
 * The text uci_perror prints for an error. A parse error carries the position of whatever parse
 * context is alive at that moment, which is not always the one that failed (batch mode shows this).
 */
export function describeError(code: UciErrCode, position?: ParsePosition): string {
  const text = ERROR_TEXT[code];
  if (code !== UciErr.PARSE || !position) return text;
  return `${text} (${position.reason ?? "unknown"}) at line ${position.line}, byte ${position.byte}`;
}

export class UciError extends Error {
  constructor(
    readonly code: UciErrCode,
    position?: ParsePosition,
  ) {
    super(describeError(code, position));
    this.name = "UciError";
  }
}

export function isUciError(e: unknown): e is UciError {
  return e instanceof UciError;
}
