import { startSimulatedRouter, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { firewallDefaultsProvider } from "../../provider/resources/firewall-defaults";
import { flowtableProvider } from "../../provider/resources/flowtable";
import { flowtableSchema } from "../../sdk/schemas";
import { GuardBusyError, GuardError, listSnapshots, planRollback, rollback, DEFAULT_GUARD } from "../../provider/guard";
import { OverlayFullError } from "../../provider/device/apply";
import { readFacts } from "../../provider/device/facts";
import { routerShell } from "../../provider/device/shell";
import { FirewallCheckError, ForeignChangesError } from "../../provider/device/uci";
import { getPool } from "../../provider/transport";
import { connectionOf, defaultsInputs, flowtableInputs, newRun, runtimeOf, sleep, type Connection } from "../helpers/providers";
import { openwrtCli } from "../helpers/cli";
import { optionsFor, snapshotFiles } from "../helpers/router-files";
import { run } from "../helpers/sim-client";

/**
 * The guard under each fault the issues name. After every test the router's /etc/config, include
 * files, init scripts and runtime state equal either the old or the new state exactly, never a mix,
 * and the router is never left locked.
 */
afterAll(() => getPool().closeAll());

const HOOK = "/etc/rc.d/S11offload-guard";
const unlocked = (sim: SimulatedRouter) => expect(snapshotFiles(sim)[HOOK]).toBeUndefined();

describe("guarded apply", () => {
  let sim: SimulatedRouter;
  let connection: Connection;
  let oldFiles: Record<string, string>;
  let oldRuntime: string;
  beforeEach(async () => {
    sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
    connection = await connectionOf(sim);
    oldFiles = snapshotFiles(sim);
    oldRuntime = await runtimeOf(sim);
  });
  afterEach(async () => {
    sim.setFaults({});
    await sim.stop();
  });

  test("a good change is confirmed: the lock (boot hook) is gone, one snapshot is kept, and it is on flash", async () => {
    await firewallDefaultsProvider.create(await defaultsInputs(connection));
    const files = snapshotFiles(sim);
    expect(files["/etc/config/firewall"]).toMatch(/option flow_offloading_hw '1'/);
    unlocked(sim);
    const snaps = await listSnapshots(routerShell(optionsFor(sim)));
    expect(snaps).toEqual([
      {
        txid: expect.stringMatching(/^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$/),
        description: "FirewallDefaults: hardware offload",
        result: expect.stringMatching(/^confirmed \d+$/),
        restores: "offload off",
        subject: "firewallDefaults",
        sets: "hardware offload",
      },
    ]);
    // Confirmed means synced: a power cut right after keeps the change and its record.
    await sim.crash();
    expect((await run(sim, "uci get firewall.@defaults[0].flow_offloading_hw")).stdout).toBe("1\n");
    expect((await listSnapshots(routerShell(optionsFor(sim))))[0].result).toMatch(/^confirmed/);
  });

  test("the link drops after the apply and stays down: the router's timer restores it, and the client says so once it is back", async () => {
    sim.setFaults({ dropConnection: { matching: "--offload-guard--applied", downForMs: 4000 } });
    const inputs = await defaultsInputs(connection, { confirmTimeoutSeconds: 2 });
    const err = await firewallDefaultsProvider.create(inputs).catch((e) => e);
    expect(err).toBeInstanceOf(GuardError);
    expect(err.restored).toBe(true);
    expect(err.message).toMatch(/was not confirmed in time \(the link was lost while applying.*\); the router's timer restored the previous config at .*: the router holds offload off again/);
    expect(snapshotFiles(sim)).toEqual(oldFiles);
    expect(await runtimeOf(sim)).toBe(oldRuntime);

    const again = await firewallDefaultsProvider.create(inputs);
    expect(again.outs.runtime.mode).toBe("hardware");
  }, 30_000);

  test("the link blips after the apply: the client reconnects, verifies and confirms within the window", async () => {
    sim.setFaults({ dropConnection: { matching: "--offload-guard--applied" } });
    const out = await firewallDefaultsProvider.create(await defaultsInputs(connection, { confirmTimeoutSeconds: 10 }));
    expect(out.outs.runtime.mode).toBe("hardware");
    unlocked(sim);
  });

  test("a lost link during confirm: the client learns from the router that the change was confirmed, and the original stays recorded", async () => {
    sim.setFaults({ dropConnection: { matching: "'confirm'" } });
    const before = (await run(sim, "uci show firewall")).stdout;
    const out = await firewallDefaultsProvider.create(await defaultsInputs(connection, { confirmTimeoutSeconds: 10 }));
    expect(out.outs.lastApply.status).toBe("confirmed");
    expect(out.outs.original).toEqual({});
    unlocked(sim);
    // destroy puts back what was there before (uci rewrites the file in its own format; the options are what count).
    await firewallDefaultsProvider.delete(out.id, out.outs);
    expect((await run(sim, "uci show firewall")).stdout).toBe(before);
  });

  test("the firewall reload fails: restored at once, and the error says what the router said", async () => {
    sim.setFaults({ failNextFirewallReload: true });
    const err = await firewallDefaultsProvider.create(await defaultsInputs(connection)).catch((e) => e);
    expect(err).toBeInstanceOf(GuardError);
    expect(err.restored).toBe(true);
    // fw4's reload exits 0 when nft rejects the ruleset: the kernel check catches it.
    expect(err.message).toMatch(/did not pass verification, so it was restored at .*: the router holds offload off again/);
    expect(err.message).toMatch(/Checked: the kernel runs hardware offload.*Failed: hardware offload was requested but no flowtable/);
    expect(err.message).toMatch(/While applying, the router said: .*Device or resource busy/s);
    expect(snapshotFiles(sim)).toEqual(oldFiles);
    expect(await runtimeOf(sim)).toBe(oldRuntime);
    unlocked(sim);
  });

  test("a failing health check: restored, the error names the check", async () => {
    const inputs = await defaultsInputs(connection, { healthChecks: [{ name: "ping LAN server", command: "ping -c 1 -W 1 192.168.1.250" }] });
    const err = await firewallDefaultsProvider.create(inputs).catch((e) => e);
    expect(err).toBeInstanceOf(GuardError);
    expect(err.message).toMatch(/did not pass verification, so it was restored at .*: the router holds offload off again.*Failed: health check "ping LAN server" failed \(exit 1/);
    expect(snapshotFiles(sim)).toEqual(oldFiles);
    expect(await runtimeOf(sim)).toBe(oldRuntime);
  });

  test("a restore the kernel does not take says so in nft's own words, instead of claiming all is well", async () => {
    // The check breaks the firewall after the change passed its own fw4 check: a file outside the snapshot nft rejects.
    const broken = { name: "break the firewall", command: "echo 'this is not nft' > /etc/nftables.d/99-broken.nft; exit 1" };
    const err = await firewallDefaultsProvider.create(await defaultsInputs(connection, { healthChecks: [broken] })).catch((e) => e);
    expect(err).toBeInstanceOf(GuardError);
    expect(err.message).toMatch(
      /so it was restored at .*: the router holds offload off again, but the restore reported: the kernel does not take the restored firewall config: fw4 check says: .*\/etc\/nftables\.d\/99-broken\.nft:1:1-4: Error: syntax error, unexpected string this is not nft \^\^\^\^\. Checked:/,
    );
    expect(err.message).not.toMatch(/files verified identical/);
    unlocked(sim);
  });

  test("a full overlay: refused before any change (the preview would have refused it too)", async () => {
    const inputs = await defaultsInputs(connection);
    sim.setFaults({ overlayFull: true });
    await newRun();
    const err = await firewallDefaultsProvider.create(inputs).catch((e) => e);
    expect(err).toBeInstanceOf(OverlayFullError);
    expect(snapshotFiles(sim)).toEqual(oldFiles);
    expect(await runtimeOf(sim)).toBe(oldRuntime);
  });

  test("two concurrent writes to one router are serialized, never mixed", async () => {
    const create = async (name: string, device: string) => flowtableProvider.create(await flowtableInputs(connection, { name, devices: [device] }));
    const [a, b] = await Promise.all([create("left", "lan3"), create("right", "lan4")]);
    expect(a.outs.live).toMatchObject({ devices: ["lan3"] });
    expect(b.outs.live).toMatchObject({ devices: ["lan4"] });
    const snaps = await listSnapshots(routerShell(optionsFor(sim)));
    expect(snaps.map((s) => [s.description, s.result.split(" ")[0]]).sort()).toEqual([
      ["Flowtable left: lan3", "confirmed"],
      ["Flowtable right: lan4", "confirmed"],
    ]);
    // The later window's snapshot holds the earlier flowtable: each saw the other's finished state, never a half.
    const [later] = snaps;
    const manifest = (await run(sim, `cat /etc/offload-guard/tx/${later.txid}/manifest`)).stdout;
    expect(manifest).toMatch(later.description.startsWith("Flowtable left") ? /^t right$/m : /^t left$/m);
  });

  test("a router held by another writer: refused with that writer's transaction named, nothing changed", async () => {
    const d = "/etc/offload-guard/tx/20260101T000000.000Z-abcdef";
    await run(sim, `mkdir -p ${d} && echo 'Flowtable x: other operator' > ${d}/meta && echo 4102444800 > ${d}/deadline && echo '#!/bin/sh' > ${d}/hook && chmod 755 ${d}/hook && ln -s ../offload-guard/tx/20260101T000000.000Z-abcdef/hook /etc/rc.d/S11offload-guard`);
    const before = snapshotFiles(sim);
    const err = await firewallDefaultsProvider.create(await defaultsInputs(connection)).catch((e) => e);
    expect(err).toBeInstanceOf(GuardBusyError);
    expect(err.message).toMatch(/another change holds this router \(20260101T000000.000Z-abcdef: Flowtable x: other operator, waiting for confirmation until 2100-01-01T00:00:00.000Z\).*Nothing was changed/);
    expect(snapshotFiles(sim)).toEqual(before);
  });

  test("someone's staged change to the same option is never taken for applied: refused with their lines, still staged, not live", async () => {
    const inputs = await defaultsInputs(connection);
    await run(sim, "uci set firewall.@defaults[0].flow_offloading=1; uci set firewall.@defaults[0].flow_offloading_hw=1");
    await newRun();
    const stagedFiles = snapshotFiles(sim);
    // The preview refuses it (see test/sim/truthful.test.ts); an up that skipped the preview refuses it too.
    expect((await firewallDefaultsProvider.check({}, { connection, flowOffloading: true, flowOffloadingHw: true })).failures[0].reason).toMatch(/staged uncommitted changes to uci package "firewall"/);
    const err = await firewallDefaultsProvider.create(inputs).catch((e) => e);
    expect(err).toBeInstanceOf(ForeignChangesError);
    expect(err.message).toMatch(/staged uncommitted changes to uci package "firewall" \(2 line\(s\): firewall\.cfg\w+\.flow_offloading='1'; .*nothing was changed/);
    expect(snapshotFiles(sim)).toEqual(stagedFiles);
    expect((await run(sim, "nft list flowtables")).stdout).not.toContain("flowtable");
  });

  test("a reload-only write refuses other people's staged firewall changes: fw4 would render them", async () => {
    const inputs = await flowtableInputs(connection, { name: "mine", devices: ["lan3"] });
    await run(sim, "uci set firewall.@zone[1].input=ACCEPT");
    const before = snapshotFiles(sim);
    const ruleset = (await run(sim, "nft list ruleset")).stdout;
    const err = await flowtableProvider.create(inputs).catch((e) => e);
    expect(err).toBeInstanceOf(ForeignChangesError);
    expect(err.message).toMatch(/firewall\.cfg\w+\.input='ACCEPT'/);
    expect(snapshotFiles(sim)).toEqual(before);
    expect((await run(sim, "nft list ruleset")).stdout).toBe(ruleset);
  });

  test("a config nft rejects: the include files are put back, the running firewall never touched, nothing left in /tmp", async () => {
    // lan1 is already in fw4's own flowtable `ft`: a second flowtable may not take it (the kernel says EEXIST).
    await firewallDefaultsProvider.create(await defaultsInputs(connection, { flowOffloadingHw: false }));
    const files = snapshotFiles(sim);
    const ruleset = (await run(sim, "nft list ruleset")).stdout;
    // Past the resource's own preflight (which refuses the shared device at preview): straight to the guard.
    const inputs = flowtableSchema.parse({ connection, name: "clash", devices: ["lan1"], priority: 10 });
    const shell = routerShell(optionsFor(sim));
    const facts = await readFacts(shell);
    const { guardedApply } = await import("../../provider/guard");
    const { emptyChangeSet } = await import("../../provider/device/changeset");
    const { flowtablePaths, renderFlowtable } = await import("../../provider/resources/flowtable");
    const err = await guardedApply(
      shell,
      optionsFor(sim),
      {
        description: "Flowtable clash",
        restores: "no flowtable clash",
        subject: "flowtable:clash",
        sets: "flowtable clash on lan1",
        changes: { ...emptyChangeSet(), files: [{ path: flowtablePaths("clash").flowtable, content: renderFlowtable(inputs).flowtable }], reloadFirewall: true },
        reads: [],
        verify: () => [],
        checks: [],
      },
      DEFAULT_GUARD,
      { firewall: facts.firewall },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(FirewallCheckError);
    expect(err.message).toMatch(/does not pass `fw4 check`.*Error: .*The files were put back at once/s);
    expect(snapshotFiles(sim)).toEqual(files);
    expect((await run(sim, "nft list ruleset")).stdout).toBe(ruleset);
    expect((await run(sim, "find /tmp | grep offload | grep -v '/run/offload-guard.lock$'")).stdout).toBe("");
    unlocked(sim);
  });

  test("restoring a Flowtable takes it out of the kernel too; offload can be turned on afterwards", async () => {
    const inputs = await flowtableInputs(connection, { name: "mine", devices: ["lan3"], healthChecks: [{ name: "always fails", command: "false" }] });
    const err = await flowtableProvider.create(inputs).catch((e) => e);
    expect(err).toBeInstanceOf(GuardError);
    expect(err.message).toMatch(/restored at .*: the router holds no flowtable mine again/);
    expect((await run(sim, "nft list flowtables")).stdout).not.toContain("flowtable mine");
    expect(snapshotFiles(sim)).toEqual(oldFiles);
    const on = await firewallDefaultsProvider.create(await defaultsInputs(connection, { flowOffloadingHw: false }));
    expect(on.outs.runtime.mode).toBe("software");
  });

  test("restoring a Flowtable by the timer after a lost link takes it out of the kernel too", async () => {
    sim.setFaults({ dropConnection: { matching: "--offload-guard--applied", downForMs: 4000 } });
    const err = await flowtableProvider.create(await flowtableInputs(connection, { name: "mine", devices: ["lan3"], confirmTimeoutSeconds: 2 })).catch((e) => e);
    expect(err).toBeInstanceOf(GuardError);
    expect(err.message).toMatch(/timer restored/);
    expect((await run(sim, "nft list flowtables")).stdout).not.toContain("flowtable mine");
    expect(await runtimeOf(sim)).toBe(oldRuntime);
  }, 30_000);

  test("a crash while arming never locks the router: the boot hook (or nothing) is left, and the next change goes through", async () => {
    // Right after the sync that puts the transaction on flash before the lock is taken; after the lock and the
    // snapshot, before arm's sync (the second `nft list flowtables`: the first is the facts probe's); right after
    // arm's sync; in the middle of the apply.
    const points = [
      { callMatching: /^sync$/ },
      { callMatching: /^nft list flowtables$/, occurrence: 2 },
      { callMatching: /^sync$/, occurrence: 2 },
      { callMatching: /^uci -t \S+ commit firewall$/ },
    ];
    const inputs = await defaultsInputs(connection, { confirmTimeoutSeconds: 5 });
    for (const point of points) {
      sim.setFaults({ crash: point });
      const err = await firewallDefaultsProvider.create(inputs).catch((e) => e);
      expect(err).toBeInstanceOf(GuardError);
      expect(err.restored).toBe(true);
      expect(snapshotFiles(sim)).toEqual(oldFiles);
      unlocked(sim);
    }
    const out = await firewallDefaultsProvider.create(await defaultsInputs(connection));
    expect(out.outs.runtime.mode).toBe("hardware");
  }, 60_000);

  test("rollback puts the earlier config back as a guarded change of its own, and can itself be undone", async () => {
    await firewallDefaultsProvider.create(await defaultsInputs(connection));
    const newFiles = snapshotFiles(sim);
    const shell = routerShell(optionsFor(sim));
    const plan = await planRollback(shell, undefined);
    expect(plan.target.description).toBe("FirewallDefaults: hardware offload");
    await rollback(shell, optionsFor(sim), plan, DEFAULT_GUARD, await readFacts(shell));
    expect(snapshotFiles(sim)).toEqual(oldFiles);
    expect(await runtimeOf(sim)).toBe(oldRuntime);
    const [last] = await listSnapshots(shell);
    expect(last).toMatchObject({ description: `rollback: put back offload off from before ${plan.target.txid} (FirewallDefaults: hardware offload)`, result: expect.stringMatching(/^confirmed/) });
    // Rolling back the rollback returns to the change.
    await rollback(shell, optionsFor(sim), await planRollback(shell, last.txid), DEFAULT_GUARD, await readFacts(shell));
    expect(snapshotFiles(sim)).toEqual(newFiles);
  });

  test("rollback during another change's window is refused, not silently undone by that window", async () => {
    const first = await firewallDefaultsProvider.create(await defaultsInputs(connection, { flowOffloadingHw: false }));
    expect(first.outs.runtime.mode).toBe("software");
    // A second change holds its window open while it soaks; the operator's rollback comes from another process.
    const pending = firewallDefaultsProvider.update(first.id, first.outs, await defaultsInputs(connection, { soakSeconds: 3 }));
    await sleep(1500);
    const refused = await openwrtCli(sim, ["rollback"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/another change holds this router \(\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}: FirewallDefaults: hardware offload, waiting for confirmation until/);
    expect((await pending).outs.runtime.mode).toBe("hardware");
    // Its window ended (confirmed, untouched by the refused rollback); now a rollback goes through.
    const rolled = await openwrtCli(sim, ["rollback", "--json"]);
    expect(JSON.parse(rolled.stdout)).toMatchObject({
      schema: "openwrt-offload/rollback",
      dryRun: false,
      undoes: { description: "FirewallDefaults: hardware offload" },
      putsBack: "software offload",
      runningMode: "software",
    });
    expect((await run(sim, "uci get firewall.@defaults[0].flow_offloading; uci -q get firewall.@defaults[0].flow_offloading_hw || echo absent")).stdout).toBe("1\nabsent\n");
  }, 30_000);
});

describe("a window shorter than the apply", () => {
  test("the timer waits for the apply to finish, then restores it whole; the client reports what the router did", async () => {
    const sim = await startSimulatedRouter({ profile: "x86-64-23.05" });
    try {
      const connection = await connectionOf(sim);
      const before = (await run(sim, "opkg list-installed")).stdout;
      const { offloadPackagesProvider } = await import("../../provider/resources/offload-packages");
      const { inputs } = await offloadPackagesProvider.check({}, { connection, packages: ["ethtool", "iperf3"], confirmTimeoutSeconds: 1 });
      // opkg update and install hold opkg's lock for over a second: the deadline passes while the apply runs.
      const err = await offloadPackagesProvider.create(inputs as never).catch((e) => e);
      expect(err).toBeInstanceOf(GuardError);
      expect(err.message).toMatch(/was not confirmed in time.*the router's timer restored the previous config at .*: the router holds ethtool, iperf3 not installed again/);
      expect((await run(sim, "opkg list-installed")).stdout).toBe(before);
      const [record] = await listSnapshots(routerShell(optionsFor(sim)));
      expect(record.result).toMatch(/^restored timeout \d+$/);
      unlocked(sim);
    } finally {
      await sim.stop();
    }
  }, 30_000);
});

describe("a driver that crashes under hardware offload", () => {
  test("the router reboots during the soak; its boot hook restores the old config before the firewall starts", async () => {
    const sim = await startSimulatedRouter({ profile: "mt7621-unstable-hw", faults: { crashAfterMs: 300 } });
    try {
      const connection = await connectionOf(sim);
      const oldFiles = snapshotFiles(sim);
      const oldRuntime = await runtimeOf(sim);
      sim.startLoad(50);
      const inputs = await defaultsInputs(connection, { soakSeconds: 2, confirmTimeoutSeconds: 30 });
      const err = await firewallDefaultsProvider.create(inputs).catch((e) => e);
      expect(err).toBeInstanceOf(GuardError);
      expect(err.message).toMatch(/the router rebooted during the guard window .*and its boot hook restored the previous config before the firewall started: the router holds offload off again/);
      expect(sim.stats.crashes).toBe(1);
      expect(snapshotFiles(sim)).toEqual(oldFiles);
      expect(await runtimeOf(sim)).toBe(oldRuntime);
      expect((await run(sim, "nft list flowtables")).stdout).not.toContain("flags offload");
    } finally {
      sim.stopLoad();
      await sim.stop();
    }
  }, 60_000);
});

describe("openwrt-offload snapshots / rollback", () => {
  test("list the kept snapshots and roll the newest back from the command line; a stale lock is broken only on request", async () => {
    const sim = await startSimulatedRouter({ profile: "x86-64-23.05" });
    const openwrt = (command: string, extra: string[] = [], hostKey = sim.hostKeyFingerprint) => openwrtCli(sim, [command, ...extra], { hostKey });
    try {
      const connection = await connectionOf(sim);
      const oldFiles = snapshotFiles(sim);
      expect((await openwrt("snapshots")).stdout).toBe("no snapshots on this router\n");
      await firewallDefaultsProvider.create(await defaultsInputs(connection, { flowOffloadingHw: false }));
      const listed = await openwrt("snapshots");
      expect(listed.stdout).toMatch(/^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6} {2}FirewallDefaults: software offload {2}\[confirmed \d{4}-/);
      const listedJson = JSON.parse((await openwrt("snapshots", ["--json"])).stdout);
      expect(listedJson).toMatchObject({ schema: "openwrt-offload/snapshots", schemaVersion: 1, router: `root@127.0.0.1:${sim.port}`, snapshots: [{ description: "FirewallDefaults: software offload", restores: "offload off" }] });
      expect(new Date(listedJson.generatedAt).toISOString()).toBe(listedJson.generatedAt);
      const txid = listedJson.snapshots[0].txid as string;

      // A dry run says what would be put back, file by file, and changes nothing.
      const afterApply = snapshotFiles(sim);
      const dry = await openwrt("rollback", ["--dry-run"]);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toBe(
        `root@127.0.0.1:${sim.port}: would put back offload off (from before ${txid}: FirewallDefaults: software offload), then reload the firewall:\n` +
          "  restore /etc/config/firewall\nnothing was changed (--dry-run)\n",
      );
      const dryJson = JSON.parse((await openwrt("rollback", ["--dry-run", "--json"])).stdout);
      expect(dryJson).toMatchObject({
        schema: "openwrt-offload/rollback",
        schemaVersion: 1,
        dryRun: true,
        undoes: { txid, description: "FirewallDefaults: software offload" },
        putsBack: "offload off",
        entries: [{ kind: "f", path: "/etc/config/firewall" }],
        runningMode: null,
        heldBy: null,
      });
      expect(snapshotFiles(sim)).toEqual(afterApply);
      expect((await openwrt("rollback", ["--dry-run", "--break-stale"])).stderr).toMatch(/option '--dry-run' cannot be used with option '--break-stale'/);

      const rolled = await openwrt("rollback");
      expect(rolled).toMatchObject({ code: 0, stdout: expect.stringMatching(/^root@127\.0\.0\.1:\d+: put back offload off \(from before .*: FirewallDefaults: software offload\); the firewall was reloaded\n$/) });
      expect(snapshotFiles(sim)).toEqual(oldFiles);

      // A lock whose deadline passed long ago (its timer died: the holder applied nothing yet): only --break-stale clears it.
      const d = "/etc/offload-guard/tx/20260101T000000.000Z-000000";
      await run(sim, `mkdir -p ${d} && echo 1 > ${d}/deadline && echo locked > ${d}/phase && echo '#!/bin/sh' > ${d}/hook && chmod 755 ${d}/hook && ln -s ../offload-guard/tx/20260101T000000.000Z-000000/hook /etc/rc.d/S11offload-guard`);
      // A dry run says so too: the rollback it describes would be refused now.
      const heldDry = await openwrt("rollback", ["--dry-run"]);
      expect(heldDry.stdout).toContain(
        "but another change holds this router now (20260101T000000.000Z-000000, waiting for confirmation until 1970-01-01T00:00:01.000Z): a rollback now would be refused\nnothing was changed (--dry-run)\n",
      );
      expect(JSON.parse((await openwrt("rollback", ["--dry-run", "--json"])).stdout).heldBy).toEqual({ txid: "20260101T000000.000Z-000000", description: "", pendingUntil: "1970-01-01T00:00:01.000Z" });
      const held = await openwrt("rollback");
      expect(held.code).toBe(1);
      expect(held.stderr).toMatch(/another change holds this router \(20260101T000000.000Z-000000, waiting for confirmation until 1970-01-01T00:00:01.000Z\)/);
      const broke = await openwrt("rollback", ["--break-stale"]);
      expect(broke.stdout).toMatch(/broke 20260101T000000.000Z-000000 \(aborted stale \d+\)/);
      expect(broke.code).toBe(0);

      const wrongKey = await openwrt("snapshots", [], "SHA256:" + "B".repeat(43));
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.stderr).toMatch(/host key/i);
    } finally {
      await getPool().closeAll();
      await sim.stop();
    }
  }, 60_000);
});
