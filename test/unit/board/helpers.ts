import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Flash } from "../../../sim/flash";
import { RouterFs } from "../../../sim/fs";
import { NetifdOptions, SimNetifd } from "../../../sim/netifd";
import { getProfile } from "../../../sim/profiles";
import { overlayUsage } from "../../../sim/tools/df";
import { installedPackageNames, installProfilePackages, modulesForPackages, releaseFiles } from "../../../sim/tools/packages";
import type { FaultState, KernelState, Profile, RouterHandle, Tool, ToolContext, ToolResult } from "../../../sim/types";

export interface TestRouter extends RouterHandle {
  readonly netifd: SimNetifd;
  readonly rootDir: string;
  readonly reboots: string[];
}

const roots: string[] = [];

/**
 * A router without SSH or chroot: a temp root holding what the firmware writes, the kernel state
 * the profile boots with, and netifd brought up from the committed network config.
 */
export function makeRouter(profileId: string, netifdOptions: NetifdOptions = {}): TestRouter {
  const profile: Profile = getProfile(profileId);
  const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), "board-test-"));
  roots.push(rootDir);
  const rfs = new RouterFs(rootDir);
  rfs.mkdirp("/tmp");
  rfs.mkdirp("/overlay/upper");
  rfs.symlink("tmp", "/var");
  for (const [file, content] of Object.entries(releaseFiles(profile))) rfs.writeAtomic(file, content);
  rfs.writeAtomic("/etc/config/network", profile.networkConfig);
  rfs.writeAtomic("/etc/config/firewall", profile.firewallConfig);
  installProfilePackages(rfs, profile);
  const kernel: KernelState = {
    hwTcOffload: new Map(profile.devices.map((d) => [d.name, d.hwTcOffload === true])),
    conntrack: [],
    modules: new Set(modulesForPackages(installedPackageNames(rfs, profile))),
    nft: undefined as unknown as KernelState["nft"],
    iptables: new Map(),
    acceptsHwOffload: () => false,
  };
  const faults: FaultState = { failNextFirewallReload: false, overlayFull: false };
  const netifd = new SimNetifd(profile, rfs, netifdOptions);
  netifd.reload();
  const reboots: string[] = [];
  const router: TestRouter = {
    profile,
    fs: rfs,
    kernel,
    faults,
    netifd,
    rootDir,
    reboots,
    requestReboot: (reason) => reboots.push(reason),
    flash: new Flash(rootDir, `${rootDir}.flash`),
    overlayFreeKiB: () => overlayUsage(router).availKiB,
  };
  return router;
}

export function cleanupRouters(): void {
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
}

export async function runTool(router: RouterHandle, tool: Tool, argv: string[], cwd = "/root"): Promise<ToolResult> {
  let stdout = "";
  let stderr = "";
  const ctx: ToolContext = {
    argv,
    cwd,
    env: {},
    fs: router.fs,
    router,
    readStdin: async () => Buffer.alloc(0),
    stdout: (d) => (stdout += d.toString()),
    stderr: (d) => (stderr += d.toString()),
    run: () => Promise.reject(new Error("no nested programs in board tests")),
  };
  const code = await tool(ctx);
  return { code, stdout, stderr };
}

/** The stdout of one `$ command` block of a reference capture. */
export function captured(file: string, command: string): string {
  const text = fs.readFileSync(path.join(__dirname, "fixtures", file), "utf8");
  const start = text.indexOf(`$ ${command}\n[stdout]\n`);
  if (start < 0) throw new Error(`no capture of ${command}`);
  const body = text.slice(start + command.length + 12);
  return body.slice(0, body.indexOf("[exit "));
}
