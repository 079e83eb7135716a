import * as fs from "fs";
import * as path from "path";
import { Client } from "ssh2";
import { startSimulatedRouter, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { connect, exec, ExecResult } from "../helpers/sim-client";

/**
 * The simulator against real OpenWrt outputs, driven over SSH with a real client. `x86-64-23.05` is
 * the twin of the lab router behind test/fixtures/fw4-renders (stock config, br-lan over eth0, wan on
 * eth1), so fw4 must print exactly what firewall4 23.05.4 printed there.
 */
const RENDERS = path.join(__dirname, "../fixtures/fw4-renders");
const render = (name: string) => ({
  stdout: fs.readFileSync(path.join(RENDERS, `${name}.nft`), "utf8"),
  code: Number(fs.readFileSync(path.join(RENDERS, `${name}.nft.rc`), "utf8").trim()),
  stderr: fs.existsSync(path.join(RENDERS, `${name}.nft.stderr`)) ? fs.readFileSync(path.join(RENDERS, `${name}.nft.stderr`), "utf8") : "",
});

let router: SimulatedRouter;
let client: Client;
const sh = (command: string, stdin?: string): Promise<ExecResult> => exec(client, command, stdin);

beforeAll(async () => {
  router = await startSimulatedRouter({ profile: "x86-64-23.05" });
  client = await connect(router);
});
afterAll(async () => {
  client.end();
  await router.stop();
});
afterEach(async () => {
  await sh("uci revert firewall");
});

describe("fw4 print equals firewall4 23.05.4's real output", () => {
  test.each([
    ["fw4-2305-offload0", ""],
    ["fw4-2305-offload1", "set firewall.@defaults[0].flow_offloading=1\n"],
    ["fw4-2305-offload1-hw1", "set firewall.@defaults[0].flow_offloading=1\nset firewall.@defaults[0].flow_offloading_hw=1\n"],
    [
      "fw4-2305-offload1-devices-only",
      [
        "set firewall.@defaults[0].flow_offloading=1",
        "delete firewall.@zone[0].network",
        "add_list firewall.@zone[0].device=br-lan",
        "delete firewall.@zone[1].network",
        "add_list firewall.@zone[1].device=eth1",
        "",
      ].join("\n"),
    ],
  ])("%s (staged changes are rendered too)", async (name, batch) => {
    if (batch) expect((await sh("uci batch", batch)).code).toBe(0);
    const printed = await sh("fw4 print");
    expect(printed).toEqual(render(name));
  });
});

describe("uci over SSH, as §1 and §10 of the reference show it", () => {
  test("anonymous names of the stock config and of added sections", async () => {
    expect((await sh("uci -X show firewall | grep -E '=(defaults|zone|forwarding)$'")).stdout).toBe(
      "firewall.cfg01e63d=defaults\nfirewall.cfg02dc81=zone\nfirewall.cfg03dc81=zone\nfirewall.cfg04ad58=forwarding\n",
    );
    expect((await sh("uci add firewall rule; uci add firewall rule")).stdout).toBe("cfg0e92bd\ncfg0f92bd\n");
  });

  test("show formats: @type[i] for a package, the real name for one section, lists, quotes", async () => {
    await sh("uci batch", "set firewall.@rule[0].name='it'\\''s quoted'\n");
    const whole = await sh("uci show firewall");
    expect(whole.stdout).toContain("firewall.@defaults[0]=defaults\nfirewall.@defaults[0].syn_flood='1'\n");
    expect(whole.stdout).toContain("firewall.@zone[1].network='wan' 'wan6'\n");
    expect(whole.stdout).toContain("firewall.@rule[0].name='it'\\''s quoted'\n");
    expect((await sh("uci show firewall.@defaults[0]")).stdout).toBe(
      "firewall.cfg01e63d=defaults\nfirewall.cfg01e63d.syn_flood='1'\nfirewall.cfg01e63d.input='REJECT'\n" +
        "firewall.cfg01e63d.output='ACCEPT'\nfirewall.cfg01e63d.forward='REJECT'\n",
    );
    expect((await sh("uci get firewall.@zone[1].network; uci -d, get firewall.@zone[1].network")).stdout).toBe("wan wan6\nwan,wan6\n");
  });

  test("changes list staged deltas with real section names", async () => {
    await sh("uci set firewall.@defaults[0].flow_offloading=1; uci add_list firewall.@zone[1].network=wan7; uci del_list firewall.@zone[1].network=wan6");
    expect((await sh("uci changes firewall")).stdout).toBe(
      "firewall.cfg01e63d.flow_offloading='1'\nfirewall.cfg03dc81.network+='wan7'\nfirewall.cfg03dc81.network-='wan6'\n",
    );
    expect((await sh("cat /tmp/.uci/firewall")).stdout).toBe(
      "firewall.cfg01e63d.flow_offloading='1'\n|firewall.cfg03dc81.network='wan7'\n~firewall.cfg03dc81.network='wan6'\n",
    );
  });

  test("batch reports failures on stderr and always exits 0", async () => {
    const result = await sh(
      "uci batch",
      [
        `set firewall.@defaults[0].flow_offloading_hw="1"`,
        "set firewall.nosuch.x=1",
        "bogus command here",
        "add firewall rule",
        `set firewall.@rule[-1].name='It'\\''s a "test"'`,
        "set firewall.@rule[-1].a b c d e",
        "delete firewall.@defaults[0].nothere",
        "",
      ].join("\n"),
    );
    expect(result).toEqual({
      code: 0,
      stdout: "cfg0e92bd\n",
      stderr: "uci: Invalid argument\nUnknown command\nToo many arguments\nuci: Entry not found\n",
    });
    expect((await sh("uci get firewall.@rule[-1].name")).stdout).toBe(`It's a "test"\n`);
  });

  test.each([
    ["uci get firewall.nosuch", "uci: Entry not found\n", 1],
    ["uci set firewall.nosuch.x=1", "uci: Invalid argument\n", 1],
    ["uci delete firewall.@defaults[0].nothere", "uci: Entry not found\n", 1],
    ["uci get firewall.a.b.c", "uci: Parse error\n", 1],
    ["uci -q get firewall.nosuch", "", 1],
  ])("%s → %j, exit %d", async (command, stderr, code) => {
    const result = await sh(command);
    expect({ stderr: result.stderr, code: result.code }).toEqual({ stderr, code });
  });

  test("usage errors exit 255 with the usage text", async () => {
    const result = await sh("uci get");
    expect(result.code).toBe(255);
    expect(result.stderr).toMatch(/^Usage: uci \[<options>\] <command> \[<arguments>\]/);
  });

  test("export: package line, unnamed sections, tab-indented options, trailing blank line", async () => {
    const out = (await sh("uci export firewall")).stdout;
    expect(out.startsWith("package firewall\n\nconfig defaults\n\toption syn_flood '1'\n\toption input 'REJECT'\n")).toBe(true);
    expect(out).toContain("config zone\n\toption name 'wan'\n\tlist network 'wan'\n\tlist network 'wan6'\n");
    expect(out.endsWith("\n\n")).toBe(true);
  });
});

describe("nft: what the kernel lists after fw4 loads offloading", () => {
  beforeAll(async () => {
    await sh("uci set firewall.@defaults[0].flow_offloading=1; uci commit firewall; fw4 reload");
  });
  afterAll(async () => {
    await sh("uci delete firewall.@defaults[0].flow_offloading; uci commit firewall; fw4 reload");
  });

  test("text shows priority symbolically, devices unquoted, `flow add @ft`", async () => {
    expect((await sh("nft list flowtables")).stdout).toBe(
      "table inet fw4 {\n\tflowtable ft {\n\t\thook ingress priority filter\n\t\tdevices = { eth0, eth1 }\n\t\tcounter\n\t}\n}\n",
    );
    const forward = (await sh("nft list chain inet fw4 forward")).stdout;
    expect(forward).toContain("\t\tmeta l4proto { tcp, udp } flow add @ft\n");
    expect(forward).not.toContain("flow offload");
  });

  test("JSON: dev is an array for several devices and a string for one, no flags or counter", async () => {
    await sh("nft add table inet t; nft 'add flowtable inet t one { hook ingress priority 0; devices = { eth1 }; }'");
    const doc = JSON.parse((await sh("nft -j list flowtables")).stdout);
    const flowtables = doc.nftables.filter((e: Record<string, unknown>) => e.flowtable).map((e: { flowtable: unknown }) => e.flowtable);
    expect(doc.nftables[0].metainfo.json_schema_version).toBe(1);
    expect(flowtables).toEqual([
      { family: "inet", name: "ft", table: "fw4", handle: expect.any(Number), hook: "ingress", prio: 0, dev: ["eth0", "eth1"] },
      { family: "inet", name: "one", table: "t", handle: expect.any(Number), hook: "ingress", prio: 0, dev: "eth1" },
    ]);
    await sh("nft delete table inet t");
  });

  test("a missing flowtable is an error with a caret line, exit 1", async () => {
    const result = await sh("nft list flowtable inet fw4 nosuch");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^Error: No such file or directory\nlist flowtable inet fw4 nosuch\n\s+\^+\n$/);
  });
});

describe("board facts", () => {
  test("ubus network.interface dump has netifd's exact format", async () => {
    const lab = fs.readFileSync(path.join(RENDERS, "ubus-for-fw4.txt"), "utf8");
    const expected = lab.split("$ ubus call network.interface dump\n[stdout]\n")[1].split("[exit 0]")[0];
    const dump = (await sh("ubus call network.interface dump")).stdout;
    const normalize = (s: string) => s.replace(/"uptime": \d+/g, '"uptime": N').replace(/203\.0\.113\.\d+/g, "203.0.113.X");
    expect(normalize(dump)).toBe(normalize(expected));
  });

  test("/etc/openwrt_release and ubus system board agree", async () => {
    const release = (await sh(". /etc/openwrt_release; echo $DISTRIB_RELEASE $DISTRIB_TARGET")).stdout.trim();
    const board = JSON.parse((await sh("ubus call system board")).stdout);
    expect(release).toBe(`${board.release.version} ${board.release.target}`);
    expect(board.kernel).toBe(router.profile.kernel);
  });
});
