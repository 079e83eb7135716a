import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PrivateApt } from "./apt";
import { withCacheLock } from "./cache-lock";
import { debianFiltered } from "./debian-filtered";
import { canBuild, openwrtBuild } from "./openwrt-build";
import { cacheRoot, dataFile } from "./paths";
import type { AptArtefact } from "./apt";
import type { Recipe } from "./recipe";

export type BusyboxMode = "openwrt" | "debian-filtered";

export interface ProvisionedBusybox {
  mode: BusyboxMode;
  /** The binary, in the cache. */
  binary: string;
  /** Applet paths relative to the router's root (`bin/ash`, `usr/bin/awk`). */
  applets: string[];
}

/**
 * The busybox simulated routers run, from the cache when its inputs are unchanged, otherwise built
 * (or fetched) once under a lock that other processes wait on. Prints one line when it did work.
 *
 * OPENWRT_SIM_BUSYBOX_MODE=debian-filtered forces the fallback that needs no compiler.
 */
export function provisionBusybox(): ProvisionedBusybox {
  const mode = busyboxMode();
  const cache = cacheRoot();
  const apt = new PrivateApt(cache);
  const recipe = mode === "openwrt" ? openwrtBuild(apt, cache) : debianFiltered(apt, cache);
  const entries = path.join(cache, "busybox");
  const entryFor = (upstream: AptArtefact[]) => path.join(entries, cacheKey(recipe, upstream));

  const known = recipe.upstream(true);
  if (known && isComplete(entryFor(known))) return load(mode, entryFor(known));
  return withCacheLock(path.join(entries, ".lock"), () => {
    const started = Date.now();
    const upstream = recipe.upstream(false)!;
    const dir = entryFor(upstream);
    if (isComplete(dir)) return load(mode, dir);
    for (const leftover of fs.readdirSync(entries).filter((e) => e.includes(".tmp-"))) {
      fs.rmSync(path.join(entries, leftover), { recursive: true, force: true });
    }
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.mkdirSync(tmp, { recursive: true });
    const what = recipe.produce(tmp, upstream);
    fs.renameSync(tmp, dir);
    const image = load(mode, dir);
    const seconds = Math.round((Date.now() - started) / 1000);
    process.stderr.write(`openwrt-sim: ${what} (${image.applets.length} applets) in ${seconds} s: ${image.binary}\n`);
    return image;
  });
}

function busyboxMode(): BusyboxMode {
  const forced = process.env.OPENWRT_SIM_BUSYBOX_MODE;
  if (forced === "openwrt" || forced === "debian-filtered") return forced;
  if (forced) throw new Error(`OPENWRT_SIM_BUSYBOX_MODE must be "openwrt" or "debian-filtered", not "${forced}"`);
  return canBuild() ? "openwrt" : "debian-filtered";
}

/** Covers every input: the recipe, its data files' content, and the exact Debian files (by checksum). */
function cacheKey(recipe: Recipe, upstream: AptArtefact[]): string {
  const hash = createHash("sha256").update(`${recipe.name}\n`);
  if (recipe.key) hash.update(`${recipe.key}\n`);
  for (const file of recipe.files) hash.update(`${file}\n`).update(fs.readFileSync(dataFile(file)));
  for (const a of upstream) hash.update(`${a.file} ${a.sha256}\n`);
  return hash.digest("hex").slice(0, 16);
}

function isComplete(dir: string): boolean {
  return fs.existsSync(path.join(dir, "busybox")) && fs.existsSync(path.join(dir, "busybox.links"));
}

function load(mode: BusyboxMode, dir: string): ProvisionedBusybox {
  const applets = fs
    .readFileSync(path.join(dir, "busybox.links"), "utf8")
    .split("\n")
    .filter(Boolean);
  return { mode, binary: path.join(dir, "busybox"), applets };
}
