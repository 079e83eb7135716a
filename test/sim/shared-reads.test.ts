import { startSimulatedRouter, type SimulatedRouter } from "../../sim";
import { readFacts } from "../../provider/device/facts";
import { routerShell } from "../../provider/device/shell";
import { getPool } from "../../provider/transport";
import { optionsFor } from "../helpers/router-files";
import { run } from "../helpers/sim-client";

/**
 * One probe per router: what reads of one router in one process share, counted on the router
 * (execs, processes it started), and when they must not share.
 */
let sim: SimulatedRouter;

beforeAll(async () => {
  sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
}, 60_000);

afterAll(async () => {
  await getPool().closeAll();
  await sim?.stop();
});

async function counted<T>(work: () => Promise<T>): Promise<{ value: T; execs: number; starts: number; shimStarts: number }> {
  const execs = sim.stats.execs;
  const before = await sim.counters();
  const value = await work();
  const after = await sim.counters();
  return { value, execs: sim.stats.execs - execs, starts: after.processStarts - before.processStarts, shimStarts: after.shimProcessStarts - before.shimProcessStarts };
}

test("reads that overlap run one probe; it starts no process a stock router could spare", async () => {
  const shell = routerShell(optionsFor(sim));
  const one = await counted(() => readFacts(shell));
  await getPool().closeAll();
  const four = await counted(() => Promise.all([1, 2, 3, 4].map(() => readFacts(routerShell(optionsFor(sim))))));
  expect(four.execs).toBe(1);
  expect(four.value.every((facts) => JSON.stringify(facts) === JSON.stringify(one.value))).toBe(true);
  // The exec's shell; ubus ×3, opkg, uci, df, nft ×2 (the emulated programs); awk. The shim adds a mkfifo and a cat to each program call.
  expect(four.starts - four.shimStarts).toBe(10);
  expect(one.starts - one.shimStarts).toBe(10);
});

test("a finished probe answers only reads that ask for it, until something is written or the connection is gone", async () => {
  const shell = routerShell(optionsFor(sim));
  expect((await counted(() => readFacts(shell))).execs).toBe(1);
  // A preview's checks and a create's plan take a recent probe...
  expect((await counted(() => readFacts(shell, { recent: 5000 }))).execs).toBe(0);
  // ...a refresh does not.
  expect((await counted(() => readFacts(shell))).execs).toBe(1);
  // Something written to the router from here: what was read before is not handed out again.
  await shell.run("true", { purpose: "a write" });
  expect((await counted(() => readFacts(shell, { recent: 5000 }))).execs).toBe(1);
  // Too old.
  await new Promise((r) => setTimeout(r, 250));
  expect((await counted(() => readFacts(shell, { recent: 100 }))).execs).toBe(1);
  // A new connection (a new run, or the router rebooted under it): read again.
  await getPool().closeAll();
  expect((await counted(() => readFacts(shell, { recent: 5000 }))).execs).toBe(1);
});

test("a refresh sees what changed behind the provider's back at once", async () => {
  const shell = routerShell(optionsFor(sim));
  expect((await readFacts(shell)).offload.config.flowOffloading).toBe(false);
  await run(sim, "uci set firewall.@defaults[0].flow_offloading=1; uci commit firewall");
  expect((await readFacts(shell)).offload.config.flowOffloading).toBe(true);
});

test("a package manager busy elsewhere: the probe waits for it, never calls packages missing", async () => {
  await run(sim, "(i=0; while [ $i -lt 6 ]; do opkg update >/dev/null 2>&1; i=$((i + 1)); done) >/dev/null 2>&1 &");
  const { value: facts, execs } = await counted(() => readFacts(routerShell(optionsFor(sim))));
  expect(facts.packagesError).toBeUndefined();
  expect(facts.packages["kmod-nft-offload"]).toBeDefined();
  // The first listing found opkg locked; the packages alone were read again until it was free.
  expect(execs).toBeGreaterThan(1);
}, 30_000);
