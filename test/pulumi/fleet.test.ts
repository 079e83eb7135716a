import * as path from "path";
import { run } from "../helpers/sim-client";
import { expectAsBefore, exampleSuites, states, type ExampleSpec } from "./lifecycle";
import { uciGet, writeInventory } from "./harness";

/**
 * examples/fleet through the real Pulumi CLI against three simulated routers of different profiles (hardware offload,
 * x86 without a flow engine, fw3): a canary, then a wave of two. The Pulumi.yaml variant also rolls the fleet out
 * again with `up --parallel 1`, which must end in the same router state and outputs as the default parallelism.
 */
const PROFILES = ["mt7621-23.05", "x86-64-23.05", "ath79-21.02"];

const fleetSpec: ExampleSpec = {
  example: "fleet",
  projectName: "openwrt-offload-fleet",
  profiles: PROFILES,
  config: (box) => ({
    plain: {
      inventory: writeInventory(path.join(box.dir, "inventory"), box.routers),
      waveSize: "2",
      failureBudget: "0",
      soakSeconds: "0",
      confirmTimeoutSeconds: "30",
    },
  }),
  // The stack, the OffloadFleet, a Router, OffloadPackages and FirewallDefaults per router, two wave gates and the verdict.
  resources: 2 + 3 * PROFILES.length + 2 + 1,
  async checkUp(box, outputs) {
    const rows = (outputs.summary as { name: string; wave: number; modeRequested: string; modeRunning: string; guard: string; drift: string[] }[]).map(
      (r) => [r.name, r.wave, r.modeRequested, r.modeRunning, r.guard, r.drift],
    );
    expect(rows).toEqual([
      ["r1-mt7621-23.05", 1, "hardware", "hardware", "confirmed", []],
      ["r2-x86-64-23.05", 2, "software", "software", "confirmed", []],
      ["r3-ath79-21.02", 2, "software", "software", "confirmed", []],
    ]);
    const [mt7621, x86, ath79] = box.routers;
    expect(await uciGet(mt7621, "firewall.@defaults[0].flow_offloading_hw")).toBe("1");
    expect((await run(mt7621, "nft list flowtable inet fw4 ft")).stdout).toMatch(/flags offload/);
    expect(await uciGet(x86, "firewall.@defaults[0].flow_offloading")).toBe("1");
    expect((await run(x86, "nft list flowtable inet fw4 ft")).stdout).not.toMatch(/flags offload/);
    expect((await run(ath79, "iptables -S FORWARD")).stdout).toMatch(/-j FLOWOFFLOAD(?! --hw)/);
  },
  async handEdit(box) {
    await run(box.routers[0], "uci delete firewall.@defaults[0].flow_offloading_hw; uci commit firewall; fw4 reload");
  },
  // The default package list (kmod-nft-offload) goes onto the fw3 router too, and stays after destroy.
  packagesLeftInstalled: { 2: ["kmod-nfnetlink", "kmod-nft-core", "kmod-nft-nat", "kmod-nft-offload"] },
  drift: { resource: "edge-r1-mt7621-23.05-offload", class: "local-edit" },
  async extraCli({ stack, before, afterUp, outputsAfterUp }) {
    const serial = await stack.ok(["up", "--yes", "--skip-preview", "--parallel", "1"]);
    expect(serial).toMatch(/\+ 14 created/);
    expect(await states(stack.box)).toEqual(afterUp);
    expect(await stack.outputs()).toEqual(outputsAfterUp);
    await stack.ok(["destroy", "--yes", "--skip-preview"]);
    await expectAsBefore(fleetSpec, stack.box, before);
  },
};

exampleSuites(fleetSpec);
