import { shellCommand, shellQuote } from "../transport";
import type { RouterShell } from "./shell";
import { parseUciChanges, parseUciShow } from "./parse/uci";

/** One option to set (value) or delete (value undefined) in a uci section addressed by name or `@type[i]`. */
export interface UciOptionChange {
  section: string;
  option: string;
  value: string | undefined;
}

export class ForeignChangesError extends Error {
  constructor(
    readonly router: string,
    readonly pkg: string,
    readonly lines: string[],
  ) {
    super(
      `${router}: someone else has staged uncommitted changes to uci package "${pkg}" (${lines.length} line(s): ` +
        `${lines.slice(0, 5).join("; ")}). Committing now would apply them too. Commit or revert them on the router ` +
        `(\`uci changes ${pkg}\`, then \`uci commit ${pkg}\` or \`uci revert ${pkg}\`) and run again.`,
    );
    this.name = "ForeignChangesError";
  }
}

export class StagingVerificationError extends Error {
  constructor(router: string, pkg: string, missing: string[], unexpected: string[], stderr: string) {
    super(
      `${router}: uci batch did not stage what was asked for package "${pkg}" (uci batch always exits 0, so this ` +
        `was checked with \`uci changes\`); missing: [${missing.join(", ")}], unexpected: [${unexpected.join(", ")}]` +
        `${stderr.trim() ? `; uci said: ${stderr.trim()}` : ""}. The staged changes were reverted; the router is unchanged.`,
    );
    this.name = "StagingVerificationError";
  }
}

export class FirewallCheckError extends Error {
  constructor(router: string, output: string) {
    super(
      `${router}: the new firewall config does not pass \`fw4 check\` (nft rejects the ruleset it renders): ` +
        `${output.trim() || "no output"}. Nothing was changed on the router.`,
    );
    this.name = "FirewallCheckError";
  }
}

/**
 * Only the options whose value differs from `current` (compare-before-set): uci itself stages no
 * delta for an identical `set`, but a staged no-op delete or a redundant batch still costs a write,
 * and an empty plan must mean "nothing to do" so that a no-op apply makes no writes at all.
 */
export function planUciChanges(current: (c: UciOptionChange) => string | undefined, desired: UciOptionChange[]): UciOptionChange[] {
  return desired.filter((change) => current(change) !== change.value);
}

/** `uci batch` input: every word quoted by the one quoting function (uci's tokenizer reads it the same way). */
export function uciBatch(pkg: string, changes: UciOptionChange[]): string {
  return (
    changes
      .map((c) => {
        const key = `${pkg}.${c.section}.${c.option}`;
        return c.value === undefined ? `delete ${shellQuote(key)}` : `set ${shellQuote(`${key}=${c.value}`)}`;
      })
      .join("\n") + "\n"
  );
}

const MARK = "--openwrt-offload--";

/** A heredoc that carries `body` verbatim: quoted delimiter (no expansion) that the body cannot end early. */
export function heredoc(body: string): string {
  let delimiter = "OFFLOAD_EOF";
  while (body.split("\n").includes(delimiter)) delimiter += "_";
  return `<<'${delimiter}'\n${body}${body.endsWith("\n") ? "" : "\n"}${delimiter}`;
}

/** Shell that fails (exit 3, the staged lines on stdout) when anyone has staged changes to the package. */
export function refuseForeignChanges(pkg: string): string {
  const p = shellQuote(pkg);
  return `pending=$(uci changes ${p}); if [ -n "$pending" ]; then echo ${MARK}foreign; printf '%s\\n' "$pending"; exit 3; fi`;
}

/**
 * Proves a change before anything persistent happens, in one exec that leaves /tmp/.uci as it
 * found it: refuses when anyone else has staged changes to the package; stages with `uci batch`
 * (which exits 0 whatever failed) and compares `uci changes` with exactly the expected lines;
 * optionally runs `fw4 -q check` on the staged config; then reverts. If the link drops meanwhile
 * the script still finishes on the router, so nothing is left behind either way.
 */
export async function validateUciChanges(
  shell: RouterShell,
  pkg: string,
  changes: UciOptionChange[],
  { fw4Check }: { fw4Check: boolean },
): Promise<void> {
  if (changes.length === 0) return;
  const sections = [...new Set(changes.map((c) => c.section))];
  const p = shellQuote(pkg);
  const script = [
    refuseForeignChanges(pkg),
    `uci batch ${heredoc(uciBatch(pkg, changes))}`,
    `echo ${MARK}changes; uci changes ${p}`,
    ...sections.map((s) => `echo ${MARK}section; ${shellCommand(["uci", "-q", "show", `${pkg}.${s}`])} | head -n 1`),
    fw4Check ? `echo ${MARK}check; fw4 -q check 2>&1; echo "${MARK}rc $?"` : "",
    `uci revert ${p}`,
  ]
    .filter(Boolean)
    .join("\n");
  const result = await shell.run(script, { purpose: `validate uci changes to ${pkg}`, okExitCodes: [0, 3] });
  const out = splitMarked(result.stdout);
  if (out.foreign !== undefined) throw new ForeignChangesError(shell.router, pkg, out.foreign.split("\n").filter(Boolean));

  const realNames = new Map<string, string>();
  (out.sections ?? []).forEach((line, i) => {
    const real = parseUciShow(line, pkg)[0]?.ref;
    if (real) realNames.set(sections[i], real);
  });
  const expected = changes.map((c) => {
    const real = realNames.get(c.section) ?? c.section;
    return c.value === undefined ? `-${pkg}.${real}.${c.option}` : `${pkg}.${real}.${c.option}=${shellQuote(c.value)}`;
  });
  const staged = parseUciChanges(out.changes ?? "")[pkg] ?? [];
  const missing = expected.filter((line) => !staged.includes(line));
  const unexpected = staged.filter((line) => !expected.includes(line));
  if (missing.length > 0 || unexpected.length > 0 || realNames.size !== sections.length) {
    throw new StagingVerificationError(shell.router, pkg, missing, unexpected, result.stderr);
  }
  if (fw4Check && out.rc?.trim() !== "0") throw new FirewallCheckError(shell.router, out.check ?? "");
}

/** Shell that stages and commits the (already validated) changes; callers add the reload and the guard around it. */
export function commitScript(pkg: string, changes: UciOptionChange[]): string {
  return [refuseForeignChanges(pkg), `uci batch ${heredoc(uciBatch(pkg, changes))}`, `uci commit ${shellQuote(pkg)}`].join("\n");
}

interface MarkedOutput {
  foreign?: string;
  changes?: string;
  sections?: string[];
  check?: string;
  rc?: string;
}

function splitMarked(stdout: string): MarkedOutput {
  const out: MarkedOutput = {};
  for (const part of stdout.split(MARK).slice(1)) {
    const [, name, rest] = part.match(/^(\w+)\n?([\s\S]*)$/) ?? [];
    if (name === "section") (out.sections ??= []).push(rest);
    else if (name === "rc") out.rc = rest;
    else if (name === "foreign" || name === "changes" || name === "check") out[name] = rest;
  }
  return out;
}
