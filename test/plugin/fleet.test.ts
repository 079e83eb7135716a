import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { startSimulatedRouter, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import type { EngineEvent, MiniEngineOptions, OperationSummary } from "../../cli/engine";
import { EngineDriver } from "../unit/engine/harness";
import { run } from "../helpers/sim-client";

/**
 * examples/fleet (OffloadFleet) through the real plugin against a simulated fleet: the policy per
 * profile, waves in order, and a wave whose failures exceed the budget stops the later waves.
 */
const PROGRAM = path.join(__dirname, "../../examples/fleet/index.ts");

async function fleetOf(profiles: string[]): Promise<SimulatedRouter[]> {
  return Promise.all(profiles.map((profile) => startSimulatedRouter({ profile })));
}

function inventoryFor(routers: SimulatedRouter[], modes: Record<number, string> = {}): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-inv-")), "inventory.yaml");
  fs.writeFileSync(
    file,
    stringify({
      routers: routers.map((r, i) => ({
        name: `r${i + 1}-${r.profile.id}`,
        host: r.host,
        port: r.port,
        privateKey: r.privateKey,
        hostKey: r.hostKeyFingerprint,
        labels: { profile: r.profile.id },
        ...(modes[i] ? { mode: modes[i] } : {}),
      })),
    }),
  );
  return file;
}

let driver: EngineDriver;
beforeAll(() => {
  driver = EngineDriver.start();
});
afterAll(() => driver.stop());

async function up(inventory: string, config: Record<string, string>): Promise<{ summary: OperationSummary; events: EngineEvent[] }> {
  const engine: MiniEngineOptions = {
    project: "openwrt-offload-fleet",
    stack: "sim",
    programDir: path.dirname(PROGRAM),
    statePath: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-stack-")), "state.json"),
    passphrase: "test",
    config: { inventory, ...config },
  };
  const reply = await driver.send({ op: "up", engine, program: PROGRAM } as never);
  if (reply.error) throw new Error(reply.error);
  return { summary: reply.summary!, events: reply.events! };
}

describe("OffloadFleet", () => {
  test("auto policy per profile, canary first, each wave after the previous gate", async () => {
    const routers = await fleetOf(["mt7621-23.05", "x86-64-23.05", "mt7621-24.10", "ath79-21.02"]);
    try {
      const { summary, events } = await up(inventoryFor(routers), { waveSize: "50%", failureBudget: "0" });
      expect(summary.error).toBeUndefined();
      const rows = (summary.outputs.summary as { name: string; wave: number; modeRequested: string; modeRunning: string; guard: string }[]).map((s) => [
        s.name,
        s.wave,
        s.modeRequested,
        s.modeRunning,
        s.guard,
      ]);
      expect(rows).toEqual([
        ["r1-mt7621-23.05", 1, "hardware", "hardware", "confirmed"],
        // SQM shapes the 24.10 router's wan: software, so cake keeps working.
        ["r2-x86-64-23.05", 2, "software", "software", "confirmed"],
        ["r3-mt7621-24.10", 2, "software", "software", "confirmed"],
        ["r4-ath79-21.02", 3, "software", "software", "confirmed"],
      ]);
      const order = events.filter((e) => e.kind === "stepStart" || e.kind === "stepDone").map((e) => (e.kind === "stepStart" ? `start ${e.name}` : `done ${e.result.name}`));
      const at = (s: string) => order.indexOf(s);
      expect(at("done edge-wave-1")).toBeGreaterThan(at("done edge-r1-mt7621-23.05-offload"));
      expect(at("start edge-r2-x86-64-23.05-offload")).toBeGreaterThan(at("done edge-wave-1"));
      expect(at("start edge-r4-ath79-21.02-offload")).toBeGreaterThan(at("done edge-wave-2"));
    } finally {
      await Promise.all(routers.map((r) => r.stop()));
    }
  }, 120_000);

  test("a failed canary over the budget stops later waves; the failed router is left as it was", async () => {
    const routers = await fleetOf(["x86-64-23.05", "mt7621-23.05", "mt7621-23.05"]);
    try {
      const before = (await run(routers[0], "uci show firewall")).stdout;
      // Forcing hardware on x86 is refused before any write; with a budget of 0 the fleet stops there.
      const { summary } = await up(inventoryFor(routers, { 0: "hardware" }), { waveSize: "1", failureBudget: "0" });
      expect(summary.ok).toBe(false);
      expect(summary.error ?? summary.resources.find((r) => r.error)?.error).toMatch(/wave 1: 1 router failed so far, over the failure budget of 0; later waves were not started.*r1-x86-64-23.05 \(refused\)/);
      // The outputs were recorded before the verdict failed the up: each router as it is now.
      const rows = (summary.outputs.summary as { name: string; modeRunning: string; guard: string }[]).map((s) => [s.name, s.modeRunning, s.guard]);
      expect(rows).toEqual([
        ["r1-x86-64-23.05", "off", "refused"],
        ["r2-mt7621-23.05", "off", "not-started"],
        ["r3-mt7621-23.05", "off", "not-started"],
      ]);
      expect(summary.outputs.waves).toEqual([
        "wave 1 failed: 1 of 1 router refused, over the budget of 0",
        "wave 2 did not start",
        "wave 3 did not start",
      ]);
      expect((await run(routers[0], "uci show firewall")).stdout).toBe(before);
      for (const r of routers.slice(1)) {
        expect((await run(r, "uci -q get firewall.@defaults[0].flow_offloading || echo unset")).stdout).toBe("unset\n");
      }
    } finally {
      await Promise.all(routers.map((r) => r.stop()));
    }
  }, 120_000);
});
