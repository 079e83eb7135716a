import * as fs from "fs";
import { dataFile } from "./paths";

/** OpenWrt's only applets that upstream busybox lacks (OpenWrt patches); shell emulations stand in. */
export const EMULATED_APPLETS = { lock: "bin/lock", netmsg: "bin/netmsg" } as const;

/** The applet names of a stock OpenWrt busybox (openwrt-applets.txt). */
export function openwrtAppletNames(): string[] {
  return fs
    .readFileSync(dataFile("openwrt-applets.txt"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("#"));
}
