/**
 * The only place where values become words for the router's shell (busybox ash, reached as `sh -c <command>`
 * over SSH). Everything that ends up in a remote command line goes through `shellQuote`.
 *
 * Every word is single-quoted, even "safe" ones: an unquoted word in command position can be a reserved word
 * (`if`, `!`, `{`), an alias or an assignment (`A=b`), and inside single quotes ash expands nothing at all.
 */

/**
 * Values that cannot be represented in a remote argv. The message names the position, never the value: the value
 * may be a secret.
 */
export class UnquotableValueError extends TypeError {
  constructor(reason: string) {
    super(`shellQuote: ${reason}`);
    this.name = "UnquotableValueError";
  }
}

// In `u` mode a well-formed surrogate pair is one code point, so this only matches lone halves.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * POSIX single-quote style: `'…'`, with each embedded `'` written as `'\''`.
 *
 * Rejected (UnquotableValueError):
 * - NUL: argv strings are NUL-terminated in C, so no quoting can carry it — sshd/sh would silently truncate the
 *   word there. Send such data on stdin or encode it (e.g. base64) instead.
 * - Lone UTF-16 surrogates: the command travels as UTF-8, where they would turn into U+FFFD, so the router would
 *   see a different value than the caller passed.
 */
export function shellQuote(value: string): string {
  const nul = value.indexOf("\0");
  if (nul !== -1) {
    throw new UnquotableValueError(
      `value contains a NUL character at index ${nul}; a command-line word cannot carry NUL — send it on stdin or encode it`,
    );
  }
  const surrogate = LONE_SURROGATE.exec(value);
  if (surrogate) {
    throw new UnquotableValueError(
      `value contains a lone UTF-16 surrogate at index ${surrogate.index}; it cannot be sent as UTF-8`,
    );
  }
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/** A command line of quoted words, e.g. `shellCommand(["uci", "get", key])`. */
export function shellCommand(words: readonly string[]): string {
  if (words.length === 0) throw new UnquotableValueError("an empty command has no words");
  return words.map(shellQuote).join(" ");
}
