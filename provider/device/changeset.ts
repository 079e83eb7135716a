import { shellCommand, shellQuote } from "../transport";
import type { RouterShell } from "./shell";
import { commitScript, FirewallCheckError, heredoc, validateUciChanges, type UciOptionChange } from "./uci";

/** Shell that reloads the firewall from its committed config (fw3 or fw4; the init script knows which). */
export const RELOAD_FIREWALL = "/etc/init.d/firewall reload";

/**
 * Everything one resource operation changes on a router, declared up front. Declaring it (rather
 * than running ad-hoc commands) is what lets the guard snapshot exactly what will be touched and
 * restore it, and lets every write be validated before anything persistent happens.
 */
export interface ChangeSet {
  /** Option writes per uci package (already compare-before-set planned). */
  uci: { pkg: string; changes: UciOptionChange[] }[];
  /** Files to write (content) or remove (content undefined). */
  files: { path: string; content: string | undefined; mode?: "executable" }[];
  /** Symlinks to create (target) or remove (target undefined), e.g. enabling an init script in /etc/rc.d. */
  links: { path: string; target: string | undefined }[];
  /** Commands that change the router beyond files (package installs), run after the files. */
  commands: string[];
  /** hw-tc-offload to set on devices now (runtime; persistence is a file in `files`). */
  hwTc: { device: string; on: boolean }[];
  /** Reload the firewall once after everything is written. */
  reloadFirewall: boolean;
  /** Kernel-only commands after the reload (nothing persistent: a reload or reboot rebuilds that state). */
  afterReload: string[];
}

export function emptyChangeSet(): ChangeSet {
  return { uci: [], files: [], links: [], commands: [], hwTc: [], reloadFirewall: false, afterReload: [] };
}

export function isEmpty(cs: ChangeSet): boolean {
  return (
    cs.uci.every((u) => u.changes.length === 0) && cs.files.length === 0 && cs.links.length === 0 && cs.commands.length === 0 && cs.hwTc.length === 0
  );
}

/** Shell that writes a file atomically (temp file + mv, as uci does) or removes it. */
export function fileWriteScript(path: string, content: string | undefined, mode?: "executable"): string {
  const p = shellQuote(path);
  if (content === undefined) return `rm -f ${p}`;
  const tmp = shellQuote(`${path}.offload-tmp`);
  const chmod = mode === "executable" ? ` && chmod 0755 ${tmp}` : "";
  return `mkdir -p ${shellQuote(parentOf(path))} && cat > ${tmp} ${heredoc(content)}\n[ -f ${tmp} ]${chmod} && mv -f ${tmp} ${p}`;
}

export function linkScript(path: string, target: string | undefined): string {
  const p = shellQuote(path);
  return target === undefined ? `rm -f ${p}` : `mkdir -p ${shellQuote(parentOf(path))} && ln -sf ${shellQuote(target)} ${p}`;
}

function parentOf(path: string): string {
  return path.replace(/\/[^/]*$/, "") || "/";
}

/** The shell of a change set, without validation or guard: callers wrap it. */
export function changeSetScript(cs: ChangeSet): string {
  const lines: string[] = [];
  for (const { pkg, changes } of cs.uci) if (changes.length > 0) lines.push(commitScript(pkg, changes));
  for (const { path, content, mode } of cs.files) lines.push(fileWriteScript(path, content, mode));
  for (const { path, target } of cs.links) lines.push(linkScript(path, target));
  lines.push(...cs.commands);
  for (const { device, on } of cs.hwTc) lines.push(shellCommand(["ethtool", "-K", device, "hw-tc-offload", on ? "on" : "off"]));
  if (cs.reloadFirewall) lines.push(RELOAD_FIREWALL);
  lines.push(...cs.afterReload);
  return lines.join("\n");
}

/**
 * Proves the change set before anything persistent happens: uci parts as validateUciChanges does,
 * and firewall include files by putting them in place, running `fw4 -q check` and putting the old
 * ones back, all in one exec that restores even if the link drops meanwhile.
 */
export async function validateChangeSet(shell: RouterShell, cs: ChangeSet, { fw4: isFw4 }: { fw4: boolean }): Promise<void> {
  for (const { pkg, changes } of cs.uci) {
    await validateUciChanges(shell, pkg, changes, { fw4Check: isFw4 && pkg === "firewall" });
  }
  if (!isFw4 || !cs.reloadFirewall || cs.files.length === 0) return;
  const lines: string[] = [];
  cs.files.forEach(({ path, content }, i) => {
    const p = shellQuote(path);
    const saved = shellQuote(`/tmp/.offload-validate.${i}`);
    lines.push(`if [ -e ${p} ]; then cp -p ${p} ${saved}; else rm -f ${saved}; fi`, fileWriteScript(path, content));
  });
  lines.push("fw4 -q check 2>&1; rc=$?");
  cs.files.forEach(({ path }, i) => {
    const p = shellQuote(path);
    const saved = shellQuote(`/tmp/.offload-validate.${i}`);
    lines.push(`if [ -e ${saved} ]; then mv -f ${saved} ${p}; else rm -f ${p}; fi`);
  });
  lines.push("exit $rc");
  const result = await shell.run(lines.join("\n"), { purpose: "check the firewall with the new include files", okExitCodes: "any" });
  if (result.code !== 0) throw new FirewallCheckError(shell.router, result.stdout + result.stderr);
}
