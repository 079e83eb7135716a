import { startSimulatedRouter, type SimulatedRouter } from "../../sim";
import { FACT_SECTIONS, RUNTIME_SECTIONS, type FactSection } from "../../provider/device/facts";
import { firewallDefaultsProvider } from "../../provider/resources/firewall-defaults";
import { flowtableProvider } from "../../provider/resources/flowtable";
import { offloadPackagesProvider } from "../../provider/resources/offload-packages";
import { routerProvider } from "../../provider/resources/router";
import { getPool } from "../../provider/transport";
import { connectionOf, defaultsInputs, flowtableInputs, newRun } from "../helpers/providers";

/**
 * What a guarded write costs the router, counted: a verification reads only the sections its
 * checks parse and confirms in the same exec; a change is one exec to apply and one to verify; a
 * refresh is one exec per router however many resources it has.
 */
let sim: SimulatedRouter;

beforeAll(async () => {
  sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
}, 60_000);

afterAll(async () => {
  await getPool().closeAll();
  await sim?.stop();
});

test("a FirewallDefaults create: its verification reads the kernel's offload state only, and confirms in the same exec", async () => {
  const inputs = await defaultsInputs(await connectionOf(sim));
  await newRun();
  const exec = jest.spyOn(getPool(), "exec");
  const before = { ...sim.stats };
  let calls: { command: string; purpose: string }[];
  try {
    const created = await firewallDefaultsProvider.create(inputs);
    expect(created.outs.runtime.mode).toBe("hardware");
  } finally {
    calls = exec.mock.calls.map(([, command, { purpose }]) => ({ command, purpose }));
    exec.mockRestore();
  }
  const verifications = calls.filter((c) => c.purpose.startsWith("verify "));
  expect(verifications).toHaveLength(1);
  const [verification] = verifications;
  const others = (Object.keys(FACT_SECTIONS) as FactSection[]).filter((s) => !(RUNTIME_SECTIONS as readonly string[]).includes(s));
  for (const section of RUNTIME_SECTIONS) expect(verification.command).toContain(FACT_SECTIONS[section]);
  for (const section of others) expect(verification.command).not.toContain(FACT_SECTIONS[section]);
  expect(verification.command).toMatch(/^confirm\) sh \S+ 'confirm' /m);
  // The plan's probe, the apply, the verification (over its own connection), the outputs' probe.
  expect(calls.map((c) => c.purpose)).toEqual(["read router facts", expect.stringMatching(/^FirewallDefaults: hardware offload \(guarded, /), expect.stringMatching(/^verify /), "read router facts"]);
  expect({ connections: sim.stats.connections - before.connections, execs: sim.stats.execs - before.execs }).toEqual({ connections: 2, execs: 4 });
});

test("a refresh of seven resources of one router: one handshake, one exec, the probe's processes only", async () => {
  const { inputs } = await routerProvider.check({}, { host: sim.host, port: sim.port, privateKey: sim.privateKey, hostKey: sim.hostKeyFingerprint });
  const router = (await routerProvider.create(inputs as never)).outs;
  const connection = router.connection;
  const defaults = (await firewallDefaultsProvider.create(await defaultsInputs(connection))).outs;
  const mine = (await flowtableProvider.create(await flowtableInputs(connection, { name: "mine", devices: ["br-lan"] }))).outs;
  const packages = (await offloadPackagesProvider.create((await offloadPackagesProvider.check({}, { connection })).inputs as never)).outs;
  await newRun();
  const execs = sim.stats.execs;
  const connections = sim.stats.connections;
  const before = await sim.counters();
  const read = await Promise.all([
    routerProvider.read("r", router as never),
    firewallDefaultsProvider.read("d", defaults),
    flowtableProvider.read("f", mine),
    // Resource.get of the same and of others: more reads of the router, still the one probe.
    flowtableProvider.read("g", { connection, name: "mine" }),
    flowtableProvider.read("h", { connection, name: "absent" }),
    offloadPackagesProvider.read("p", packages),
    offloadPackagesProvider.read("q", { connection }),
  ]);
  const after = await sim.counters();
  expect(read.map((r) => r.id)).toEqual(["r", "d", "f", "g", "", "p", "q"]);
  expect({ connections: sim.stats.connections - connections, execs: sim.stats.execs - execs }).toEqual({ connections: 1, execs: 1 });
  // The probe's shell, ubus ×3, opkg, uci, df, nft ×2, awk (see FACT_SECTIONS); the simulator's shim is counted apart.
  expect(after.processStarts - before.processStarts - (after.shimProcessStarts - before.shimProcessStarts)).toBe(10);
}, 60_000);
