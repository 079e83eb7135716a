import { execFile } from "child_process";
import * as path from "path";
import { startSimulatedRouter, type SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { firewallDefaultsProvider } from "../../provider/resources/firewall-defaults";
import { getPool } from "../../provider/transport";
import { connectionOf, defaultsInputs } from "../helpers/providers";
import { run } from "../helpers/sim-client";

/**
 * Two writers in two processes (two stacks, or a stack and an operator) change one router at the
 * same moment. The router's lock lets one through; the other is refused naming the first's
 * transaction. Whatever the interleaving, the router ends in one writer's state, never a mix.
 */
afterAll(() => getPool().closeAll());

const DIST = path.join(__dirname, "../../dist");

/** One writer: a separate node process (its own connection pool and in-process lock) applying FirewallDefaults. */
function writer(inputs: object): Promise<{ ok: boolean; error?: string; name?: string }> {
  const script = `
    const { firewallDefaultsProvider } = require(${JSON.stringify(`${DIST}/provider/resources/firewall-defaults`)});
    const { getPool } = require(${JSON.stringify(`${DIST}/provider/transport`)});
    firewallDefaultsProvider.create(JSON.parse(process.argv[1]))
      .then(() => ({ ok: true }), (e) => ({ ok: false, name: e.name, error: e.message }))
      .then(async (r) => { await getPool().closeAll(); process.stdout.write(JSON.stringify(r)); });`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ["-e", script, JSON.stringify(inputs)], (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout)))),
  );
}

test("two processes writing one router at once: one wins, the other is refused naming it, never a mix", async () => {
  const sim: SimulatedRouter = await startSimulatedRouter({ profile: "mt7621-23.05" });
  try {
    const connection = await connectionOf(sim);
    const software = await defaultsInputs(connection, { flowOffloadingHw: false });
    // A second of soak keeps each window open long enough for the other writer to arrive during it.
    const off = await defaultsInputs(connection, { flowOffloading: false, flowOffloadingHw: false, confirmTimeoutSeconds: 10, soakSeconds: 1 });
    const hardware = await defaultsInputs(connection, { flowOffloadingHw: true, confirmTimeoutSeconds: 10, soakSeconds: 1 });
    const states = new Set<string>();
    let refusals = 0;
    for (let round = 0; round < 4; round++) {
      // From software offload, both writers have something to write.
      await firewallDefaultsProvider.create(software);
      const [a, b] = await Promise.all([writer(off), writer(hardware)]);
      const options = (await run(sim, "uci -q get firewall.@defaults[0].flow_offloading; uci -q get firewall.@defaults[0].flow_offloading_hw")).stdout.replace(/\n/g, " ").trim();
      // The writers' outcomes are what the router holds: the one that succeeded last is in force.
      states.add(options);
      // Each writer either won or was refused because the other held the router; a refused one names the holder.
      for (const r of [a, b]) {
        if (r.ok) continue;
        expect(r.name).toBe("GuardBusyError");
        expect(r.error).toMatch(/another change holds this router \(\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}: FirewallDefaults: (offload off|hardware offload)/);
        refusals++;
      }
      expect(a.ok || b.ok).toBe(true);
      // The router holds the state of the writer that confirmed last: off ("0", with flow_offloading_hw "0" or
      // absent as before) or hardware ("1 1"), never one writer's option with the other's ("0 1", "1 0").
      expect(["0", "0 0", "1 1"]).toContain(options);
      expect((await run(sim, "ls /etc/rc.d | grep -c offload-guard")).stdout.trim()).toBe("0");
    }
    // The writers really raced: rounds refused one of them.
    expect(refusals).toBeGreaterThan(0);
    expect(states.size).toBeGreaterThan(0);
  } finally {
    await sim.stop();
  }
}, 180_000);
