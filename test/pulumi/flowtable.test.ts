import { run } from "../helpers/sim-client";
import { routerConfig } from "./harness";
import { exampleSuites } from "./lifecycle";

/**
 * examples/flowtable through the real Pulumi CLI against a simulated mt7621 router: a flowtable of its own (include
 * files under /etc/nftables.d and fw4's chain-pre/forward, rebuilt by every fw4 reload) with fw4's offloading off.
 */
const FILE = "/etc/nftables.d/60-offload-lanwan.nft";

exampleSuites({
  example: "flowtable",
  projectName: "openwrt-offload-flowtable",
  profiles: ["mt7621-23.05"],
  config: (box) => routerConfig(box.routers[0]),
  resources: 4,
  async checkUp(box, outputs) {
    const [sim] = box.routers;
    const flowtable = await run(sim, "nft list flowtable inet fw4 lanwan");
    expect(flowtable.code).toBe(0);
    expect(flowtable.stdout).toMatch(/devices = \{ lan1, wan \}/);
    expect(flowtable.stdout).not.toMatch(/flags offload/);
    expect((await run(sim, "nft list chain inet fw4 forward")).stdout).toMatch(/oifname "wan" .*flow (add|offload) @lanwan/);
    expect((await run(sim, "nft list flowtable inet fw4 ft")).code).not.toBe(0);
    expect((await run(sim, `cat ${FILE}`)).stdout).toMatch(/^flowtable lanwan \{/m);
    expect(outputs).toMatchObject({ live: { name: "lanwan", devices: ["lan1", "wan"], hwOffload: false, counter: true, forwardRule: true } });
  },
  async handEdit(box) {
    // Someone tidies the include file's comment: the kernel runs the same, the files are not what was written.
    await run(box.routers[0], `sed -i '1s/.*/# tidied by hand/' ${FILE}; fw4 reload`);
  },
  drift: { resource: "edge-1-ft", class: "local-edit" },
});
