import { OPENWRT_APPLETS, OPENWRT_PATCH_APPLETS } from "../../openwrt/busybox";

/** OpenWrt's only applets that upstream busybox lacks (OpenWrt patches): where their shell emulations go. */
export const EMULATED_APPLETS: Record<(typeof OPENWRT_PATCH_APPLETS)[number], string> = { lock: "bin/lock", netmsg: "bin/netmsg" };

/** The applet names of a stock OpenWrt busybox. */
export function openwrtAppletNames(): string[] {
  return [...OPENWRT_APPLETS];
}
