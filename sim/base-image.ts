import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { provisionBusybox } from "./busybox/provision";
import { EMULATED_APPLETS, openwrtAppletNames } from "./busybox/openwrt-applets";
import { busyboxGate, emulatedApplets, RootScript } from "./busybox/root-scripts";

/**
 * What a router's root borrows from the host: a busybox binary (read-only bind mount) and, for a
 * dynamically linked one, its libraries. Normally that is OpenWrt's default busybox, built from
 * source into the cache (sim/busybox/), so a script that needs an applet or option a stock router
 * lacks fails here as it would there.
 */
export interface BaseImage {
  /** The binary on the host. */
  busybox: string;
  /** Where it is mounted inside the router; applet links point there. */
  mountPath: string;
  /** Host directories to mount at the same path inside the router (the dynamic loader and libc); none for a static busybox. */
  libraryDirs: string[];
  /** Applet paths relative to the root, as `busybox --list-full` gives them (`bin/ash`, `usr/bin/awk`). */
  applets: string[];
  /** Programs installed as scripts: OpenWrt's own applets (lock, netmsg), and the `busybox` gate of the fallback. */
  scripts: RootScript[];
}

let cached: BaseImage | undefined;

/** The image every router of this process uses, provisioned on first use (see prepareBaseImage). */
export function baseImage(): BaseImage {
  return (cached ??= prepareBaseImage());
}

/**
 * Provisions the busybox up front (a cold cache builds it: under a minute on two cores) so routers start fast
 * afterwards: for jest's globalSetup and the CLI. OPENWRT_SIM_BUSYBOX=/path uses that binary instead.
 */
export function prepareBaseImage(): BaseImage {
  if (cached) return cached;
  const override = process.env.OPENWRT_SIM_BUSYBOX;
  const { mode, binary, applets } = override ? fromOverride(override) : provisionBusybox();
  // The fallback's binary has Debian's whole applet set: /bin/busybox becomes a gate in front of it.
  const gated = mode === "debian-filtered";
  if (gated) warnDebianOptionsOnce(applets);
  const mountPath = gated ? "/lib/sim/busybox" : "/bin/busybox";
  cached = {
    busybox: binary,
    mountPath,
    libraryDirs: libraryDirsOf(binary),
    applets,
    scripts: [...emulatedApplets(applets), ...(gated ? [busyboxGate(mountPath)] : [])],
  };
  return cached;
}

function fromOverride(binary: string): { mode: "override"; binary: string; applets: string[] } {
  const real = fs.realpathSync(binary);
  return { mode: "override", binary: real, applets: appletsOf(real) };
}

/** Once per process tree: jest workers inherit the variable from globalSetup's process. */
function warnDebianOptionsOnce(applets: string[]): void {
  if (process.env.OPENWRT_SIM_BUSYBOX_WARNED) return;
  process.env.OPENWRT_SIM_BUSYBOX_WARNED = "1";
  const have = new Set(applets.map((a) => path.basename(a)));
  const lacking = openwrtAppletNames().filter((n) => !have.has(n) && !(n in EMULATED_APPLETS));
  process.stderr.write(
    "openwrt-sim: warning: simulated routers run Debian's busybox limited to OpenWrt's applets, with Debian's option set: " +
      "`sleep 0.5`, `sort -k`, `$((16#ff))` work there but fail on a stock router" +
      (lacking.length ? `; and it lacks OpenWrt's ${lacking.join(", ")}` : "") +
      ". Install make and a C compiler to build OpenWrt's busybox instead.\n",
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
  for (const match of out.matchAll(/(\/[^\s)]+)/g)) dirs.add(path.dirname(match[1]));
  return [...dirs].sort();
}

/** From a `busybox.links` beside the binary (as our builds leave it), else `busybox --list-full`. */
function appletsOf(binary: string): string[] {
  const links = path.join(path.dirname(binary), "busybox.links");
  const out = fs.existsSync(links) ? fs.readFileSync(links, "utf8") : execFileSync(binary, ["--list-full"], { encoding: "utf8" });
  return out
    .split("\n")
    .map((l) => l.trim().replace(/^\//, ""))
    .filter((l) => l.length > 0 && !l.includes(".."));
}
