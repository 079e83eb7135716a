import * as fs from "fs";
import { fw4Tool, renderFw4 } from "../../../sim/tools/fw4";
import { nftTool } from "../../../sim/tools/nft";
import { parseConfig } from "../../../sim/tools/uci";
import { LAB_DEVICES, LAB_INTERFACES, RENDERS, STOCK_FIREWALL, fakeRouter, readRender, runTool } from "./helpers";

/** The stock config with options added to its defaults section. */
function withDefaults(...options: string[]): string {
  return STOCK_FIREWALL.replace("config defaults\n", `config defaults\n${options.map((o) => `\toption ${o}\n`).join("")}`);
}

/** The devices-only variant: zones name their devices instead of networks. */
function devicesOnly(): string {
  return withDefaults("flow_offloading\t1")
    .replace("\tlist   network\t\t'lan'\n", "\tlist   device\t\t'br-lan'\n")
    .replace("\tlist   network\t\t'wan'\n\tlist   network\t\t'wan6'\n", "\tlist   device\t\t'eth1'\n");
}

const VARIANTS: Record<string, { config: string; probeOk: boolean }> = {
  offload0: { config: STOCK_FIREWALL, probeOk: false },
  offload1: { config: withDefaults("flow_offloading\t1"), probeOk: false },
  "offload1-hw1": { config: withDefaults("flow_offloading\t1", "flow_offloading_hw\t1"), probeOk: false },
  "offload1-devices-only": { config: devicesOnly(), probeOk: false },
  "hwprobe-ok-offload1-hw1": { config: withDefaults("flow_offloading\t1", "flow_offloading_hw\t1"), probeOk: true },
};

const renderFiles = fs.readdirSync(RENDERS).filter((f) => f.endsWith(".nft"));

function variantOf(file: string): { flavor: "2305" | "master"; variant: string } {
  const m = /^(SIMULATED-hwprobe-ok-)?fw4-(2305|master)-(.+)\.nft$/.exec(file)!;
  return { flavor: m[2] as "2305" | "master", variant: m[1] ? `hwprobe-ok-${m[3]}` : m[3] };
}

const expected = (file: string) => ({
  code: Number(readRender(`${file}.rc`).trim()),
  stdout: readRender(file),
  stderr: fs.existsSync(`${RENDERS}/${file}.stderr`) ? readRender(`${file}.stderr`) : "",
});

describe("fw4 print equals the real firewall4 renders byte for byte", () => {
  it("covers every render in the reference directory", () => {
    expect(renderFiles.length).toBe(10);
    for (const f of renderFiles) expect(VARIANTS[variantOf(f).variant]).toBeDefined();
  });

  it.each(renderFiles)("%s", async (file) => {
    const { flavor, variant } = variantOf(file);
    const { config, probeOk } = VARIANTS[variant];
    const router = fakeRouter({ fw4Flavor: flavor, hwOffload: () => probeOk });
    router.fs.writeAtomic("/etc/config/firewall", config);
    expect(await runTool(router, { fw4: fw4Tool, nft: nftTool }, ["fw4", "print"])).toEqual(expected(file));
  });

  it.each(renderFiles)("renderFw4 alone reproduces %s", (file) => {
    const { flavor, variant } = variantOf(file);
    const { config, probeOk } = VARIANTS[variant];
    const out = renderFw4({
      flavor,
      config: parseConfig(config, "firewall"),
      interfaces: LAB_INTERFACES,
      devices: LAB_DEVICES,
      hwTcOffload: () => false,
      flowtableLoaded: false,
      hwOffloadProbe: () => probeOk,
      autoIncludes: [],
    });
    const want = expected(file);
    expect(out.ruleset).toBe(want.stdout);
    expect(out.warnings.map((w) => `[!] ${w}\n`).join("")).toBe(want.stderr);
  });
});
