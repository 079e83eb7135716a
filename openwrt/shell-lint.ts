import type * as MvdanSh from "mvdan-sh";
import { OPENWRT_APPLETS, OPENWRT_PROGRAMS, OPTIONAL_PROGRAMS, REFUSED_FORMS } from "./busybox";

/**
 * Checks shell text against what a stock OpenWrt router runs: every command it calls must be an ash
 * builtin, a function the text defines, an applet of OpenWrt's busybox or a program of a default
 * image (or one the caller names), and no applet may be called with an option form OpenWrt leaves
 * out. So `setsid`, `timeout`, `sleep 0.5` or `sort -k` cannot come back into what the client sends.
 */
export interface ShellFinding {
  /** The command as written (its literal words). */
  command: string;
  problem: string;
}

/** busybox ash's builtins (with OpenWrt's options: ASH_BASH_COMPAT, job control, `local`, `printf`/`test`/`echo`). */
const ASH_BUILTINS = new Set([
  ".", ":", "[", "[[", "alias", "bg", "break", "cd", "chdir", "command", "continue", "echo", "eval", "exec", "exit", "export",
  "false", "fg", "getopts", "hash", "jobs", "kill", "let", "local", "printf", "pwd", "read", "readonly", "return", "set",
  "shift", "source", "test", "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset", "wait",
]);

/** Directories whose scripts a router has (init scripts) or this project installs (the guard). */
const ROUTER_SCRIPT_DIRS = ["/etc/init.d/", "/etc/offload-guard/", "/etc/rc.d/"];

const AVAILABLE = new Set([...ASH_BUILTINS, ...OPENWRT_APPLETS, ...OPENWRT_PROGRAMS, ...OPTIONAL_PROGRAMS]);

type Node = { [key: string]: unknown };

let loaded: typeof MvdanSh.syntax | undefined;

/**
 * mvdan-sh (mvdan/sh compiled by GopherJS) sets `globalThis.require` when it loads; in a user's
 * program that is someone else's global, so it is put back as it was. Loaded on first use only.
 */
function shellSyntax(): typeof MvdanSh.syntax {
  if (loaded) return loaded;
  const before = Object.getOwnPropertyDescriptor(globalThis, "require");
  loaded = (require("mvdan-sh") as typeof MvdanSh).syntax;
  if (before) Object.defineProperty(globalThis, "require", before);
  else delete (globalThis as { require?: unknown }).require;
  return loaded;
}

/** A word's value when it is literal (plain, single- or double-quoted text without expansions). */
function literal(syntax: typeof MvdanSh.syntax, word: Node | undefined): string | undefined {
  if (!word) return undefined;
  let value = "";
  for (const part of word.Parts as Node[]) {
    const type = syntax.NodeType(part);
    if (type === "Lit" || type === "SglQuoted") value += part.Value as string;
    else if (type === "DblQuoted") {
      const inner = literal(syntax, part);
      if (inner === undefined) return undefined;
      value += inner;
    } else return undefined;
  }
  return value;
}

function calledName(name: string): string {
  return name.includes("/") && !ROUTER_SCRIPT_DIRS.some((d) => name.startsWith(d)) ? name.slice(name.lastIndexOf("/") + 1) : name;
}

/** Findings for one script; `knownPrograms` are the caller's own (e.g. a test's fixtures). An unparsable script is one finding. */
export function lintOpenWrtShell(script: string, { knownPrograms = [] }: { knownPrograms?: string[] } = {}): ShellFinding[] {
  const syntax = shellSyntax();
  let file: Node;
  try {
    file = syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(script, "script") as Node;
  } catch (err) {
    return [{ command: script.split("\n")[0].slice(0, 80), problem: `does not parse: ${(err as Error).message}` }];
  }
  const functions = new Set<string>();
  const calls: string[][] = [];
  syntax.Walk(file, (node: Node | null) => {
    if (!node) return true;
    const type = syntax.NodeType(node);
    if (type === "FuncDecl") functions.add((node.Name as Node).Value as string);
    if (type === "CallExpr") {
      const words = (node.Args as Node[]).map((w) => literal(syntax, w) ?? "\0dynamic");
      if (words.length > 0) calls.push(words);
    }
    return true;
  });
  const findings: ShellFinding[] = [];
  const known = new Set(knownPrograms);
  for (const words of calls) {
    const [first, ...args] = words;
    if (first === "\0dynamic") continue;
    const name = calledName(first);
    const command = words.map((w) => (w === "\0dynamic" ? "…" : w)).join(" ");
    const scriptOnRouter = ROUTER_SCRIPT_DIRS.some((d) => name.startsWith(d));
    if (!scriptOnRouter && !AVAILABLE.has(name) && !functions.has(name) && !known.has(name)) {
      findings.push({ command, problem: `${name}: not on a stock OpenWrt router (its busybox lacks it and no default package has it)` });
      continue;
    }
    for (const form of REFUSED_FORMS) {
      if (form.applet === name && form.matches(args.filter((a) => a !== "\0dynamic"))) findings.push({ command, problem: `${name}: ${form.why}` });
    }
  }
  // $((16#ff)): arithmetic in another base (FEATURE_SH_MATH_BASE is off).
  for (const m of script.matchAll(/\$\(\([^)]*\b\d+#[0-9A-Za-z]+/g)) findings.push({ command: m[0], problem: "arithmetic in another base (FEATURE_SH_MATH_BASE is off)" });
  return findings;
}
