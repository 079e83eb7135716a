import * as path from "path";
import { RESOURCES_PER_ROUTER } from "../../bench/report";
import { runScenario, type OperationSample, type ScenarioResult, type ToolName } from "../../bench/scenario";
import type { Operation } from "../../bench/workload";

// The bench's own code path at N=2: counts only (handshakes, execs, writes), never times.
const ROOT = path.resolve(__dirname, "../..");
const FLEET_SERVER = [process.execPath, "-r", path.join(ROOT, "test/fixtures/engine/ts-hook.js"), path.join(ROOT, "bench/fleet-server.ts")];
const N = 2;

function scenario(tool: ToolName): Promise<ScenarioResult> {
  return runScenario({ tool, routers: N, latencyMs: 0, runs: 1, concurrency: 32, startConcurrency: N, routersPerServer: N, fleetCommand: FLEET_SERVER });
}

function sample(result: ScenarioResult, operation: Operation): OperationSample {
  const [only] = result.operations.find((o) => o.operation === operation)!.samples;
  return only;
}

function expectNoFailuresAndCountsAgreeWithTheRouters(result: ScenarioResult): void {
  for (const { samples, errors } of result.operations) {
    expect(errors).toEqual([]);
    for (const s of samples) {
      expect(s.failed).toBe(0);
      expect(s.handshakes).toBe(s.simConnections);
      expect(s.execs).toBe(s.simExecs);
    }
  }
}

test("ours: one probe per router for every read; a first apply in 6 execs; a no-op apply writes nothing", async () => {
  const result = await scenario("ours");
  expectNoFailuresAndCountsAgreeWithTheRouters(result);
  // Router: its handshake and the facts probe. FirewallDefaults and Flowtable: the guarded write,
  // the verification that confirms it over a new connection; FirewallDefaults' outputs read after it.
  // Every other read is answered by a probe already taken: no write came in between.
  expect(sample(result, "firstApply")).toMatchObject({ handshakes: 3 * N, execs: 6 * N, routersWritten: N, changed: N * RESOURCES_PER_ROUTER });
  // Preview reads the router (to refuse at preview what up would refuse, and to show old → new values): one probe for all its resources.
  expect(sample(result, "preview")).toMatchObject({ handshakes: N, execs: N, routersWritten: 0, changed: 0 });
  expect(sample(result, "refresh")).toMatchObject({ handshakes: N, execs: N, routersWritten: 0, changed: 0 });
  expect(sample(result, "noopApply")).toMatchObject({ handshakes: N, execs: N, routersWritten: 0, changed: 0 });
  // A probe starts only what no shell builtin can do (the shim's own helpers are counted apart).
  expect(sample(result, "refresh").routerProcessStarts).toBeLessThanOrEqual(15 * N);
  expect(sample(result, "refresh").shimProcessStarts).toBeGreaterThan(0);
}, 180_000);

test("naive baseline: a connection per command, the same writes, nothing written when nothing differs", async () => {
  const result = await scenario("naive");
  expectNoFailuresAndCountsAgreeWithTheRouters(result);
  for (const { samples } of result.operations) for (const s of samples) expect(s.handshakes).toBe(s.execs);
  // 5 reads; flow_offloading and both include files; uci commit, firewall reload, kernel check.
  expect(sample(result, "firstApply")).toMatchObject({ execs: N * 11, routersWritten: N, changed: N * 3 });
  expect(sample(result, "preview")).toMatchObject({ execs: N * 5, routersWritten: 0, changed: 0 });
  expect(sample(result, "refresh")).toMatchObject({ execs: N * 16, routersWritten: 0, changed: 0 });
  expect(sample(result, "noopApply")).toMatchObject({ execs: N * 5, routersWritten: 0, changed: 0 });
}, 180_000);
