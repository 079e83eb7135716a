import * as fs from "fs";
import * as path from "path";

const PACKAGE_NAME = "pulumi-openwrt-offload";

let root: string | undefined;

/**
 * The directory holding this project's package.json. This file runs as `sim/busybox/*.ts` under
 * ts-jest and as `dist/sim/busybox/*.js` once built, so it is found by walking up, not by a fixed
 * number of `..`.
 */
export function packageRoot(): string {
  if (root) return root;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (isOurPackage(path.join(dir, "package.json"))) return (root = dir);
    if (path.dirname(dir) === dir) throw new Error(`cannot find ${PACKAGE_NAME}'s package.json above ${__dirname}`);
  }
}

/** Where provisioned artefacts live; OPENWRT_SIM_CACHE moves it (CI caches, read-only checkouts). */
export function cacheRoot(): string {
  return path.resolve(process.env.OPENWRT_SIM_CACHE || path.join(packageRoot(), ".cache"));
}

/** A data file shipped next to this module's source (build recipe, settings, applet list, scripts). */
export function dataFile(name: string): string {
  return path.join(packageRoot(), "sim", "busybox", name);
}

function isOurPackage(file: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}
