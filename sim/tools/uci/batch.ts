import { cliError, cliPerror, type CliSession, USAGE } from "./session";
import { ParseContext } from "./tokenizer";

type Runner = (sess: CliSession, argv: string[]) => number;

/** cli.c MAX_ARGS: the check comes before the next word is read, so 4 words are already too many. */
const MAX_ARGS = 4;
const EXIT = 254;

/**
 * uci_parse_argument: the next word of the batch input, tokenised like the config syntax. The
 * parse context survives between commands until something else (loading a package) replaces it.
 */
function nextWord(sess: CliSession, fresh: boolean): string {
  const uci = sess.uci;
  if (uci.pctx && uci.pctx.source !== sess.input) uci.pctx = undefined;
  const pctx = uci.pctx ?? new ParseContext(sess.input);
  uci.pctx = pctx;
  if (fresh) pctx.nextLine();
  return pctx.nextArg(false, false, false);
}

function batchCommand(sess: CliSession, run: Runner): number {
  const argv: string[] = [];
  for (let i = 0; i <= MAX_ARGS; i++) {
    if (i === MAX_ARGS) {
      cliError(sess, "Too many arguments\n");
      return 1;
    }
    let word: string;
    try {
      word = nextWord(sess, i === 0);
    } catch (e) {
      cliPerror(sess, e);
      return 0;
    }
    if (word === "") break;
    argv.push(word);
  }
  if (argv.length === 0) return 0;
  if (/^exit$/i.test(argv[0])) return EXIT;
  return run(sess, argv);
}

/**
 * `uci batch`: one command per line, each executed and saved before the next is read. Failures
 * only show on stderr; the batch itself always succeeds.
 */
export function runBatch(sess: CliSession, run: Runner): number {
  sess.batch = true;
  while (!sess.input.eof) {
    const ret = batchCommand(sess, run);
    if (ret === EXIT) return 0;
    if (ret === USAGE) cliError(sess, "Unknown command\n");
  }
  sess.batch = false;
  return 0;
}
