import * as path from "path";
import type { Tool } from "../../types";
import { runCommand } from "./commands";
import { UciContext } from "./context";
import { getopt } from "./getopt";
import { LineSource } from "./line-source";
import { cliError, type CliSession, USAGE } from "./session";
import { usageText } from "./usage";

const OPTSTRING = "c:d:f:LmnNp:P:qsSt:X";

/** The `uci` program. */
export const uciTool: Tool = async (ctx) => {
  const app = ctx.argv[0];
  const fromCwd = (p: string) => path.posix.resolve(ctx.cwd || "/", p);
  const uci = new UciContext(
    ctx.fs,
    () => ctx.router?.faults?.overlayFull === true,
    (tempPath, data) => ctx.router?.flash.persistAs(tempPath, data),
  );
  const sess: CliSession = {
    uci,
    app,
    quiet: false,
    merge: false,
    noCommit: false,
    batch: false,
    extended: true,
    delimiter: " ",
    input: new LineSource(""),
    stdout: (text) => ctx.stdout(text),
    stderr: (text) => ctx.stderr(text),
  };
  let inputText: string | undefined;

  const options = getopt(ctx.argv, OPTSTRING);
  let step = options.next();
  for (; !step.done; step = options.next()) {
    const item = step.value;
    if (item.kind === "error") {
      ctx.stderr(item.message);
      ctx.stderr(usageText(app));
      return 0;
    }
    const arg = item.arg ?? "";
    switch (item.option) {
      case "c":
        uci.confDir = fromCwd(arg);
        break;
      case "d":
        sess.delimiter = arg;
        break;
      case "f": {
        if (inputText !== undefined) {
          cliError(sess, "Too many input files.\n");
          return 1;
        }
        const file = fromCwd(arg);
        // fopen() succeeds on a directory; reading it then yields nothing.
        inputText = ctx.fs.isDir(file) ? "" : ctx.fs.tryReadText(file);
        if (inputText === undefined) {
          cliError(sess, "uci: No such file or directory");
          return 1;
        }
        break;
      }
      case "m":
        sess.merge = true;
        break;
      case "s":
        uci.strict = true;
        break;
      case "S":
        uci.strict = false;
        uci.warn = (text) => ctx.stderr(text);
        break;
      case "n":
        uci.exportNames = true;
        break;
      case "N":
        uci.exportNames = false;
        break;
      case "p":
        uci.addDeltaPath(fromCwd(arg));
        break;
      case "P":
        uci.setSaveDir(fromCwd(arg));
        sess.noCommit = true;
        break;
      case "q":
        sess.quiet = true;
        break;
      case "t":
        uci.setSaveDir(fromCwd(arg));
        break;
      case "X":
        sess.extended = false;
        break;
      default:
        // -L is accepted by getopt but has no case in uci: it prints the usage.
        ctx.stderr(usageText(app));
        return 0;
    }
  }

  const argv = ctx.argv.slice(step.value);
  if (argv.length === 0) {
    ctx.stderr(usageText(app));
    return 0;
  }
  if (inputText === undefined && /^(batch|import)$/i.test(argv[0])) {
    inputText = (await ctx.readStdin()).toString("utf8");
  }
  sess.input = new LineSource(inputText ?? "");
  const ret = runCommand(sess, argv);
  if (ret === USAGE) ctx.stderr(usageText(app));
  return ret;
};
