import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Flash } from "../../../sim/flash";
import { RouterFs } from "../../../sim/fs";
import { NftKernel } from "../../../sim/tools/nft/kernel";
import { parseConfig } from "../../../sim/tools/uci";
import type { UciPackage } from "../../../sim/tools/uci/model";
import type { DeviceSpec, InterfaceStatus, KernelState, Netifd, Profile, RouterHandle, Tool, ToolContext, ToolResult } from "../../../sim/types";

export const RENDERS = path.join(__dirname, "../../fixtures/fw4-renders");
export const FIXTURES = path.join(__dirname, "fixtures");
export const STOCK_FIREWALL = fs.readFileSync(path.join(__dirname, "../../../sim/profiles/configs/firewall-stock"), "utf8");

export function readRender(name: string): string {
  return fs.readFileSync(path.join(RENDERS, name), "utf8");
}

export function stockFirewall(extra = ""): UciPackage {
  return parseConfig(STOCK_FIREWALL + extra, "firewall");
}

/** The topology of fw4-renders/ubus-for-fw4.txt: br-lan over eth0, wan and wan6 on eth1. */
export const LAB_DEVICES: DeviceSpec[] = [
  { name: "eth0", devtype: "ethernet", macaddr: "52:54:00:12:34:56", hwTcOffload: false },
  { name: "eth1", devtype: "ethernet", macaddr: "52:54:00:12:34:57", hwTcOffload: false },
  { name: "br-lan", devtype: "bridge", macaddr: "52:54:00:12:34:56", lower: ["eth0"], hwTcOffload: false },
];

export const LAB_INTERFACES: InterfaceStatus[] = [
  {
    interface: "lan",
    up: true,
    proto: "static",
    device: "br-lan",
    l3_device: "br-lan",
    ipv4: [{ address: "192.168.1.1", mask: 24 }],
    ipv6: [],
    ipv6PrefixAssignment: [{ address: "fd5d:3563:874c::", mask: 60 }],
  },
  { interface: "loopback", up: true, proto: "static", device: "lo", l3_device: "lo", ipv4: [{ address: "127.0.0.1", mask: 8 }], ipv6: [], ipv6PrefixAssignment: [] },
  { interface: "wan", up: true, proto: "dhcp", device: "eth1", l3_device: "eth1", ipv4: [{ address: "203.0.113.151", mask: 24 }], ipv6: [], ipv6PrefixAssignment: [] },
  { interface: "wan6", up: true, proto: "none", device: "eth1", l3_device: "eth1", ipv4: [], ipv6: [], ipv6PrefixAssignment: [] },
];

export const OFFLOAD_MODULES = ["nf_flow_table", "nf_flow_table_inet", "nft_flow_offload"];

export interface FakeRouterOptions {
  firewall?: "fw3" | "fw4";
  fw4Flavor?: Profile["fw4Flavor"];
  devices?: DeviceSpec[];
  interfaces?: InterfaceStatus[];
  modules?: string[];
  /** The kernel's answer to `flags offload` (default: refuse, like hardware without a flow engine). */
  hwOffload?: (devices: string[]) => boolean;
}

export interface FakeRouter extends RouterHandle {
  readonly rootDir: string;
  kernel: KernelState & { modules: Set<string> };
  faults: { failNextFirewallReload: boolean; overlayFull: boolean };
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

export function fakeRouter(opts: FakeRouterOptions = {}): FakeRouter {
  const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), "fwtest-"));
  tempDirs.push(rootDir);
  const routerFs = new RouterFs(rootDir);
  const devices = opts.devices ?? LAB_DEVICES;
  const interfaces = opts.interfaces ?? LAB_INTERFACES;
  const hwOffload = opts.hwOffload ?? (() => false);
  const netifd: Netifd = {
    interfaces: () => interfaces,
    device: (name) => devices.find((d) => d.name === name),
    devices: () => devices,
  };
  const kernel = {
    hwTcOffload: new Map(devices.map((d) => [d.name, d.hwTcOffload === true])),
    conntrack: [],
    modules: new Set(opts.modules ?? OFFLOAD_MODULES),
    nft: new NftKernel(),
    iptables: new Map<string, string[]>(),
    acceptsHwOffload: (devs: string[]) => devs.length > 0 && hwOffload(devs),
  };
  const profile = {
    id: "test",
    summary: "test router",
    release: { distribution: "OpenWrt", version: "23.05.4", revision: "r0", target: "x86/64", arch: "x86_64" },
    kernel: "5.15.162",
    firewall: opts.firewall ?? "fw4",
    fw4Flavor: opts.fw4Flavor ?? "2305",
    packageManager: "opkg",
    board: { model: "test", boardName: "test", system: "test", hostname: "OpenWrt", rootfsType: "ext4" },
    hwFlowEngine: false,
    mixedOffloadPatch: false,
    crashesUnderHwOffload: false,
    devices,
    packages: [],
    feed: [],
    overlay: { totalKiB: 1000, usedKiB: 10, device: "/dev/root" },
    networkConfig: "",
    firewallConfig: STOCK_FIREWALL,
  } as Profile;
  return {
    rootDir,
    profile,
    fs: routerFs,
    kernel,
    faults: { failNextFirewallReload: false, overlayFull: false },
    netifd,
    requestReboot: () => undefined,
    flash: new Flash(rootDir, `${rootDir}.flash`),
    overlayFreeKiB: () => 1000,
  };
}

/** Runs emulated programs against a fake router, with `run` dispatching among them like the runtime. */
export async function runTool(router: RouterHandle, tools: Record<string, Tool>, argv: string[], stdin = ""): Promise<ToolResult> {
  const tool = tools[argv[0]];
  if (!tool) return { code: 127, stdout: "", stderr: `-ash: ${argv[0]}: not found\n` };
  let stdout = "";
  let stderr = "";
  const ctx: ToolContext = {
    argv,
    cwd: "/root",
    env: {},
    fs: router.fs,
    router,
    readStdin: async () => Buffer.from(stdin),
    stdout: (d) => (stdout += d.toString()),
    stderr: (d) => (stderr += d.toString()),
    run: (sub, input) => runTool(router, tools, sub, input === undefined ? "" : input.toString()),
  };
  const code = await tool(ctx);
  return { code, stdout, stderr };
}
