import { runBatch } from "./batch";
import { importConfig } from "./config-parser";
import { strtoulToInt } from "./delta-file";
import { UciErr, UciError, isUciError } from "./errors";
import { exportPackage } from "./export";
import type { LoadedPackage } from "./loaded-package";
import {
  addListItem,
  addSection,
  removeEntry,
  removeListItem,
  renameEntry,
  reorderSection,
  scanInt,
  setValue,
} from "./mutations";
import { parsePtr, resolvePtr, type Ptr } from "./ptr";
import { cliPerror, type CliSession, USAGE } from "./session";
import { formatValue, showChanges, showOption, showPackage, showSection } from "./show";
import { commitPackage, listConfigs, loadPackage, overwritePackage, revertDeltas, savePackage } from "./store";
import { usageText } from "./usage";

/*
 * The commands of cli.c, with its return values: 0, 1 for a reported failure, 255 for a usage
 * error, and for `add` the libuci error number.
 */

type PackageCommand = "show" | "changes" | "export" | "commit";
type SectionCommand = "get" | "set" | "add_list" | "del_list" | "delete" | "rename" | "revert" | "reorder";

/** Section commands that accept `=value`; the others fail silently when given one. */
const TAKES_VALUE = new Set<SectionCommand>(["set", "delete", "add_list", "del_list", "rename", "reorder"]);

/** Resolves an address against the current staged state (file + deltas), loading the package. */
function lookup(sess: CliSession, tuple: string): Ptr {
  const parsed = parsePtr(tuple);
  return resolvePtr(loadPackage(sess.uci, parsed.package), parsed);
}

function show(sess: CliSession, ptr: Ptr): string {
  const { lp, s, option } = ptr;
  const name = lp.pkg.name;
  // Only whole packages use @type[i]; a single section or option is shown by its real name.
  if (s && option !== undefined) return showOption(name, s.name, option, s.options.get(option)!, sess.delimiter);
  if (s) return showSection(name, s.name, s, sess.delimiter);
  return showPackage(lp, sess.extended, sess.delimiter);
}

function packageCmd(sess: CliSession, cmd: PackageCommand, tuple: string): number {
  let ptr: Ptr;
  try {
    ptr = lookup(sess, tuple);
  } catch (e) {
    cliPerror(sess, e);
    return 1;
  }
  switch (cmd) {
    case "changes":
      sess.stdout(showChanges(ptr.lp));
      return 0;
    case "export":
      sess.stdout(exportPackage(ptr.lp.pkg, { header: true, named: sess.uci.exportNames }));
      return 0;
    case "commit":
      if (sess.noCommit) return 0;
      try {
        commitPackage(sess.uci, ptr.lp.pkg.name);
      } catch (e) {
        cliPerror(sess, e);
        return 1;
      }
      return 0;
    case "show":
      if (!ptr.complete) {
        cliPerror(sess, new UciError(UciErr.NOTFOUND));
        return 1;
      }
      sess.stdout(show(sess, ptr));
      return 0;
  }
}

/** Without an argument the command runs for every package and succeeds whatever happens to each. */
function packageCommand(sess: CliSession, cmd: PackageCommand, argv: string[]): number {
  if (argv.length > 2) return USAGE;
  if (argv.length === 2) return packageCmd(sess, cmd, argv[1]);
  let configs: string[];
  try {
    configs = listConfigs(sess.uci);
  } catch (e) {
    cliPerror(sess, e);
    return 1;
  }
  for (const name of configs) packageCmd(sess, cmd, name);
  return 0;
}

function get(sess: CliSession, ptr: Ptr): number {
  if (!ptr.complete) {
    cliPerror(sess, new UciError(UciErr.NOTFOUND));
    return 1;
  }
  const { s, option } = ptr;
  if (s && option !== undefined) sess.stdout(`${formatValue(s.options.get(option)!, false, sess.delimiter)}\n`);
  else if (s) sess.stdout(`${s.type}\n`);
  return 0;
}

/** Applies a modifying section command to the package in memory. */
function modify(cmd: Exclude<SectionCommand, "get" | "revert">, ptr: Ptr): void {
  switch (cmd) {
    case "set":
      return setValue(ptr, true);
    case "add_list":
      return addListItem(ptr, true);
    case "del_list":
      return removeListItem(ptr, true);
    case "rename":
      return renameEntry(ptr, true);
    case "delete":
      return removeEntry(ptr, true);
    case "reorder":
      return reorderSection(ptr.lp, ptr.s!, strtoulToInt(ptr.value!), true);
  }
}

function sectionCommand(sess: CliSession, cmd: SectionCommand, argv: string[]): number {
  if (argv.length !== 2) return USAGE;
  let ptr: Ptr;
  try {
    ptr = lookup(sess, argv[1]);
  } catch (e) {
    cliPerror(sess, e);
    return 1;
  }
  if (ptr.value !== undefined && !TAKES_VALUE.has(cmd)) return 1;
  if (cmd === "get") return get(sess, ptr);
  if (cmd === "revert") {
    // uci reports nothing about a revert once the address resolved.
    try {
      revertDeltas(sess.uci, ptr.lp.pkg.name, ptr.section, ptr.option);
    } catch (e) {
      if (!isUciError(e)) throw e;
    }
    return 0;
  }
  if (cmd === "reorder" && (!ptr.s || ptr.value === undefined)) {
    cliPerror(sess, new UciError(UciErr.NOTFOUND));
    return 1;
  }
  // sscanf("%d") finding no number; an empty index gets past it, as in uci.
  if (cmd === "delete" && ptr.value !== undefined && scanInt(ptr.value) === undefined && /[^ \t\n\v\f\r]/.test(ptr.value)) {
    return 1;
  }
  try {
    modify(cmd, ptr);
    savePackage(sess.uci, ptr.lp);
  } catch (e) {
    cliPerror(sess, e);
    return 1;
  }
  return 0;
}

function addCommand(sess: CliSession, argv: string[]): number {
  if (argv.length !== 3) return USAGE;
  try {
    const lp = loadPackage(sess.uci, argv[1]);
    const s = addSection(lp, argv[2], true);
    savePackage(sess.uci, lp);
    sess.stdout(`${s.name}\n`);
    return 0;
  } catch (e) {
    return cliPerror(sess, e).code;
  }
}

/**
 * `import [pkg]`: without -m the parsed packages overwrite their files directly (no staging);
 * with -m the input is merged into the loaded package and the differences are staged.
 */
function importCommand(sess: CliSession, argv: string[]): number {
  if (argv.length > 2) return USAGE;
  const name = argv[1];
  if (name === undefined && sess.merge) return USAGE;
  let merge: LoadedPackage | undefined;
  if (sess.merge && name !== undefined) {
    try {
      merge = loadPackage(sess.uci, name);
    } catch (e) {
      if (!isUciError(e)) throw e;
    }
  }
  try {
    const packages = importConfig(sess.uci, sess.input, { name, single: name !== undefined, merge });
    if (merge) {
      savePackage(sess.uci, merge);
    } else {
      // uci keeps only the status of the last write, so an earlier failure goes unreported.
      let failure: UciError | undefined;
      for (const lp of packages) {
        try {
          overwritePackage(sess.uci, lp);
          failure = undefined;
        } catch (e) {
          if (!isUciError(e)) throw e;
          failure = e;
        }
      }
      if (failure) throw failure;
    }
  } catch (e) {
    cliPerror(sess, e);
    return 1;
  }
  return 0;
}

/** uci_cmd: dispatch on the (case-insensitive) command name. */
export function runCommand(sess: CliSession, argv: string[]): number {
  const cmd = argv[0].replace(/[A-Z]/g, (c) => c.toLowerCase());
  switch (cmd) {
    case "batch":
      return sess.batch ? USAGE : runBatch(sess, runCommand);
    case "show":
    case "changes":
    case "export":
    case "commit":
      return packageCommand(sess, cmd, argv);
    case "get":
    case "set":
    case "add_list":
    case "del_list":
    case "revert":
    case "reorder":
      return sectionCommand(sess, cmd, argv);
    case "ren":
    case "rename":
      return sectionCommand(sess, "rename", argv);
    case "del":
    case "delete":
      return sectionCommand(sess, "delete", argv);
    case "import":
      return importCommand(sess, argv);
    case "add":
      return addCommand(sess, argv);
    case "help":
      sess.stderr(usageText(sess.app));
      return 0;
    default:
      return USAGE;
  }
}
