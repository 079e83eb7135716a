import { startSimulatedRouter, type SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { readFacts } from "../../provider/device/facts";
import { routerShell } from "../../provider/device/shell";
import { DEFAULT_GUARD, listSnapshots, planRollback, rollback } from "../../provider/guard";
import { firewallDefaultsProvider, type FirewallDefaultsOutputs } from "../../provider/resources/firewall-defaults";
import { flowtableProvider } from "../../provider/resources/flowtable";
import { getPool } from "../../provider/transport";
import { connectionOf, defaultsInputs, flowtableInputs, type Connection } from "../helpers/providers";
import { optionsFor } from "../helpers/router-files";
import { run } from "../helpers/sim-client";

/**
 * What the operator sees is true: drift classes that name the cause, a preview that reads the
 * router (refusing what up would refuse, saying what up would change), fw4's own flowtable kept
 * apart from flowtables of one's own, and zones as fw4 sees their devices.
 */
afterAll(() => getPool().closeAll());

let sim: SimulatedRouter;
let connection: Connection;
beforeEach(async () => {
  sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
  connection = await connectionOf(sim);
});
afterEach(() => sim.stop());

const classes = (drift: { class: string }[]) => drift.map((d) => d.class);
const refresh = async (created: { id: string; outs: FirewallDefaultsOutputs }) =>
  (await firewallDefaultsProvider.read(created.id, created.outs)).props as FirewallDefaultsOutputs;

describe("FirewallDefaults and a Flowtable of one's own live together (examples/flowtable)", () => {
  test("up, then refresh shows no drift, then up changes nothing", async () => {
    const defaults = await firewallDefaultsProvider.create(await defaultsInputs(connection, { flowOffloading: false, flowOffloadingHw: false }));
    const lanwan = await flowtableProvider.create(
      await flowtableInputs(connection, { name: "lanwan", devices: ["lan1", "wan"], forwardRule: { protocols: ["tcp", "udp"], outputInterfaces: ["wan"] } }),
    );
    expect(lanwan.outs.live).toMatchObject({ devices: ["lan1", "wan"], forwardRule: true });
    const refreshed = await refresh(defaults);
    expect(refreshed.runtime.mode).toBe("off");
    expect(refreshed.drift).toEqual([]);
    expect((await flowtableProvider.read(lanwan.id, lanwan.outs)).props).toMatchObject({ drift: [] });
    const snapshots = (await listSnapshots(routerShell(optionsFor(sim)))).length;
    // check (which reads the router for the preview) runs before the updates are counted.
    const inputs = await defaultsInputs(connection, { flowOffloading: false, flowOffloadingHw: false });
    const execs = sim.stats.execs;
    await firewallDefaultsProvider.update(defaults.id, defaults.outs, inputs);
    await flowtableProvider.update(lanwan.id, lanwan.outs, lanwan.outs);
    // The check's probe answers both updates' reads, and neither writes: no exec, no guard window, no snapshot used up.
    expect(sim.stats.execs - execs).toBe(0);
    expect((await listSnapshots(routerShell(optionsFor(sim)))).length).toBe(snapshots);
  });
});

describe("drift classes name the cause", () => {
  test("a change the guard restored after its window ran out: guard-restored, with the transaction", async () => {
    sim.setFaults({ dropConnection: { matching: "--offload-guard--applied", downForMs: 4000 } });
    const inputs = await defaultsInputs(connection, { confirmTimeoutSeconds: 2, onFailure: "report" });
    const created = await firewallDefaultsProvider.create({ ...inputs, connection });
    // Reported, not thrown: what the resource says is what the router holds now.
    expect(created.outs.lastApply.status).toBe("restored");
    expect(created.outs.runtime.mode).toBe("off");
    const [record] = await listSnapshots(routerShell(optionsFor(sim)));
    expect(created.outs.drift).toEqual([{ class: "guard-restored", txid: record.txid, detail: expect.stringMatching(/the guard put back offload off at .*its window ended without a confirmation/) }]);
  }, 30_000);

  test("an operator's rollback: rolled-back; a LuCI edit after it: local-edit; a staged change: pending-changes only", async () => {
    const created = await firewallDefaultsProvider.create(await defaultsInputs(connection));
    const shell = routerShell(optionsFor(sim));
    await rollback(shell, optionsFor(sim), await planRollback(shell, undefined), DEFAULT_GUARD, await readFacts(shell));
    expect(classes((await refresh(created)).drift)).toEqual(["rolled-back"]);
    await run(sim, "uci set firewall.@defaults[0].flow_offloading=1; uci commit firewall; fw4 reload");
    // The rollback is the newest record, but it did not leave software offload: uci was edited since.
    expect(classes((await refresh(created)).drift)).toEqual(["local-edit"]);
    await run(sim, "uci set firewall.@defaults[0].flow_offloading_hw=1; uci commit firewall; fw4 reload");
    expect((await refresh(created)).drift).toEqual([]);
    await run(sim, "uci set firewall.@defaults[0].flow_offloading_hw=0");
    expect(classes((await refresh(created)).drift)).toEqual(["pending-changes"]);
  });

  test("a flowtable deleted by hand is runtime-missing, not fw4's hardware fallback", async () => {
    const created = await firewallDefaultsProvider.create(await defaultsInputs(connection, { flowOffloadingHw: false }));
    await run(sim, "nft delete rule inet fw4 forward handle $(nft -a list chain inet fw4 forward | sed -n 's/.*flow add @ft.*handle \\([0-9]*\\)$/\\1/p'); nft delete flowtable inet fw4 ft");
    expect((await refresh(created)).drift).toEqual([{ class: "runtime-missing", detail: expect.stringMatching(/no flowtable with its forward rule is live \(deleted by hand/) }]);
  });

  test("a Flowtable whose files were deleted by hand is gone: the next up recreates it", async () => {
    const ft = await flowtableProvider.create(await flowtableInputs(connection, { name: "mine", devices: ["lan3"], forwardRule: { protocols: ["tcp"] } }));
    await run(sim, "rm /usr/share/nftables.d/chain-pre/forward/60-offload-mine.nft /etc/nftables.d/60-offload-mine.nft; nft flush chain inet fw4 forward; nft delete flowtable inet fw4 mine");
    // Both files gone: the resource is gone (the next up recreates it).
    expect((await flowtableProvider.read(ft.id, ft.outs)).id).toBe("");
  });
});

describe("preview reads the router", () => {
  test("check refuses what up would refuse, with the same message, and says what up would change", async () => {
    const x86 = await startSimulatedRouter({ profile: "x86-64-23.05" });
    try {
      const x86Connection = await connectionOf(x86);
      const checked = await firewallDefaultsProvider.check({}, { connection: x86Connection, flowOffloading: true, flowOffloadingHw: true });
      expect(checked.failures).toEqual([{ property: "flowOffloadingHw", reason: expect.stringMatching(/refusing to change anything: hardware offload was requested but target x86\/64 has no flow engine/) }]);
      const up = await firewallDefaultsProvider.create({ ...(await defaultsInputs(x86Connection, { flowOffloadingHw: false })), flowOffloadingHw: true }).catch((e: Error) => e);
      expect(checked.failures[0].reason).toBe((up as Error).message);
      expect(x86.stats.execs).toBeGreaterThan(0);
    } finally {
      await x86.stop();
    }
    const ok = await firewallDefaultsProvider.check({}, { connection, flowOffloading: true, flowOffloadingHw: false });
    expect(ok.failures).toEqual([]);
    expect(ok.inputs.planned).toEqual(['firewall.@defaults[0].flow_offloading: (unset) → "1"', "reload the firewall (the kernel runs offload off; software offload is declared)"]);
  });

  test("a cross-field mistake is refused at the first preview, when the router's connection is not known yet", async () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const checked = await firewallDefaultsProvider.check({}, { connection: unknown, flowOffloading: false, flowOffloadingHw: true });
    expect(checked.failures).toEqual([{ property: "flowOffloadingHw", reason: expect.stringMatching(/flowOffloadingHw needs flowOffloading: true/) }]);
    const later = await firewallDefaultsProvider.check({}, { connection: unknown, flowOffloading: true });
    expect(later).toMatchObject({ failures: [], inputs: { warnings: [expect.stringMatching(/^not checked at preview: the router's connection is not known until its Router exists/)] } });
  });

  test("a router that cannot be reached: the preview says the checks were not made, quickly", async () => {
    const gone = { ...connection, port: 1 };
    const started = Date.now();
    const checked = await firewallDefaultsProvider.check({}, { connection: gone, flowOffloading: true });
    expect(checked.failures).toEqual([]);
    expect(checked.inputs.warnings).toEqual([expect.stringMatching(/^not checked at preview: root@127\.0\.0\.1:1 could not be read \(.*\); up checks before it changes anything$/)]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

test("zones list what fw4 puts in its flowtable: a bridge's ports, not the bridge", async () => {
  const facts = await readFacts(routerShell(optionsFor(sim)));
  expect(facts.zones.find((z) => z.name === "lan")?.devices).toEqual(["lan1", "lan2", "lan3", "lan4"]);
  await firewallDefaultsProvider.create(await defaultsInputs(connection, { flowOffloadingHw: false }));
  const ft = (await readFacts(routerShell(optionsFor(sim)))).offload.runtime.flowtables.find((f) => f.name === "ft");
  expect([...ft!.devices].sort()).toEqual([...facts.zones.flatMap((z) => z.devices)].sort());
});
