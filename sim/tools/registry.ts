import { RouterFs } from "../fs";
import type { ToolCallResult, ToolDispatcher } from "../rpc";
import type { Profile, RouterHandle, Tool, ToolContext, ToolResult } from "../types";
import { apkTool } from "./apk";
import { dfTool } from "./df";
import { ethtoolTool } from "./ethtool";
import { fw3Tool, iptablesTool } from "./fw3";
import { fw4Tool } from "./fw4";
import { nftTool } from "./nft";
import { opkgTool } from "./opkg";
import { rebootTool } from "./reboot";
import { fsyncTool, syncTool } from "./sync";
import { uciTool } from "./uci";
import { ubusTool } from "./ubus";
import { unameTool } from "./uname";

interface Program {
  path: string;
  tool: Tool;
  /** On the image from the start; otherwise its package's install creates the link. */
  preinstalled: boolean;
}

/** Where each emulated program lives on an image of this profile, and what runs when it is called. */
export function programsFor(profile: Profile): Map<string, Program> {
  const programs = new Map<string, Program>();
  const add = (name: string, path: string, tool: Tool, preinstalled = true) => programs.set(name, { path, tool, preinstalled });
  add("uci", "/sbin/uci", uciTool);
  add("ubus", "/bin/ubus", ubusTool);
  add("df", "/bin/df", dfTool);
  add("reboot", "/sbin/reboot", rebootTool);
  add("uname", "/bin/uname", unameTool);
  add("sync", "/bin/sync", syncTool);
  add("fsync", "/bin/fsync", fsyncTool);
  if (profile.firewall === "fw4") {
    add("fw4", "/sbin/fw4", fw4Tool);
    // firewall4 ships /sbin/fw3 as a link to fw4, so a `-x /sbin/fw3` test does not tell the two apart.
    add("fw3", "/sbin/fw3", fw4Tool);
    add("nft", "/usr/sbin/nft", nftTool);
  } else {
    add("fw3", "/sbin/fw3", fw3Tool);
    add("iptables", "/usr/sbin/iptables", iptablesTool);
  }
  if (profile.packageManager === "apk") add("apk", "/usr/bin/apk", apkTool);
  else add("opkg", "/bin/opkg", opkgTool);
  const ethtoolInstalled = profile.packages.some((p) => p.name === "ethtool" || p.name === "ethtool-full");
  add("ethtool", "/usr/sbin/ethtool", ethtoolTool, ethtoolInstalled);
  return programs;
}

/** Links to create at first boot. */
export function programPathsFor(profile: Profile): string[] {
  return [...programsFor(profile).values()].filter((p) => p.preinstalled).map((p) => p.path);
}

/**
 * Runs emulated programs for one router: the other end of the RPC shim. `afterCall` lets the
 * router refresh what scripts read of its kernel (/proc, /sys) once a program has changed it, and
 * answers false when the router died right after the call (a power cut), so the caller gets no reply.
 */
export function dispatcherFor(router: RouterHandle, afterCall: (argv: string[]) => boolean): ToolDispatcher {
  const programs = programsFor(router.profile);
  const invoke = async (argv: string[], cwd: string, readStdin: () => Promise<Buffer>): Promise<ToolCallResult> => {
    const program = programs.get(argv[0]);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    if (!program) {
      return { code: 127, stdout: Buffer.alloc(0), stderr: Buffer.from(`-ash: ${argv[0]}: not found\n`) };
    }
    const ctx: ToolContext = {
      argv,
      cwd,
      env: {},
      fs: router.fs as RouterFs,
      router,
      readStdin,
      stdout: (d) => out.push(Buffer.from(d)),
      stderr: (d) => err.push(Buffer.from(d)),
      run: async (subArgv, stdin): Promise<ToolResult> => {
        const result = await invoke(subArgv, cwd, async () => Buffer.from(stdin ?? ""));
        return { code: result.code, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
      },
    };
    const code = await program.tool(ctx);
    return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
  };
  return async (call) => {
    const result = await invoke(call.argv, call.cwd, call.readStdin);
    return afterCall(call.argv) ? result : { ...result, unanswered: true };
  };
}
