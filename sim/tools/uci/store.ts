import * as path from "path";
import { importConfig } from "./config-parser";
import type { UciContext } from "./context";
import { filterDeltas, formatDeltaLine, replayDeltas } from "./delta-file";
import { UciErr, UciError } from "./errors";
import { exportPackage } from "./export";
import { LineSource } from "./line-source";
import type { LoadedPackage } from "./loaded-package";
import { validatePackage } from "./validate";

/*
 * Packages on disk: the config dir, the delta dirs, commit (file.c, delta.c).
 */

/** tmpfs mounts; everything else (notably /etc/config) lives on the overlay. */
const VOLATILE_ROOTS = ["/tmp", "/var", "/dev", "/proc", "/sys"];

function onOverlay(p: string): boolean {
  return !VOLATILE_ROOTS.some((root) => p === root || p.startsWith(`${root}/`));
}

function configPath(uci: UciContext, name: string): string {
  return path.posix.join(uci.confDir, name);
}

/** The committed file with every delta dir replayed on top; throws Entry not found when there is no file. */
export function loadPackage(uci: UciContext, name: string): LoadedPackage {
  if (!validatePackage(name)) throw new UciError(UciErr.INVAL);
  const file = configPath(uci, name);
  const text = uci.fs.isDir(file) ? undefined : uci.fs.tryReadText(file);
  if (text === undefined) throw new UciError(UciErr.NOTFOUND);
  const [lp] = importConfig(uci, new LineSource(text), { name, single: true });
  lp.hasDelta = true;
  loadDeltas(uci, lp, false);
  return lp;
}

/** uci_load_delta: replay all delta dirs; with `flush`, empty the save dir's file once something applied. */
function loadDeltas(uci: UciContext, lp: LoadedPackage, flush: boolean): number {
  let changes = 0;
  for (const dir of uci.deltaPaths) {
    const text = uci.fs.tryReadText(path.posix.join(dir, lp.pkg.name));
    if (text !== undefined) changes += replayDeltas(uci, lp, text);
  }
  const saved = path.posix.join(uci.saveDir, lp.pkg.name);
  if (flush && changes > 0 && uci.fs.exists(saved) && !uci.fs.isDir(saved)) uci.fs.writeAtomic(saved, "");
  return changes;
}

/** Package names in the config dir, sorted; Entry not found when the dir has no entries at all. */
export function listConfigs(uci: UciContext): string[] {
  const entries = uci.fs.list(uci.confDir).filter((n) => !n.startsWith("."));
  if (entries.length === 0) throw new UciError(UciErr.NOTFOUND);
  return entries.filter((n) => !n.includes(".") && validatePackage(n) && !uci.fs.isDir(configPath(uci, n)));
}

/** uci_save: append this command's changes to the save dir. */
export function savePackage(uci: UciContext, lp: LoadedPackage): void {
  if (lp.delta.length === 0) return;
  const dir = uci.saveDir;
  // uci creates only the last level of the save dir.
  if (!uci.fs.exists(dir) && uci.fs.isDir(path.posix.dirname(dir))) uci.fs.mkdirp(dir, 0o700);
  if (!uci.fs.isDir(dir)) throw new UciError(UciErr.IO);
  uci.fs.append(path.posix.join(dir, lp.pkg.name), lp.delta.map((d) => formatDeltaLine(lp.pkg.name, d)).join(""));
  lp.delta = [];
}

/**
 * Replaces a config file with the package (`import` without -m does only this: staged deltas are
 * left alone). On a full overlay the rename still happens but the content does not fit: the file
 * ends up empty and the write reports an I/O error.
 */
export function overwritePackage(uci: UciContext, lp: LoadedPackage): void {
  const file = configPath(uci, lp.pkg.name);
  if (uci.overlayFull() && onOverlay(file)) {
    uci.fs.writeAtomic(file, "");
    throw new UciError(UciErr.IO);
  }
  const data = exportPackage(lp.pkg, { named: uci.exportNames });
  uci.fs.writeAtomic(file, data);
  // uci_file_commit: mkstemp("<confdir>/.<pkg>.uci-XXXXXX"), fsync, rename. Only the temp name is on flash.
  uci.fsynced(path.posix.join(path.posix.dirname(file), `.${path.posix.basename(file)}.uci-${randomSuffix()}`), data);
}

function randomSuffix(): string {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from({ length: 6 }, () => chars[Math.floor(Math.random() * chars.length)]).join("");
}

/**
 * uci_file_commit: re-read the file, replay all delta dirs, empty the save dir's delta file, then
 * replace the file. Nothing is rewritten when no delta line applies.
 */
export function commitPackage(uci: UciContext, name: string): void {
  const text = uci.fs.tryReadText(configPath(uci, name)) ?? "";
  const [fresh] = importConfig(uci, new LineSource(text), { name, single: true });
  fresh.hasDelta = true;
  if (loadDeltas(uci, fresh, true) === 0) return;
  overwritePackage(uci, fresh);
}

/** uci_revert: drop the matching lines from the save dir's delta file (other delta dirs are untouched). */
export function revertDeltas(uci: UciContext, name: string, section?: string, option?: string): void {
  const file = path.posix.join(uci.saveDir, name);
  const text = uci.fs.tryReadText(file);
  if (text === undefined) return;
  const kept = filterDeltas(uci, name, text, section, option);
  if (kept !== undefined) uci.fs.writeAtomic(file, kept);
}
