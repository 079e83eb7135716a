import * as openwrt from "pulumi-openwrt-offload";
import type { SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { pulumiCliAvailability } from "../../tools/pulumi/index.cjs";
import { describeIf } from "../helpers/requirements";
import { run } from "../helpers/sim-client";
import {
  CliStack,
  configuredRouter,
  EXAMPLES,
  inlineStack,
  routerConfig,
  routerState,
  Sandbox,
  sandboxTest,
  stateResource,
  STEP_TIMEOUT,
  uciGet,
  type StackExport,
} from "./harness";
import * as path from "path";

/**
 * A failed `pulumi up` through the real CLI: what the engine keeps afterwards must be what the router holds.
 *
 * What the engine (v3.276) stores, read from pkg/resource/deploy/step.go and checked here: a create that fails stores
 * nothing for the resource (it is not in the state; the resources created before it are); an update that fails with a
 * plain error stores nothing new either (the resource keeps its old inputs and outputs; only an
 * ErrorResourceInitFailed, i.e. an error carrying `id` and `properties`, would make it store the new inputs and those
 * properties); a delete that fails leaves the resource in the state as it was (destroy stops there, and what was to
 * be deleted after it stays too); the stack's outputs are left as the last successful `up` registered them (the
 * program's registerOutputs never completes). So the state is truthful exactly when the router holds what the old outputs say:
 * after a refusal (nothing was written) or a guard restore (the old config is back), provided the old outputs were
 * current before the `up`.
 */
type Mode = "off" | "software" | "hardware";

interface Truth {
  flowOffloading: boolean;
  flowOffloadingHw: boolean;
  mode: Mode;
}

/** What the router holds: uci's committed options and what the kernel runs (fw4's flowtable `ft`). */
async function routerTruth(sim: SimulatedRouter): Promise<Truth> {
  const fo = (await uciGet(sim, "firewall.@defaults[0].flow_offloading")) === "1";
  const hw = (await uciGet(sim, "firewall.@defaults[0].flow_offloading_hw")) === "1";
  const ft = await run(sim, "nft list flowtable inet fw4 ft");
  const mode: Mode = ft.code !== 0 ? "off" : /flags offload/.test(ft.stdout) ? "hardware" : "software";
  return { flowOffloading: fo, flowOffloadingHw: fo && hw, mode };
}

/** What the state says of the FirewallDefaults `name`. */
function stateTruth(exp: StackExport, name: string): Truth | undefined {
  const o = stateResource(exp, name)?.outputs as { flowOffloading: boolean; flowOffloadingHw: boolean; runtime: { mode: Mode } } | undefined;
  return o && { flowOffloading: o.flowOffloading, flowOffloadingHw: o.flowOffloadingHw, mode: o.runtime.mode };
}

describeIf(pulumiCliAvailability(), "a failed pulumi up through the real Pulumi CLI", () => {
  sandboxTest(
    "refused (hardware offload on x86): a failed create stores nothing, a failed update keeps the outputs the router still matches",
    { profiles: ["x86-64-23.05"] },
    async (box) => {
      const [sim] = box.routers;
      const stack = await CliStack.init(box, "quickstart", "x86", routerConfig(sim, { hardware: "true" }));
      const before = await routerState(sim);

      const create = await stack.run(["up", "--yes", "--skip-preview"]);
      expect(create.code).toBe(1);
      expect(create.output).toMatch(/edge-1-offload[\s\S]*refusing to change anything: hardware offload was requested but target x86\/64 has no flow engine/);
      expect(await stack.outputs()).toEqual({});
      const afterCreate = await stack.exportState();
      expect(stateResource(afterCreate, "edge-1-offload")).toBeUndefined();
      expect(stateResource(afterCreate, "edge-1")?.outputs).toMatchObject({ target: "x86/64", hwOffloadCapable: false });
      expect(await routerState(sim)).toEqual(before);

      await stack.setConfig({ plain: { hardware: "false" } });
      await stack.ok(["up", "--yes", "--skip-preview"]);
      const outputs = await stack.outputs();
      expect(outputs).toMatchObject({ runningMode: "software" });
      const held = await routerState(sim);

      await stack.setConfig({ plain: { hardware: "true" } });
      const update = await stack.run(["up", "--yes", "--skip-preview"]);
      expect(update.code).toBe(1);
      expect(update.output).toMatch(/refusing to change anything: hardware offload was requested/);
      expect(await routerState(sim)).toEqual(held);
      // The engine kept the old outputs and the old inputs; both are what the router holds.
      expect(await stack.outputs()).toEqual(outputs);
      const exp = await stack.exportState();
      expect(stateTruth(exp, "edge-1-offload")).toEqual(await routerTruth(sim));
      expect(await routerTruth(sim)).toEqual({ flowOffloading: true, flowOffloadingHw: false, mode: "software" });
      expect(stateResource(exp, "edge-1-offload")?.inputs).toMatchObject({ flowOffloadingHw: false });
      expect(stateResource(exp, "edge-1-offload")?.outputs).toMatchObject({ lastApply: { status: "confirmed" } });
    },
  );

  sandboxTest(
    "restored by the guard (fw4 reload fails): a failed update or delete leaves router and state holding the previous config",
    { profiles: ["mt7621-23.05"] },
    async (box) => {
      const [sim] = box.routers;
      const stack = await CliStack.init(box, "quickstart", "sim", routerConfig(sim, { hardware: "false" }));
      const initial = await routerState(sim);
      await stack.ok(["up", "--yes", "--skip-preview"]);
      const outputs = await stack.outputs();
      expect(outputs).toMatchObject({ runningMode: "software" });
      const held = await routerState(sim);

      await stack.setConfig({ plain: { hardware: "true" } });
      sim.setFaults({ failNextFirewallReload: true });
      const update = await stack.run(["up", "--yes", "--skip-preview"]);
      expect(update.code).toBe(1);
      expect(update.output).toMatch(/edge-1-offload[\s\S]*restored[\s\S]*the router holds software offload again/);
      expect(update.output).toMatch(/transaction \d{8}T\d{6}\.\d{3}Z-[0-9a-f]+/);
      expect(await routerState(sim)).toEqual(held);
      expect(await stack.outputs()).toEqual(outputs);
      expect(stateTruth(await stack.exportState(), "edge-1-offload")).toEqual(await routerTruth(sim));

      // Without the fault the same up goes through.
      await stack.ok(["up", "--yes", "--skip-preview"]);
      expect(await routerTruth(sim)).toEqual({ flowOffloading: true, flowOffloadingHw: true, mode: "hardware" });
      expect(stateTruth(await stack.exportState(), "edge-1-offload")).toEqual(await routerTruth(sim));

      // A failed delete: destroy stops there, the resource stays in the state as the router still holds it.
      const applied = await routerState(sim);
      sim.setFaults({ failNextFirewallReload: true });
      const destroy = await stack.run(["destroy", "--yes", "--skip-preview"]);
      expect(destroy.code).toBe(1);
      expect(destroy.output).toMatch(/edge-1-offload[\s\S]*back to the original options[\s\S]*restored/);
      expect(await routerState(sim)).toEqual(applied);
      const kept = await stack.exportState();
      expect(stateTruth(kept, "edge-1-offload")).toEqual(await routerTruth(sim));
      // The Router, to be deleted after what depends on it, was never reached.
      expect(stateResource(kept, "edge-1")).toBeDefined();
      await stack.ok(["destroy", "--yes", "--skip-preview"]);
      expect(await routerState(sim)).toEqual(initial);
    },
  );

  sandboxTest(
    "restored by the guard (a health check fails) on create, through the Automation API: nothing is stored, the router is as it was",
    { profiles: ["mt7621-23.05"] },
    async (box) => {
      const [sim] = box.routers;
      const program = async () => {
        const edge = configuredRouter();
        const offload = new openwrt.FirewallDefaults("edge-1-offload", {
          router: edge,
          flowOffloading: true,
          flowOffloadingHw: true,
          healthChecks: [{ name: "the LAN host answers", command: "test -e /tmp/lan-host-up" }],
        });
        return { runningMode: offload.runtime.mode };
      };
      const stack = await inlineStack(box, {
        projectName: "failures",
        stackName: "health",
        program,
        main: path.join(EXAMPLES, "quickstart"),
        config: routerConfig(sim),
      });
      const before = await routerState(sim);

      const failed = await stack.up().then(
        () => undefined,
        (err: Error) => err,
      );
      expect(failed?.message).toMatch(/health check "the LAN host answers"[\s\S]*restored/);
      expect(await routerState(sim)).toEqual(before);
      expect(await stack.outputs()).toEqual({});
      const exp = (await stack.exportStack()) as unknown as StackExport;
      expect(stateResource(exp, "edge-1-offload")).toBeUndefined();

      await run(sim, "touch /tmp/lan-host-up");
      const up = await stack.up();
      expect(up.outputs.runningMode.value).toBe("hardware");
      expect(stateTruth((await stack.exportStack()) as unknown as StackExport, "edge-1-offload")).toEqual(await routerTruth(sim));
    },
  );

  // The engine keeps the old outputs after a failed update, but the router no longer holds what they say when it was
  // edited since the last refresh: the guard restores what the router had just before the change (here: offload off),
  // which the update read. Truthful state needs the provider to fail with an ErrorResourceInitFailed carrying the
  // outputs it read after the restore (pulumi's dynamic provider sends one when the thrown error has `id` and
  // `properties`); the stack outputs stay as the last successful up left them either way (the engine's behaviour).
  test.failing(
    "restored by the guard after a hand edit: the state says what the router holds (offload off), not the outputs of the last up",
    async () => {
      const box = await Sandbox.create({ profiles: ["mt7621-23.05"] });
      try {
        const [sim] = box.routers;
        const stack = await CliStack.init(box, "quickstart", "sim", routerConfig(sim, { hardware: "true" }));
        await stack.ok(["up", "--yes", "--skip-preview"]);
        await run(sim, "uci set firewall.@defaults[0].flow_offloading=0; uci commit firewall; fw4 reload");

        await stack.setConfig({ plain: { hardware: "false" } });
        sim.setFaults({ failNextFirewallReload: true });
        const update = await stack.run(["up", "--yes", "--skip-preview"]);
        expect(update.code).toBe(1);
        expect(update.output).toMatch(/restored/);
        expect(await routerTruth(sim)).toEqual({ flowOffloading: false, flowOffloadingHw: false, mode: "off" });
        expect(stateTruth(await stack.exportState(), "edge-1-offload")).toEqual(await routerTruth(sim));
      } finally {
        await box.cleanup();
      }
    },
    4 * STEP_TIMEOUT,
  );
});
