import * as fs from "fs";
import * as path from "path";
import { EMULATED_APPLETS, openwrtAppletNames } from "./openwrt-applets";
import { dataFile } from "./paths";

/** A program of the image that is a script in the router's root rather than an applet link. */
export interface RootScript {
  /** Relative to the root, like applet paths. */
  path: string;
  content: string;
}

/** lock and netmsg, unless the binary has them (a real OpenWrt busybox given as OPENWRT_SIM_BUSYBOX). */
export function emulatedApplets(applets: string[]): RootScript[] {
  const have = new Set(applets.map((a) => path.basename(a)));
  return Object.entries(EMULATED_APPLETS)
    .filter(([name]) => !have.has(name))
    .map(([name, at]) => ({ path: at, content: fs.readFileSync(dataFile(`${name}.sh`), "utf8") }));
}

/**
 * `/bin/busybox` when Debian's binary stands in (mounted elsewhere): `busybox NAME` runs only
 * OpenWrt's applets and refuses the rest as OpenWrt's busybox does.
 */
export function busyboxGate(realBinary: string): RootScript {
  const names = openwrtAppletNames().filter((n) => !(n in EMULATED_APPLETS));
  const content = [
    "#!/bin/sh",
    "# Debian's busybox stands in for OpenWrt's here; run only the applets a stock OpenWrt router has.",
    `case " ${names.join(" ")} " in`,
    `*" $1 "*) exec ${realBinary} "$@" ;;`,
    "esac",
    'echo "${1:-busybox}: applet not found" >&2',
    "exit 127",
    "",
  ].join("\n");
  return { path: "bin/busybox", content };
}
