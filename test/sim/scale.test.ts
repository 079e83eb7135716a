import { startSimulatedFleet, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { readFacts } from "../../provider/device/facts";
import { routerShell } from "../../provider/device/shell";
import { getPool } from "../../provider/transport";
import { optionsFor } from "../helpers/router-files";

describe("a fleet of 50 simulated routers at once", () => {
  let fleet: SimulatedRouter[] = [];
  beforeAll(async () => {
    fleet = await startSimulatedFleet({ count: 50 });
  }, 120_000);
  afterAll(async () => {
    await getPool().closeAll();
    await Promise.all(fleet.map((r) => r.stop()));
  });

  test("every router boots, listens on its own port and answers a facts probe over SSH", async () => {
    expect(new Set(fleet.map((r) => r.port)).size).toBe(50);
    expect(new Set(fleet.map((r) => r.hostKeyFingerprint)).size).toBe(50);
    const facts = await Promise.all(fleet.map((r) => readFacts(routerShell(optionsFor(r)))));
    facts.forEach((f, i) => {
      expect(f.release.version).toBe(fleet[i].profile.release.version);
      expect(f.offload.runtime.firewallRunning).toBe(true);
    });
    expect(new Set(fleet.map((r) => r.profile.id)).size).toBe(7);
  }, 120_000);
});
