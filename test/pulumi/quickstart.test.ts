import { run } from "../helpers/sim-client";
import { node24BinDir, routerConfig, uciGet } from "./harness";
import { exampleSuites } from "./lifecycle";

/**
 * examples/quickstart through the real Pulumi CLI against a simulated mt7621 router: its Pulumi.yaml on the Node.js 24
 * LTS (the language host, ts-node, the program and the dynamic-provider plugin all run on it), and the same program
 * through the Automation API on this Node.js.
 */
exampleSuites({
  example: "quickstart",
  projectName: "openwrt-offload-quickstart",
  profiles: ["mt7621-23.05"],
  config: (box) => routerConfig(box.routers[0]),
  resources: 4,
  nodeBinDir: node24BinDir,
  async checkUp(box, outputs) {
    const [sim] = box.routers;
    expect(await uciGet(sim, "firewall.@defaults[0].flow_offloading")).toBe("1");
    expect(await uciGet(sim, "firewall.@defaults[0].flow_offloading_hw")).toBe("1");
    expect((await run(sim, "nft list flowtable inet fw4 ft")).stdout).toMatch(/flags offload/);
    expect(outputs).toMatchObject({ target: "ramips/mt7621", release: "23.05.4", hwOffloadCapable: true, runningMode: "hardware", drift: [] });
  },
  async handEdit(box) {
    await run(box.routers[0], "uci delete firewall.@defaults[0].flow_offloading_hw; uci commit firewall; fw4 reload");
  },
  drift: { resource: "edge-1-offload", class: "local-edit" },
});
