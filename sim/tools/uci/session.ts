import type { UciContext } from "./context";
import { describeError, type UciError, isUciError } from "./errors";
import type { LineSource } from "./line-source";

/** Everything one `uci` invocation carries between its commands (cli.c's globals). */
export interface CliSession {
  uci: UciContext;
  /** argv[0]: prefixes error messages and the usage text. */
  app: string;
  quiet: boolean;
  merge: boolean;
  /** -P: `commit` does nothing. */
  noCommit: boolean;
  batch: boolean;
  /** `@type[i]` names in `show` (cleared by -X). */
  extended: boolean;
  delimiter: string;
  /** Commands input for `batch` and `import` (stdin or -f). */
  input: LineSource;
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Exit status that makes uci print its usage (and, inside a batch, "Unknown command"). */
export const USAGE = 255;

/** cli_error: a message unless -q. */
export function cliError(sess: CliSession, text: string): void {
  if (!sess.quiet) sess.stderr(text);
}

/** cli_perror: `<app>: <error>` unless -q. Anything but a uci error is a bug and propagates. */
export function cliPerror(sess: CliSession, e: unknown): UciError {
  if (!isUciError(e)) throw e;
  if (!sess.quiet) sess.stderr(`${sess.app}: ${describeError(e.code, sess.uci.pctx)}\n`);
  return e;
}
