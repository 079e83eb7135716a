import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as openwrt from "pulumi-openwrt-offload";
import { pulumiCliAvailability } from "../../tools/pulumi/index.cjs";
import { describeIf } from "../helpers/requirements";
import { run } from "../helpers/sim-client";
import { CliStack, configuredRouter, EXAMPLES, inlineStack, routerConfig, routerState, sandboxTest, stateResource, stepCollector, uciGet, type StackExport } from "./harness";

/**
 * Taking over what a router already has, through the real CLI.
 *
 * `FirewallDefaults.get(name, id, args)` works: the engine sends Read with the program's arguments as inputs, the
 * dynamic-provider plugin falls back to them, and our read adopts what the router holds. Like every `.get()` in
 * Pulumi, the resource is then *external*: read on every up (a change on the router shows in its outputs), never
 * updated and never deleted (destroy leaves the router alone).
 *
 * `pulumi import` (and the `import` resource option) do not work for dynamic resources: the engine's ImportStep sends
 * Read with no properties and no inputs, so the plugin has no serialized provider to load and fails in
 * @pulumi/pulumi's code, before any of ours runs, with "code must be a string, not undefined". Nothing is imported and
 * the router is not contacted. README.md says so and points to `.get()`.
 */
const IMPORT_ERROR = "code must be a string, not undefined";

describeIf(pulumiCliAvailability(), "adopting a router's config through the real Pulumi CLI", () => {
  sandboxTest(
    "FirewallDefaults.get reads what the router holds, follows it, and never writes it",
    { profiles: ["mt7621-23.05"] },
    async (box) => {
      const [sim] = box.routers;
      // Someone configured offloading by hand (LuCI).
      await run(sim, "uci set firewall.@defaults[0].flow_offloading=1; uci set firewall.@defaults[0].flow_offloading_hw=1; uci commit firewall; fw4 reload");
      const handMade = await routerState(sim);
      const id = `root@${sim.host}:${sim.port}/firewall/defaults`;
      const program = async () => {
        const edge = configuredRouter();
        const offload = openwrt.FirewallDefaults.get("edge-1-offload", id, { router: edge, flowOffloading: new pulumi.Config().requireBoolean("wanted") });
        return { mode: offload.runtime.mode, declared: offload.declared, original: offload.original, drift: offload.drift };
      };
      const stack = await inlineStack(box, {
        projectName: "adoption",
        stackName: "get",
        program,
        main: path.join(EXAMPLES, "quickstart"),
        config: routerConfig(sim, { wanted: "true" }),
      });

      const steps = stepCollector();
      const up = await stack.up({ onEvent: steps.onEvent });
      // The stack and the Router are created; the FirewallDefaults is read (the summary does not count reads).
      expect(up.summary.resourceChanges).toEqual({ create: 2 });
      expect(steps.byName("edge-1-offload")?.op).toBe("read");
      expect(up.outputs.mode.value).toBe("hardware");
      expect(up.outputs.declared.value).toEqual({ flowOffloading: true, flowOffloadingHw: true });
      expect(up.outputs.original.value).toEqual({ flow_offloading: "1", flow_offloading_hw: "1" });
      expect(up.outputs.drift.value).toEqual([]);
      const exp = (await stack.exportStack()) as unknown as StackExport;
      expect(stateResource(exp, "edge-1-offload")).toMatchObject({ id, external: true });
      expect(await routerState(sim)).toEqual(handMade);

      // Read again on every up: a later hand edit shows, and nothing is written back.
      await run(sim, "uci delete firewall.@defaults[0].flow_offloading_hw; uci commit firewall; fw4 reload");
      const edited = await routerState(sim);
      const again = await stack.up();
      expect(again.outputs.mode.value).toBe("software");
      expect(await routerState(sim)).toEqual(edited);

      // Asking for something else changes nothing either: a .get() resource is read-only.
      await stack.setConfig("wanted", { value: "false" });
      await stack.up();
      expect(await uciGet(sim, "firewall.@defaults[0].flow_offloading")).toBe("1");

      const destroy = await stack.destroy();
      expect(destroy.summary.resourceChanges).toMatchObject({ delete: 2 });
      expect(await routerState(sim)).toEqual(edited);
    },
  );

  sandboxTest(
    "pulumi import of a dynamic resource fails in Pulumi's plugin with its own message; nothing is imported, the router is not contacted",
    { profiles: ["mt7621-23.05"] },
    async (box) => {
      const [sim] = box.routers;
      const stack = await CliStack.init(box, "quickstart", "sim", routerConfig(sim));
      await stack.ok(["up", "--yes", "--skip-preview"]);
      const state = await stack.exportState();
      const connections = sim.stats.connections;
      const id = `root@${sim.host}:${sim.port}/firewall/defaults`;

      for (const type of ["pulumi-nodejs:dynamic/openwrt:FirewallDefaults", "pulumi-nodejs:dynamic:Resource"]) {
        const r = await stack.run(["import", type, "adopted", id, "--yes"]);
        expect(r.code).toBe(1);
        expect(r.output).toContain(`error: Preview failed: ${IMPORT_ERROR}`);
        expect(r.output).toMatch(/at getProvider \(.*@pulumi\/cmd\/dynamic-provider\/index\.ts/);
      }
      expect((await stack.exportState()).deployment.resources).toEqual(state.deployment.resources);
      expect(sim.stats.connections).toBe(connections);
    },
  );

  sandboxTest(
    "the import resource option fails the same way at preview",
    { profiles: ["mt7621-23.05"] },
    async (box) => {
      const [sim] = box.routers;
      const id = `root@${sim.host}:${sim.port}/firewall/defaults`;
      const program = async () => {
        const edge = configuredRouter();
        new openwrt.FirewallDefaults("edge-1-offload", { router: edge, flowOffloading: true }, { import: id });
      };
      const stack = await inlineStack(box, { projectName: "adoption", stackName: "import", program, main: path.join(EXAMPLES, "quickstart"), config: routerConfig(sim) });
      const before = await routerState(sim);
      const failed = await stack.preview().then(
        () => undefined,
        (err: Error) => err,
      );
      expect(failed?.message).toContain(IMPORT_ERROR);
      expect(await routerState(sim)).toEqual(before);
    },
  );
});
