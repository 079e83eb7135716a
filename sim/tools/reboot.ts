import type { Tool } from "../types";

/**
 * busybox `reboot` on OpenWrt asks procd to restart: the command returns at once and the router
 * goes down a moment later, so the caller's SSH exec usually completes before the link dies.
 */
export const rebootTool: Tool = async (ctx) => {
  const delayed = ctx.argv.includes("-f") ? 0 : 100;
  setTimeout(() => ctx.router.requestReboot("reboot command"), delayed);
  return 0;
};
