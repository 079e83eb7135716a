import type { Tool } from "../types";

/**
 * busybox `sync` and `fsync`, emulated because the simulator's flash model has to see them: only
 * what was synced survives a power cut (sim/flash.ts). OpenWrt's sync is built without
 * FEATURE_SYNC_FANCY, so it takes no options and ignores operands.
 */
export const syncTool: Tool = async (ctx) => {
  ctx.router.flash.sync();
  return 0;
};

export const fsyncTool: Tool = async (ctx) => {
  const files = ctx.argv.slice(1).filter((a) => a !== "-d");
  let code = 0;
  for (const file of files) {
    const at = file.startsWith("/") ? file : `${ctx.cwd.replace(/\/$/, "")}/${file}`;
    if (!ctx.fs.exists(at)) {
      ctx.stderr(`fsync: can't open '${file}': No such file or directory\n`);
      code = 1;
      continue;
    }
    ctx.router.flash.fsync(at);
  }
  return code;
};
