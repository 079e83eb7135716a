import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RC_COMMON } from "../../../sim/init-scripts";
import { FIREWALL_INIT_SCRIPT, fw4Tool } from "../../../sim/tools/fw4";
import { nftTool } from "../../../sim/tools/nft";
import type { DeviceSpec } from "../../../sim/types";
import { LAB_INTERFACES, STOCK_FIREWALL, type FakeRouterOptions, fakeRouter, runTool } from "./helpers";

const tools = { fw4: fw4Tool, nft: nftTool };
const OFFLOAD = "\toption flow_offloading\t1\n";
const HW = "\toption flow_offloading_hw\t1\n";
const config = (defaults = "", extra = "") => STOCK_FIREWALL.replace("config defaults\n", `config defaults\n${defaults}`) + extra;
const BAD_INCLUDE = "chain broken {\n\tthis is not nft\n}\n";

function router(firewall = config(), opts: FakeRouterOptions = {}) {
  const r = fakeRouter(opts);
  r.fs.writeAtomic("/etc/config/firewall", firewall);
  const run = (...argv: string[]) => runTool(r, tools, argv);
  const ruleset = async () => (await run("nft", "-a", "list", "ruleset")).stdout;
  return { r, run, ruleset };
}

describe("fw4 commands (firewall4 23.05 /sbin/fw4)", () => {
  it("start loads the ruleset and records state; a second start refuses", async () => {
    const { r, run } = router();
    expect(await run("fw4", "start")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(r.fs.exists("/var/run/fw4.state")).toBe(true);
    expect(r.kernel.nft.table("inet", "fw4")).toBeDefined();
    expect(await run("fw4", "start")).toEqual({ code: 1, stdout: "", stderr: "The fw4 firewall appears to be already loaded.\n" });
    expect(await run("fw4", "-q", "start")).toEqual({ code: 1, stdout: "", stderr: "" });
  });

  it("reload needs a loaded firewall", async () => {
    const { run } = router();
    expect(await run("fw4", "reload")).toEqual({ code: 1, stdout: "", stderr: "The fw4 firewall does not appear to be loaded.\n" });
  });

  it("check reports success on stdout, and nothing with -q", async () => {
    const { run } = router(config(OFFLOAD));
    expect(await run("fw4", "check")).toEqual({ code: 0, stdout: "Ruleset passes nftables check.\n", stderr: "" });
    expect(await run("fw4", "-q", "check")).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("reload and start exit 0 when nft rejects the ruleset; check and restart exit 1", async () => {
    const { r, run, ruleset } = router();
    await run("fw4", "start");
    const before = await ruleset();
    r.fs.writeAtomic("/etc/nftables.d/bad.nft", BAD_INCLUDE);
    // nft names the include statement that read the file (checked against nft 1.0.6 in test/vm/sim-fidelity.test.ts).
    const nftError =
      "In file included from /dev/stdin:20:2-33:\n" +
      "/etc/nftables.d/bad.nft:2:2-5: Error: No symbol type information\n\tthis is not nft\n\t^^^^\n";

    expect(await run("fw4", "reload")).toEqual({ code: 0, stdout: "", stderr: nftError });
    expect(await ruleset()).toBe(before);
    expect(await run("fw4", "check")).toEqual({ code: 1, stdout: "", stderr: nftError });
    expect(await run("fw4", "-q", "check")).toEqual({ code: 1, stdout: "", stderr: "" });
    expect(await run("fw4", "restart")).toEqual({
      code: 1,
      stdout: "",
      stderr: `${nftError}The rendered ruleset contains errors, not doing firewall restart.\n`,
    });
    expect(await ruleset()).toBe(before);
  });

  it("after stop, a failed start leaves no table while the state says loaded", async () => {
    const { r, run } = router();
    await run("fw4", "start");
    expect(await run("fw4", "stop")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(r.kernel.nft.tables()).toEqual([]);
    expect(r.fs.exists("/var/run/fw4.state")).toBe(false);
    expect(await run("fw4", "stop")).toEqual({
      code: 0,
      stdout: "",
      stderr: "Error: Could not process rule: No such file or directory\ndelete table inet fw4\n                  ^^^\n",
    });
    r.fs.writeAtomic("/etc/nftables.d/bad.nft", BAD_INCLUDE);
    expect((await run("fw4", "start")).code).toBe(0);
    expect(r.kernel.nft.tables()).toEqual([]);
    expect(r.fs.exists("/var/run/fw4.state")).toBe(true);
  });

  it("restart replaces the table; flush removes every table", async () => {
    const { r, run } = router(config(OFFLOAD));
    await run("fw4", "start");
    await run("nft", "add", "table", "ip", "other");
    expect(await run("fw4", "restart")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(r.kernel.nft.tables().map((t) => `${t.family} ${t.name} ${t.handle}`)).toEqual(["ip other 2", "inet fw4 3"]);
    expect(await run("fw4", "flush")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(r.kernel.nft.tables()).toEqual([]);
    expect(r.fs.exists("/var/run/fw4.state")).toBe(false);
  });

  it("renders `delete flowtable inet fw4 ft` only while the kernel has fw4's flowtable", async () => {
    const { r, run } = router(config(OFFLOAD));
    expect((await run("fw4", "print")).stdout).toMatch(/^table inet fw4\nflush table inet fw4\n\ntable inet fw4 \{\n/);
    await run("fw4", "start");
    expect((await run("fw4", "print")).stdout).toMatch(/^table inet fw4\nflush table inet fw4\ndelete flowtable inet fw4 ft\n\ntable inet fw4 \{\n/);
    expect((await run("fw4", "reload")).code).toBe(0);
    expect(r.kernel.nft.flowtable("inet", "fw4", "ft")).toMatchObject({ devices: ["eth0", "eth1"], hwOffload: false, counter: true });
  });

  it("falls back to software offloading with a warning when the kernel refuses flags offload", async () => {
    const refusing = router(config(OFFLOAD + HW));
    expect(await refusing.run("fw4", "start")).toEqual({
      code: 0,
      stdout: "",
      stderr: "[!] Hardware flow offloading unavailable, falling back to software offloading\n",
    });
    expect(refusing.r.kernel.nft.flowtable("inet", "fw4", "ft")?.hwOffload).toBe(false);
    expect((await refusing.run("fw4", "-q", "print")).stderr).toBe("");

    const capable = router(config(OFFLOAD + HW), { hwOffload: () => true });
    expect(await capable.run("fw4", "start")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(capable.r.kernel.nft.flowtable("inet", "fw4", "ft")?.hwOffload).toBe(true);
    expect((await capable.run("nft", "list", "flowtable", "inet", "fw4", "ft")).stdout).toContain("\t\tflags offload\n");
    // Switching back to software needs fw4's delete line: flags cannot change in place.
    capable.r.fs.writeAtomic("/etc/config/firewall", config(OFFLOAD));
    expect(await capable.run("fw4", "reload")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(capable.r.kernel.nft.flowtable("inet", "fw4", "ft")?.hwOffload).toBe(false);
  });

  it("fails the next reload once when the fault is set, keeping the old ruleset", async () => {
    const { r, run, ruleset } = router(config(OFFLOAD));
    await run("fw4", "start");
    const before = await ruleset();
    r.faults.failNextFirewallReload = true;
    expect(await run("fw4", "reload")).toEqual({
      code: 0,
      stdout: "",
      stderr: "/dev/stdin:2:18-20: Error: Could not process rule: Device or resource busy\nflush table inet fw4\n                 ^^^\n",
    });
    expect(r.faults.failNextFirewallReload).toBe(false);
    expect(await ruleset()).toBe(before);
    expect(await run("fw4", "reload")).toEqual({ code: 0, stdout: "", stderr: "" });

    r.faults.failNextFirewallReload = true;
    const restart = await run("fw4", "restart");
    expect(restart.code).toBe(1);
    expect(restart.stderr).toMatch(/Device or resource busy\n[^]*The rendered ruleset contains errors, not doing firewall restart\.\n$/);
    expect(r.kernel.nft.table("inet", "fw4")).toBeDefined();
  });

  it("renders staged uci changes", async () => {
    const { r, run } = router();
    r.fs.writeAtomic("/tmp/.uci/firewall", "firewall.cfg01e63d.flow_offloading='1'\n");
    expect((await run("fw4", "print")).stdout).toContain('\t\tdevices = { "eth0", "eth1" };\n\t\tcounter;\n');
  });

  it("answers zone lookups from its state and prints usage for anything else", async () => {
    const { run } = router();
    expect((await run("fw4", "network", "wan")).stderr).toBe("Unable to read firewall state - do you need to start the firewall?\n");
    await run("fw4", "start");
    expect(await run("fw4", "network", "wan6")).toEqual({ code: 0, stdout: "wan\n", stderr: "" });
    expect(await run("fw4", "device", "br-lan")).toEqual({ code: 0, stdout: "lan\n", stderr: "" });
    // main.uc lists every match rule's devices: wan and wan6 both bring eth1.
    expect(await run("fw4", "zone", "wan")).toEqual({ code: 0, stdout: "eth1\neth1\n", stderr: "" });
    expect((await run("fw4", "zone", "guest")).code).toBe(1);
    const usage = await run("fw4");
    expect(usage.code).toBe(0);
    expect(usage.stdout).toMatch(/^Usage:\n\n {2}fw4 \[-v\] \[-q\] start\|stop\|flush\|restart\|reload\n/);
  });

  it("warns about unknown options as fw4 does", async () => {
    const { run } = router(config("\toption foo\tbar\n"));
    expect((await run("fw4", "print")).stderr).toBe("[!] Section @defaults[0] specifies unknown option 'foo'\n");
  });
});

describe("fw4 flavors choose flowtable devices differently", () => {
  const dsa: DeviceSpec[] = [
    { name: "eth0", devtype: "ethernet", macaddr: "02:00:00:00:00:01", hwTcOffload: true },
    { name: "lan1", devtype: "dsa", macaddr: "02:00:00:00:00:02", lower: ["eth0"], hwTcOffload: true },
    { name: "lan2", devtype: "dsa", macaddr: "02:00:00:00:00:03", lower: ["eth0"], hwTcOffload: false },
    { name: "wan", devtype: "dsa", macaddr: "02:00:00:00:00:04", lower: ["eth0"], hwTcOffload: true },
    { name: "br-lan", devtype: "bridge", macaddr: "02:00:00:00:00:02", lower: ["lan1", "lan2"], hwTcOffload: false },
  ];
  const interfaces = [
    { interface: "lan", up: true, proto: "static", device: "br-lan", l3_device: "br-lan", ipv4: [{ address: "192.168.1.1", mask: 24 }], ipv6: [], ipv6PrefixAssignment: [] },
    { interface: "wan", up: true, proto: "dhcp", device: "wan", l3_device: "wan", ipv4: [], ipv6: [], ipv6PrefixAssignment: [] },
  ];
  const flowtable = async (flavor: "2203" | "2305" | "master", defaults: string) => {
    const { run } = router(config(defaults), { fw4Flavor: flavor, devices: dsa, interfaces, hwOffload: () => true });
    const out = (await run("fw4", "print")).stdout;
    return /\tflowtable ft \{\n([\s\S]*?)\t\}/.exec(out)?.[1];
  };

  it("22.03: lower devices, no counter; hardware only where hw-tc-offload is on", async () => {
    expect(await flowtable("2203", OFFLOAD)).toBe('\t\thook ingress priority 0;\n\t\tdevices = { "lan1", "lan2", "wan" };\n');
    expect(await flowtable("2203", OFFLOAD + HW)).toBe('\t\thook ingress priority 0;\n\t\tdevices = { "lan1", "wan" };\n\t\tflags offload;\n');
  });

  it("23.05: lower devices with counter; all lower devices for hardware", async () => {
    expect(await flowtable("2305", OFFLOAD)).toBe('\t\thook ingress priority 0;\n\t\tdevices = { "lan1", "lan2", "wan" };\n\t\tcounter;\n');
    expect(await flowtable("2305", OFFLOAD + HW)).toBe('\t\thook ingress priority 0;\n\t\tdevices = { "lan1", "lan2", "wan" };\n\t\tcounter;\n\t\tflags offload;\n');
  });

  it("master: zone devices for software, all lower devices for hardware", async () => {
    expect(await flowtable("master", OFFLOAD)).toBe('\t\thook ingress priority 0;\n\t\tdevices = { "br-lan", "wan" };\n\t\tcounter;\n');
    expect(await flowtable("master", OFFLOAD + HW)).toBe('\t\thook ingress priority 0;\n\t\tdevices = { "lan1", "lan2", "wan" };\n\t\tcounter;\n\t\tflags offload;\n');
  });
});

describe("fw4 renders rules beyond the stock config", () => {
  it("renders zones, forwardings and port rules that nft accepts", async () => {
    const extra = `
config zone
	option name		guest
	list   network		'guest'
	option input		REJECT
	option output		ACCEPT
	option forward		REJECT

config forwarding
	option src		guest
	option dest		wan

config rule
	option name		Allow-SSH
	option src		wan
	option dest_port	22
	option target		ACCEPT

config rule
	option name		Block-Host
	option src		lan
	option dest		wan
	option dest_ip		198.51.100.7
	option proto		all
	option target		REJECT
`;
    const guestIf = { interface: "guest", up: true, proto: "static", device: "br-guest", l3_device: "br-guest", ipv4: [{ address: "192.168.2.1", mask: 24 }], ipv6: [], ipv6PrefixAssignment: [] };
    const devices: DeviceSpec[] = [
      { name: "eth0", devtype: "ethernet", macaddr: "02:00:00:00:00:01", hwTcOffload: false },
      { name: "eth1", devtype: "ethernet", macaddr: "02:00:00:00:00:02", hwTcOffload: false },
      { name: "eth2", devtype: "ethernet", macaddr: "02:00:00:00:00:03", hwTcOffload: false },
      { name: "br-lan", devtype: "bridge", macaddr: "02:00:00:00:00:01", lower: ["eth0"], hwTcOffload: false },
      { name: "br-guest", devtype: "bridge", macaddr: "02:00:00:00:00:03", lower: ["eth2"], hwTcOffload: false },
    ];
    const { run } = router(config(OFFLOAD, extra), { devices, interfaces: [...LAB_INTERFACES, guestIf] });
    const out = (await run("fw4", "print")).stdout;
    expect(out).toContain('\t\tdevices = { "eth0", "eth1", "eth2" };\n');
    expect(out).toContain('\tdefine guest_devices = { "br-guest" }\n\tdefine guest_subnets = { 192.168.2.0/24 }\n');
    expect(out).toContain('\t\ttcp dport 22 counter accept comment "!fw4: Allow-SSH"\n\t\tudp dport 22 counter accept comment "!fw4: Allow-SSH"\n');
    expect(out).toContain('\t\tip daddr 198.51.100.7 counter jump reject_to_wan comment "!fw4: Block-Host"\n');
    expect(out).toContain('\tchain forward_guest {\n\t\tjump accept_to_wan comment "!fw4: Accept guest to wan forwarding"\n\t\tjump reject_to_guest\n\t}\n');
    expect(await run("fw4", "check")).toEqual({ code: 0, stdout: "Ruleset passes nftables check.\n", stderr: "" });
  });
});

describe("/etc/init.d/firewall", () => {
  it("maps rc.common actions to the firewall, quietly at boot", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "initd-"));
    try {
      fs.writeFileSync(path.join(dir, "rc.common"), RC_COMMON);
      fs.writeFileSync(path.join(dir, "firewall"), FIREWALL_INIT_SCRIPT);
      // The host has no /sbin/fw4, so the script picks fw3: the fake records what it was asked.
      fs.writeFileSync(path.join(dir, "fw3"), '#!/bin/sh\necho "fw3 $*"\n', { mode: 0o755 });
      const run = (action: string) =>
        execFileSync("sh", [path.join(dir, "rc.common"), path.join(dir, "firewall"), action], { env: { PATH: `${dir}:/usr/bin:/bin` } }).toString();
      expect(run("boot")).toBe("fw3 -q start\n");
      expect(run("start")).toBe("fw3 start\n");
      expect(run("stop")).toBe("fw3 flush\n");
      expect(run("reload")).toBe("fw3 reload\n");
      expect(run("restart")).toBe("fw3 restart\n");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(FIREWALL_INIT_SCRIPT).toMatch(/^#!\/bin\/sh \/etc\/rc\.common\n\nSTART=19\n/);
  });
});
