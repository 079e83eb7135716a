import { shellCommand, shellQuote } from "../transport";
import { heredoc, uciBatch, type UciOptionChange } from "./uci";

/** Shell that reloads the firewall from its committed config (fw3 or fw4; the init script knows which). */
export const RELOAD_FIREWALL = "/etc/init.d/firewall reload";

/**
 * Everything one resource operation changes on a router, declared up front. Declaring it (rather
 * than running ad-hoc commands) is what lets the guard snapshot exactly what will be touched and
 * restore it, and lets every write be checked before anything goes live.
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
  /**
   * Kernel commands right before the reload, for what a reload cannot do in place (a flowtable's
   * flags). The reload is then its own check: `fw4 check` would judge against the kernel they change.
   */
  beforeReload: string[];
  /** Reload the firewall once after everything is written. */
  reloadFirewall: boolean;
  /** Kernel-only commands after the reload (nothing persistent: a reload or reboot rebuilds that state). */
  afterReload: string[];
  /**
   * An operator's rollback: put back an earlier transaction's snapshot (its files, hw-tc-offload and
   * package removals, from the router's own copy), then the kernel state those files imply. The
   * guard supplies the commands (applyScripts' `putBack`); the paths and devices are for its snapshot.
   */
  putBack?: { txid: string; paths: string[]; devices: string[] };
}

export function emptyChangeSet(): ChangeSet {
  return { uci: [], files: [], links: [], commands: [], hwTc: [], beforeReload: [], reloadFirewall: false, afterReload: [] };
}

export function isEmpty(cs: ChangeSet): boolean {
  return (
    cs.uci.every((u) => u.changes.length === 0) &&
    cs.files.length === 0 &&
    cs.links.length === 0 &&
    cs.commands.length === 0 &&
    cs.hwTc.length === 0 &&
    cs.putBack === undefined
  );
}

/**
 * uci packages whose staged changes this change set would sweep in: those it commits, and the
 * firewall's whenever it reloads it (fw4 renders staged changes, committed or not).
 */
export function touchedPackages(cs: ChangeSet): string[] {
  const pkgs = cs.uci.filter((u) => u.changes.length > 0).map((u) => u.pkg);
  if (cs.reloadFirewall || cs.putBack) pkgs.push("firewall");
  return [...new Set(pkgs)];
}

/** Every path the change set writes, for the snapshot. */
export function touchedPaths(cs: ChangeSet): string[] {
  const paths = [
    ...cs.uci.filter((u) => u.changes.length > 0).map((u) => `/etc/config/${u.pkg}`),
    ...cs.files.map((f) => f.path),
    ...cs.links.map((l) => l.path),
    ...(cs.putBack?.paths ?? []),
  ];
  return [...new Set(paths)];
}

/** Every device whose hw-tc-offload the change set sets, for the snapshot. */
export function touchedDevices(cs: ChangeSet): string[] {
  return [...new Set([...cs.hwTc.map((h) => h.device), ...(cs.putBack?.devices ?? [])])];
}

/** Shell that writes a file atomically (temp file + mv, as uci does) or removes it; non-zero on failure. */
export function fileWriteScript(path: string, content: string | undefined, mode?: "executable"): string {
  const p = shellQuote(path);
  if (content === undefined) return `rm -f ${p}`;
  const tmp = shellQuote(`${path}.offload-tmp`);
  const chmod = mode === "executable" ? ` && chmod 0755 ${tmp}` : "";
  return `mkdir -p ${shellQuote(parentOf(path))} && cat > ${tmp} ${heredoc(content)}\n[ -f ${tmp} ]${chmod} && mv -f ${tmp} ${p}`;
}

function linkScript(path: string, target: string | undefined): string {
  const p = shellQuote(path);
  return target === undefined ? `rm -f ${p}` : `mkdir -p ${shellQuote(parentOf(path))} && rm -f ${p} && ln -s ${shellQuote(target)} ${p}`;
}

function parentOf(path: string): string {
  return path.replace(/\/[^/]*$/, "") || "/";
}

/** Marks a line of the apply output as ours (the rest is what the router's tools said). */
export const APPLY_MARK = "--offload-apply--";

/** How a failed apply step exits, so the caller can tell what went wrong. */
export const APPLY_EXIT = { write: 64, staging: 65, foreign: 66, check: 67, runtime: 68 } as const;

/**
 * Stages one package's changes in a private uci save dir (never the shared /tmp/.uci, where another
 * user's `uci commit` or LuCI's apply would pick them up), proves `uci batch` did exactly that (it
 * exits 0 whatever failed), commits, and fails if someone staged into the shared dir meanwhile:
 * their change would have been committed with ours (`uci -t` commits both dirs).
 */
function uciCommitScript(pkg: string, changes: UciOptionChange[], saveDir: string): string[] {
  const t = `uci -t ${shellQuote(saveDir)}`;
  const p = shellQuote(pkg);
  const staged = `${t} changes ${p}`;
  const lines = [
    `mkdir -p ${shellQuote(saveDir)} || exit ${APPLY_EXIT.write}`,
    `${t} batch ${heredoc(uciBatch(pkg, changes))}`,
    `n=$(${staged} | wc -l); [ "$n" -eq ${changes.length} ] || { echo "${APPLY_MARK}staging ${pkg} $n lines staged, ${changes.length} expected"; ${staged}; exit ${APPLY_EXIT.staging}; }`,
  ];
  for (const c of changes) {
    const key = shellQuote(`${pkg}.${c.section}.${c.option}`);
    lines.push(
      c.value === undefined
        ? `${t} -q get ${key} >/dev/null && { echo "${APPLY_MARK}staging ${pkg} ${c.section}.${c.option} is still set"; exit ${APPLY_EXIT.staging}; }`
        : `v=$(${t} -q get ${key}); [ "$v" = ${shellQuote(c.value)} ] || { echo "${APPLY_MARK}staging ${pkg} ${c.section}.${c.option} reads back as: $v"; exit ${APPLY_EXIT.staging}; }`,
    );
  }
  lines.push(
    `${t} commit ${p} || exit ${APPLY_EXIT.write}`,
    `[ -s /tmp/.uci/${pkg} ] && { echo "${APPLY_MARK}foreign ${pkg}"; uci changes ${p}; exit ${APPLY_EXIT.foreign}; }`,
    `rm -rf ${shellQuote(saveDir)}`,
  );
  return lines;
}

/**
 * The change as two shell parts, each exiting non-zero at its first failure. `config` writes flash
 * only (uci commits, files, links) and, on fw4, proves the result with `fw4 check` (its nft errors
 * on stdout) before anything goes live; `runtime` then changes what runs (packages, hw-tc-offload,
 * the firewall reload). A failure in `config` needs the files restored; in `runtime`, the kernel too.
 */
export function applyScripts(
  cs: ChangeSet,
  { fw4, saveDir, putBack }: { fw4: boolean; saveDir: string; putBack?: { files: string; kernel: string } },
): { config: string; runtime: string } {
  const config: string[] = putBack ? [`${putBack.files} || exit ${APPLY_EXIT.write}`] : [];
  for (const { pkg, changes } of cs.uci) if (changes.length > 0) config.push(...uciCommitScript(pkg, changes, `${saveDir}/${pkg}`));
  for (const { path, content, mode } of cs.files) config.push(`${fileWriteScript(path, content, mode)} || exit ${APPLY_EXIT.write}`);
  for (const { path, target } of cs.links) config.push(`${linkScript(path, target)} || exit ${APPLY_EXIT.write}`);
  if (fw4 && (cs.reloadFirewall || cs.putBack) && cs.beforeReload.length === 0) config.push(`out=$(fw4 check 2>&1) || { echo "${APPLY_MARK}check"; echo "$out"; exit ${APPLY_EXIT.check}; }`);

  const runtime: string[] = cs.commands.map((c) => `${c} || exit ${APPLY_EXIT.runtime}`);
  for (const { device, on } of cs.hwTc) runtime.push(`${shellCommand(["ethtool", "-K", device, "hw-tc-offload", on ? "on" : "off"])} || exit ${APPLY_EXIT.runtime}`);
  runtime.push(...cs.beforeReload.map((c) => `${c} || exit ${APPLY_EXIT.runtime}`));
  if (cs.reloadFirewall) runtime.push(`${RELOAD_FIREWALL} || exit ${APPLY_EXIT.runtime}`);
  runtime.push(...cs.afterReload.map((c) => `${c} || exit ${APPLY_EXIT.runtime}`));
  if (putBack) runtime.push(`${putBack.kernel} || exit ${APPLY_EXIT.runtime}`);
  // A part with nothing to do is still a valid subshell body.
  return { config: config.join("\n") || ":", runtime: runtime.join("\n") || ":" };
}
