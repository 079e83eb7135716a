import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/**
 * The host binaries a router's root borrows (read-only bind mounts): Debian's busybox and the
 * shared libraries it links against. Routers run busybox ash and applets, as OpenWrt does, so a
 * script that relies on GNU-only flags fails here as it would on a real router.
 */
export interface BaseImage {
  busybox: string;
  /** Host directories to mount at the same path inside the router (the dynamic loader and libc). */
  libraryDirs: string[];
  /** Applet paths relative to the root, as `busybox --list-full` gives them (`bin/ash`, `usr/bin/awk`). */
  applets: string[];
}

let cached: BaseImage | undefined;

export function baseImage(): BaseImage {
  if (cached) return cached;
  const busybox = findBusybox();
  cached = { busybox, libraryDirs: libraryDirsOf(busybox), applets: appletsOf(busybox) };
  return cached;
}

function findBusybox(): string {
  const candidates = [process.env.OPENWRT_SIM_BUSYBOX, "/usr/bin/busybox", "/bin/busybox"].filter((c): c is string => !!c);
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return fs.realpathSync(candidate);
  }
  throw new Error(
    "The simulated router needs Debian's busybox (its shell and applets stand in for OpenWrt's): " +
      "install it with `apt-get install busybox`, or point OPENWRT_SIM_BUSYBOX at a busybox binary.",
  );
}

/** Directories holding the loader and libraries, from ldd; a static busybox needs none. */
function libraryDirsOf(binary: string): string[] {
  let out: string;
  try {
    out = execFileSync("ldd", [binary], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch {
    return [];
  }
  const dirs = new Set<string>();
  for (const match of out.matchAll(/(\/[^\s)]+)/g)) {
    const file = match[1];
    dirs.add(path.dirname(file));
  }
  return [...dirs].sort();
}

function appletsOf(binary: string): string[] {
  const out = execFileSync(binary, ["--list-full"], { encoding: "utf8" });
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.includes(".."));
}
