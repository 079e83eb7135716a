import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { PrivateApt } from "./apt";
import { openwrtAppletNames } from "./openwrt-applets";
import { debianVersion, type Recipe } from "./recipe";

/**
 * The fallback where busybox cannot be built: Debian's own busybox, with applet links only for
 * OpenWrt's applets. Its options stay Debian's (`sleep 0.5`, `sort -k` work), which base-image warns about.
 *
 * Debian's `busybox` package, not `busybox-static`: the static one is built with
 * FEATURE_SH_STANDALONE, so its ash runs every applet it has by name, links or not — `setsid` would
 * work, and `df` or `reboot` would bypass the simulator's emulations.
 */
export function debianFiltered(apt: PrivateApt, cacheDir: string): Recipe {
  return {
    name: "debian-filtered",
    files: [],
    key: openwrtAppletNames().join(" "),
    upstream: (offline) => apt.resolve("binary-busybox", ["download", "busybox"], offline),
    produce(dir, upstream) {
      const debDir = path.join(cacheDir, "apt", "debs");
      apt.fetch(["download", "busybox"], debDir);
      const deb = upstream.find((a) => a.file.endsWith(".deb"));
      if (!deb || !fs.existsSync(path.join(debDir, deb.file))) {
        throw new Error(`apt-get download did not leave busybox's .deb in ${debDir}; remove ${path.join(cacheDir, "apt")} and retry`);
      }
      const unpacked = path.join(dir, "deb");
      execFileSync("dpkg-deb", ["-x", path.join(debDir, deb.file), unpacked], { stdio: ["ignore", "pipe", "pipe"] });
      fs.renameSync(path.join(unpacked, "bin", "busybox"), path.join(dir, "busybox"));
      fs.rmSync(unpacked, { recursive: true, force: true });

      const keep = new Set(openwrtAppletNames());
      const applets = execFileSync(path.join(dir, "busybox"), ["--list-full"], { encoding: "utf8" })
        .split("\n")
        .filter((p) => keep.has(path.basename(p)));
      fs.writeFileSync(path.join(dir, "busybox.links"), `${applets.join("\n")}\n`);
      return `fetched Debian's busybox ${debianVersion(deb.file)}, linked for OpenWrt's applets only`;
    },
  };
}
