import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { PrivateApt } from "./apt";
import { onPath } from "./host-tools";
import { dataFile } from "./paths";
import { debianVersion, type Recipe } from "./recipe";

/** What build.sh needs besides a POSIX shell: without them, the Debian-filtered fallback is used. */
export function canBuild(): boolean {
  return onPath("make") && (onPath("cc") || onPath("gcc")) && onPath("tar");
}

/**
 * OpenWrt's default busybox, built from the upstream tarball of Debian's busybox source package
 * with the settings in openwrt.config (see build.sh): the same applets and options as a stock router.
 */
export function openwrtBuild(apt: PrivateApt, cacheDir: string): Recipe {
  return {
    name: "openwrt",
    files: ["build.sh", "openwrt.config"],
    upstream: (offline) => apt.resolve("source-busybox", ["source", "busybox"], offline),
    produce(dir, upstream) {
      if (!canBuild()) throw new Error("building OpenWrt's busybox needs make, a C compiler (cc or gcc) and tar on PATH");
      const sourceDir = path.join(cacheDir, "apt", "source");
      apt.fetch(["source", "--download-only", "busybox"], sourceDir);
      const tarball = upstream.find((a) => /\.orig\.tar\.[a-z0-9]+$/.test(a.file));
      if (!tarball || !fs.existsSync(path.join(sourceDir, tarball.file))) {
        throw new Error(`apt-get source did not leave the upstream tarball in ${sourceDir}; remove ${path.join(cacheDir, "apt")} and retry`);
      }
      try {
        execFileSync("sh", [dataFile("build.sh"), path.join(sourceDir, tarball.file), dataFile("openwrt.config"), dir], {
          stdio: ["ignore", "pipe", "pipe"],
        });
      } catch (err) {
        const e = err as { stderr?: Buffer; message: string };
        throw new Error(`building busybox with sim/busybox/build.sh failed:\n${e.stderr?.toString().trim() || e.message}`);
      }
      const dsc = upstream.find((a) => a.file.endsWith(".dsc"));
      return `built OpenWrt's busybox from Debian's busybox ${dsc ? debianVersion(dsc.file) : "?"} source`;
    },
  };
}
