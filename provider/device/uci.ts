import { shellQuote } from "../transport";

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
        `${lines.slice(0, 5).join("; ")}). Committing or reloading now would make them live behind their author's back, so ` +
        `nothing was changed. Commit or revert them on the router ` +
        `(\`uci changes ${pkg}\`, then \`uci commit ${pkg}\` or \`uci revert ${pkg}\`) and run again.`,
    );
    this.name = "ForeignChangesError";
  }
}

export class StagingVerificationError extends Error {
  constructor(router: string, pkg: string, detail: string) {
    super(
      `${router}: uci batch did not stage what was asked for package "${pkg}" (uci batch always exits 0, so this ` +
        `was checked with \`uci changes\` and \`uci get\`): ${detail.trim()}. Nothing was committed; the router is unchanged.`,
    );
    this.name = "StagingVerificationError";
  }
}

export class FirewallCheckError extends Error {
  constructor(router: string, output: string) {
    super(
      `${router}: the new firewall config does not pass \`fw4 check\` (nft rejects the ruleset it renders): ` +
        `${output.trim() || "no output"}. The files were put back at once; the running firewall was never touched.`,
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

/** A heredoc that carries `body` verbatim: quoted delimiter (no expansion) that the body cannot end early. */
export function heredoc(body: string): string {
  let delimiter = "OFFLOAD_EOF";
  while (body.split("\n").includes(delimiter)) delimiter += "_";
  return `<<'${delimiter}'\n${body}${body.endsWith("\n") ? "" : "\n"}${delimiter}`;
}
