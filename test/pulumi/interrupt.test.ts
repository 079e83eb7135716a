import * as path from "path";
import type { ChildProcess } from "child_process";
import type { SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { pulumiCliAvailability } from "../../tools/pulumi/index.cjs";
import { describeIf } from "../helpers/requirements";
import {
  CliStack,
  routerState,
  Sandbox,
  sandboxTest,
  stateResource,
  STEP_TIMEOUT,
  uciGet,
  waitFor,
  writeInventory,
  type Result,
} from "./harness";

/**
 * `pulumi up` interrupted while a FirewallDefaults is inside its guard window (held open by soakSeconds, the router's
 * lock /etc/rc.d/S11offload-guard present), on examples/fleet with one router. What the real CLI (v3.276) does:
 * - one SIGINT (a terminal's Ctrl-C reaches `pulumi` only: it starts its plugins in process groups of their own):
 *   "cancelling": steps in flight run to completion (the guard confirms), no new step starts, `pulumi` exits 1
 *   ("update canceled"); the state holds what completed and no pending operation; the next `up` does the rest;
 * - a second SIGINT: "terminating": `pulumi` exits at once and its plugins die with it, so the change is never
 *   confirmed and the router restores itself when confirmTimeoutSeconds run out. The state keeps a pending "creating"
 *   operation for the resource (not the resource). The next `up` warns ("interrupted while creating") and converges,
 *   but the pending create stays until `pulumi refresh --clear-pending-creates` (a non-interactive refresh leaves
 *   pending creates alone; interactively it asks).
 */
const GUARD_LOCK = "/etc/rc.d/S11offload-guard";
const OFFLOAD = "edge-r1-mt7621-23.05-offload";

const locked = async (sim: SimulatedRouter) => (await routerState(sim)).guardLock;

/** Resolves once the router's guard lock exists (a change is inside its window). */
function lockAppears(sim: SimulatedRouter): Promise<void> {
  return waitFor(`${GUARD_LOCK} on the router`, () => locked(sim), 120_000, 100);
}

/** Starts `pulumi up`, sends `count` SIGINTs (300 ms apart) once the guard lock appears, and waits for pulumi. */
async function interruptUp(stack: CliStack, sim: SimulatedRouter, count: number): Promise<Result & { lockedAt: number }> {
  let child: ChildProcess | undefined;
  const up = stack.run(["up", "--yes", "--skip-preview"], { spawned: (c) => (child = c) });
  await lockAppears(sim);
  const lockedAt = Date.now();
  for (let i = 0; i < count; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 300));
    child!.kill("SIGINT");
  }
  return { ...(await up), lockedAt };
}

function fleetConfig(box: Sandbox, soakSeconds: number, confirmTimeoutSeconds: number) {
  return {
    plain: {
      inventory: writeInventory(path.join(box.dir, "inventory"), box.routers),
      soakSeconds: String(soakSeconds),
      confirmTimeoutSeconds: String(confirmTimeoutSeconds),
    },
  };
}

describeIf(pulumiCliAvailability(), "an interrupted pulumi up through the real Pulumi CLI", () => {
  sandboxTest(
    "one SIGINT: the change in flight is confirmed and recorded, no pending operation, the next up does the rest",
    { profiles: ["mt7621-23.05"] },
    async (box) => {
      const [sim] = box.routers;
      const stack = await CliStack.init(box, "fleet", "sim", fleetConfig(box, 4, 60));
      const interrupted = await interruptUp(stack, sim, 1);
      expect(interrupted.code).toBe(1);
      expect(interrupted.output).toMatch(/\^C received; cancelling/);
      expect(interrupted.output).toMatch(/error: update canceled/);
      expect(interrupted.output).toMatch(new RegExp(`FirewallDefaults ${OFFLOAD} created`));

      // Confirmed, not mixed: the lock is gone, uci and the kernel run hardware offload, the state says so.
      expect(await locked(sim)).toBe(false);
      expect(await uciGet(sim, "firewall.@defaults[0].flow_offloading_hw")).toBe("1");
      const exp = await stack.exportState();
      expect(exp.deployment.pending_operations ?? []).toEqual([]);
      expect(stateResource(exp, OFFLOAD)?.outputs).toMatchObject({ runtime: { mode: "hardware" }, lastApply: { status: "confirmed" } });
      expect(stateResource(exp, "edge-wave-1")).toBeUndefined();

      const next = await stack.ok(["up", "--yes", "--skip-preview"]);
      expect(next).toMatch(/\+ 2 created/);
      expect(next).toMatch(/\+ 2 created\n\s+5 unchanged\n/);
    },
  );

  sandboxTest(
    "two SIGINTs: pulumi terminates, the router restores itself after confirmTimeoutSeconds; up converges, refresh --clear-pending-creates",
    { profiles: ["mt7621-23.05"] },
    async (box) => {
      const [sim] = box.routers;
      const confirmTimeoutSeconds = 10;
      // The soak holds the window open long enough to interrupt it; it must be shorter than the timeout.
      const stack = await CliStack.init(box, "fleet", "sim", fleetConfig(box, 3, confirmTimeoutSeconds));
      const before = await routerState(sim);

      const interrupted = await interruptUp(stack, sim, 2);
      const lockedAt = interrupted.lockedAt;
      expect(interrupted.code).not.toBe(0);
      expect(interrupted.output).toMatch(/terminate immediately/);
      expect(interrupted.output).toMatch(new RegExp(`FirewallDefaults ${OFFLOAD} creating \\(interrupted\\)`));

      const exp = await stack.exportState();
      expect(stateResource(exp, OFFLOAD)).toBeUndefined();
      expect(exp.deployment.pending_operations?.map((o) => [o.type, o.resource.urn.split("::").pop()])).toEqual([["creating", OFFLOAD]]);

      // Then it restores itself: the lock goes, and everything is as before the interrupted up.
      await waitFor("the router to restore itself", async () => !(await locked(sim)), (confirmTimeoutSeconds + 15) * 1000, 250);
      expect(Date.now() - lockedAt).toBeGreaterThan((confirmTimeoutSeconds - 1) * 1000);
      expect(await routerState(sim)).toEqual(before);

      // The next up warns about the pending create and converges; the (now stale) pending create stays.
      const next = await stack.run(["up", "--yes", "--skip-preview"]);
      expect({ code: next.code, output: next.code === 0 ? "" : next.output }).toEqual({ code: 0, output: "" });
      expect(next.output).toMatch(/Attempting to deploy or update resources with 1 pending operations from previous deployment/);
      expect(next.output).toContain(`${OFFLOAD}, interrupted while creating`);
      expect(await uciGet(sim, "firewall.@defaults[0].flow_offloading_hw")).toBe("1");
      const converged = await stack.exportState();
      expect(stateResource(converged, OFFLOAD)?.outputs).toMatchObject({ runtime: { mode: "hardware" }, lastApply: { status: "confirmed" } });
      expect(converged.deployment.pending_operations?.length).toBe(1);

      // A non-interactive refresh clears pending creates only when told to.
      await stack.ok(["refresh", "--yes", "--skip-preview"]);
      expect((await stack.exportState()).deployment.pending_operations?.length).toBe(1);
      await stack.ok(["refresh", "--yes", "--skip-preview", "--clear-pending-creates"]);
      expect((await stack.exportState()).deployment.pending_operations ?? []).toEqual([]);
      const quiet = await stack.run(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
      expect(quiet.code).toBe(0);
      expect(quiet.output).not.toMatch(/pending operations/);

      // The original options recorded by the re-create are the real ones: destroy puts the router back.
      await stack.ok(["destroy", "--yes", "--skip-preview"]);
      expect(await routerState(sim)).toEqual(before);
    },
  );
  // While an interrupted change's window is open, the router holds that change unconfirmed: it will restore itself.
  // Another up must not take it for the router's state. Today FirewallDefaults' create reads it, finds nothing to
  // write, and records it as created and unchanged, without asking the guard (no lock is taken for a no-op): the state
  // then says hardware offload and records the unconfirmed values as the "original" ones, and once the router has
  // restored itself it holds offload off. Needs the provider to see an open window in its facts and refuse (product
  // code: provider/device/facts.ts, provider/resources/*).
  test.failing(
    "an up while the interrupted change's window is still open is refused, naming the transaction, and records nothing",
    async () => {
      const box = await Sandbox.create({ profiles: ["mt7621-23.05"] });
      try {
        const [sim] = box.routers;
        const confirmTimeoutSeconds = 15;
        const stack = await CliStack.init(box, "fleet", "sim", fleetConfig(box, 10, confirmTimeoutSeconds));
        const interrupted = await interruptUp(stack, sim, 2);
        expect(interrupted.output).toMatch(new RegExp(`FirewallDefaults ${OFFLOAD} creating \\(interrupted\\)`));

        const busy = await stack.run(["up", "--yes", "--skip-preview"]);
        expect(Date.now() - interrupted.lockedAt).toBeLessThan(confirmTimeoutSeconds * 1000);
        await waitFor("the router to restore itself", async () => !(await locked(sim)), (confirmTimeoutSeconds + 15) * 1000, 250);
        const mode = (await uciGet(sim, "firewall.@defaults[0].flow_offloading")) === "1" ? "on" : "off";
        const recorded = stateResource(await stack.exportState(), OFFLOAD)?.outputs as { flowOffloading: boolean } | undefined;
        expect({ recorded: recorded?.flowOffloading, router: mode }).toEqual({ recorded: undefined, router: "off" });
        expect(busy.code).not.toBe(0);
        expect(busy.output).toMatch(/another change holds this router \(\d{8}T\d{6}\.\d{3}Z-[0-9a-f]+: FirewallDefaults: hardware offload/);
      } finally {
        await box.cleanup();
      }
    },
    4 * STEP_TIMEOUT,
  );
});
