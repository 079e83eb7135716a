import * as fs from "fs";
import * as path from "path";
import { baseImage } from "../../../sim/base-image";
import { provisionBusybox } from "../../../sim/busybox/provision";
import { EMULATED_APPLETS, openwrtAppletNames } from "../../../sim/busybox/openwrt-applets";
import { dataFile } from "../../../sim/busybox/paths";
import { describeIf } from "../../helpers/requirements";

/**
 * The busybox that globalSetup provisioned (warm here) against OpenWrt's defaults: the applets it
 * links plus the two scripted ones are OpenWrt's list exactly, and its .config is openwrt.config
 * applied to allnoconfig, with the options OpenWrt leaves off still off.
 */
const image = provisionBusybox();
const builtConfig = () => new Set(fs.readFileSync(path.join(path.dirname(image.binary), "config"), "utf8").split("\n"));

// The Debian-filtered fallback (no make or C compiler, or OPENWRT_SIM_BUSYBOX_MODE) builds nothing to check.
const built =
  image.mode === "openwrt"
    ? { ok: true }
    : {
        ok: false,
        reason:
          process.env.OPENWRT_SIM_BUSYBOX_MODE === "debian-filtered"
            ? "OPENWRT_SIM_BUSYBOX_MODE=debian-filtered chose the fallback busybox (unset it)"
            : "the routers run the Debian-filtered fallback busybox: install make and a C compiler (apt-get install make gcc libc6-dev) to build OpenWrt's",
      };
describeIf(built, "OpenWrt's busybox, built from source", () => {
  test("its applets plus lock and netmsg are OpenWrt's 119", () => {
    const names = image.applets.map((a) => path.basename(a));
    expect(names).toHaveLength(117);
    expect([...names, ...Object.keys(EMULATED_APPLETS)].sort()).toEqual([...openwrtAppletNames()].sort());
    expect(openwrtAppletNames()).toHaveLength(119);
  });

  test("its applets are at OpenWrt's paths, relative to the root", () => {
    expect(image.applets).toEqual(expect.arrayContaining(["bin/ash", "bin/sh", "usr/bin/awk", "sbin/ifconfig", "usr/sbin/ntpd"]));
    expect(image.applets.filter((a) => a.startsWith("/") || a.includes(".."))).toEqual([]);
  });

  test("every setting of openwrt.config reached its .config unchanged", () => {
    const settings = fs
      .readFileSync(dataFile("openwrt.config"), "utf8")
      .split("\n")
      .filter((l) => /^CONFIG_\w+=|^# CONFIG_\w+ is not set$/.test(l));
    expect(settings.length).toBeGreaterThan(250);
    const config = builtConfig();
    expect(settings.filter((s) => !config.has(s))).toEqual([]);
  });

  test("options OpenWrt leaves off are off, ash keeps bash compatibility, the binary is static", () => {
    const config = builtConfig();
    const off = ["FLOAT_DURATION", "FEATURE_SORT_BIG", "FEATURE_TR_CLASSES", "DESKTOP", "FEATURE_SH_MATH_BASE", "FEATURE_SH_READ_FRAC", "FEATURE_SH_STANDALONE", "SETSID", "TIMEOUT"];
    expect(off.filter((o) => !config.has(`# CONFIG_${o} is not set`))).toEqual([]);
    expect(["CONFIG_ASH_BASH_COMPAT=y", "CONFIG_STATIC=y"].filter((o) => !config.has(o))).toEqual([]);
    expect(baseImage().libraryDirs).toEqual([]);
  });
});
