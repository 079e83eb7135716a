import { startSimulatedRouter, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { routerProvider, type RouterOutputs } from "../../provider/resources/router";
import { firewallDefaultsProvider, type FirewallDefaultsOutputs } from "../../provider/resources/firewall-defaults";
import { flowtableProvider, type FlowtableOutputs } from "../../provider/resources/flowtable";
import { GuardBusyError, GuardError, listSnapshots, restoreSnapshot } from "../../provider/guard";
import { OverlayFullError } from "../../provider/device/apply";
import { routerShell } from "../../provider/device/shell";
import { getPool } from "../../provider/transport";
import { optionsFor, snapshotFiles } from "../helpers/router-files";
import { run } from "../helpers/sim-client";

/**
 * The guard under each fault the issue names. After every test the router's /etc/config, include
 * files, init scripts and runtime state equal either the old or the new state exactly, never a mix.
 */
afterAll(() => getPool().closeAll());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectionOf(sim: SimulatedRouter): Promise<RouterOutputs["connection"]> {
  const { inputs } = await routerProvider.check({}, { host: sim.host, port: sim.port, privateKey: sim.privateKey, hostKey: sim.hostKeyFingerprint });
  return (await routerProvider.create(inputs as never)).outs.connection;
}

async function defaultsInputs(connection: RouterOutputs["connection"], extra: Record<string, unknown>): Promise<FirewallDefaultsOutputs> {
  const { inputs, failures } = await firewallDefaultsProvider.check({}, { connection, flowOffloading: true, flowOffloadingHw: true, ...extra });
  expect(failures).toEqual([]);
  return inputs as unknown as FirewallDefaultsOutputs;
}

/** Kernel state as a script sees it, to compare "old" with "after". */
async function runtimeOf(sim: SimulatedRouter): Promise<string> {
  return (await run(sim, "nft list flowtables; uci changes; ls /etc/rc.d")).stdout;
}

describe("guarded apply", () => {
  let sim: SimulatedRouter;
  let connection: RouterOutputs["connection"];
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

  test("a good change is confirmed: no boot hook left, one snapshot kept", async () => {
    await firewallDefaultsProvider.create(await defaultsInputs(connection, {}));
    const files = snapshotFiles(sim);
    expect(files["/etc/config/firewall"]).toMatch(/option flow_offloading_hw '1'/);
    expect(Object.keys(files).filter((f) => f.includes("offload-guard"))).toEqual([]);
    const snaps = await listSnapshots(routerShell(optionsFor(sim)));
    expect(snaps).toEqual([{ txid: expect.stringMatching(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/), description: "FirewallDefaults: hardware offload", result: expect.stringMatching(/^confirmed \d+$/) }]);
  });

  test("the link drops right after the commit: the router restores itself at the deadline, a following up converges", async () => {
    sim.setFaults({ dropConnection: { matching: "guard.sh arm" } });
    const inputs = await defaultsInputs(connection, { confirmTimeoutSeconds: 2 });
    const err = await firewallDefaultsProvider.create(inputs).catch((e) => e);
    expect(err).toBeInstanceOf(GuardError);
    expect(err.message).toMatch(/lost the connection while applying FirewallDefaults: hardware offload.*restores the previous config by itself within 2 s/);
    // Meanwhile the new config is live and a boot hook is armed.
    expect(snapshotFiles(sim)["/etc/config/firewall"]).toMatch(/flow_offloading_hw '1'/);
    expect(snapshotFiles(sim)["/etc/rc.d/S11offload-guard"]).toBe("-> ../init.d/offload-guard");
    await sleep(3500);
    expect(snapshotFiles(sim)).toEqual(oldFiles);
    expect(await runtimeOf(sim)).toBe(oldRuntime);

    const again = await firewallDefaultsProvider.create(inputs);
    expect(again.outs.runtime.mode).toBe("hardware");
  }, 30_000);

  test("the firewall reload fails: restored at once, and the error says what was checked and what failed", async () => {
    sim.setFaults({ failNextFirewallReload: true });
    const err = await firewallDefaultsProvider.create(await defaultsInputs(connection, {})).catch((e) => e);
    expect(err).toBeInstanceOf(GuardError);
    expect(err.message).toMatch(/did not pass verification, so it was restored to its previous config \(files verified identical/);
    expect(err.message).toMatch(/Checked: the kernel runs hardware offload.*Failed: hardware offload was requested but no flowtable/);
    expect(err.message).toMatch(/the router said: .*Device or resource busy/);
    expect(snapshotFiles(sim)).toEqual(oldFiles);
    expect(await runtimeOf(sim)).toBe(oldRuntime);
  });

  test("a failing health check: restored, the error names the check", async () => {
    const inputs = await defaultsInputs(connection, { healthChecks: [{ name: "ping LAN server", command: "ping -c 1 -W 1 192.168.1.250" }] });
    const err = await firewallDefaultsProvider.create(inputs).catch((e) => e);
    expect(err).toBeInstanceOf(GuardError);
    expect(err.message).toMatch(/Failed: health check "ping LAN server" failed \(exit 1/);
    expect(snapshotFiles(sim)).toEqual(oldFiles);
    expect(await runtimeOf(sim)).toBe(oldRuntime);
  });

  test("a full overlay: refused before any change", async () => {
    sim.setFaults({ overlayFull: true });
    const err = await firewallDefaultsProvider.create(await defaultsInputs(connection, {})).catch((e) => e);
    expect(err).toBeInstanceOf(OverlayFullError);
    expect(snapshotFiles(sim)).toEqual(oldFiles);
    expect(await runtimeOf(sim)).toBe(oldRuntime);
  });

  test("two concurrent writes to one router are serialized, never mixed", async () => {
    const create = async (name: string, device: string) => {
      const { inputs } = await flowtableProvider.check({}, { connection, name, devices: [device] });
      return flowtableProvider.create(inputs as unknown as FlowtableOutputs);
    };
    const [a, b] = await Promise.all([create("left", "lan3"), create("right", "lan4")]);
    expect(a.outs.live).toMatchObject({ devices: ["lan3"] });
    expect(b.outs.live).toMatchObject({ devices: ["lan4"] });
    const snaps = await listSnapshots(routerShell(optionsFor(sim)));
    expect(snaps.map((s) => [s.description, s.result.split(" ")[0]]).sort()).toEqual([
      ["Flowtable left", "confirmed"],
      ["Flowtable right", "confirmed"],
    ]);
    // Each window saw the other's finished state, never a half: the later snapshot holds the earlier flowtable's file.
    const log = (await run(sim, "cat /etc/offload-guard/log")).stdout.split("\n").map((l) => l.replace(/^\d+ /, "").split(" ")[0]);
    expect(log.filter(Boolean)).toEqual(["armed", "confirmed", "armed", "confirmed"]);
  });

  test("a window held by another process: refused clearly, nothing changed", async () => {
    await run(sim, "mkdir -p /etc/offload-guard && mkdir /etc/offload-guard/pending && echo other-tx > /etc/offload-guard/pending/txid");
    const before = snapshotFiles(sim);
    await firewallDefaultsProvider.create(await defaultsInputs(connection, {})).catch((e) => {
      expect(e).toBeInstanceOf(GuardBusyError);
      expect(e.message).toMatch(/another guarded change \(other-tx\) is waiting for confirmation.*Nothing was changed/);
    });
    expect(snapshotFiles(sim)).toEqual(before);
  });

  test("rollback to a kept snapshot puts the earlier config back", async () => {
    await firewallDefaultsProvider.create(await defaultsInputs(connection, {}));
    const shell = routerShell(optionsFor(sim));
    const [snap] = await listSnapshots(shell);
    expect(await restoreSnapshot(shell, snap.txid)).toBe(`restored ${snap.txid}`);
    expect(snapshotFiles(sim)).toEqual(oldFiles);
    expect(await runtimeOf(sim)).toBe(oldRuntime);
    expect((await listSnapshots(shell))[0].result).toMatch(/^restored manual \d+$/);
  });
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
      expect(err.message).toMatch(/it rebooted during the guard window and its boot hook restored the previous config/);
      expect(sim.stats.boots).toBe(2);
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
  test("list the kept snapshots and roll the newest back from the command line", async () => {
    const { execFile } = await import("child_process");
    const fs = await import("fs");
    const path = await import("path");
    const os = await import("os");
    const cli = path.join(__dirname, "../../dist/cli/main.js");
    const sim = await startSimulatedRouter({ profile: "x86-64-23.05" });
    const keyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cli-key-")), "id");
    fs.writeFileSync(keyFile, sim.privateKey, { mode: 0o600 });
    const openwrt = (command: string, hostKey = sim.hostKeyFingerprint) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [cli, command, "--router", `127.0.0.1:${sim.port}`, "--identity", keyFile, "--host-key", hostKey], (err, stdout, stderr) =>
          resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr }),
        ),
      );
    try {
      const connection = await connectionOf(sim);
      const oldFiles = snapshotFiles(sim);
      expect((await openwrt("snapshots")).stdout).toBe("no snapshots on this router\n");
      await firewallDefaultsProvider.create(await defaultsInputs(connection, { flowOffloadingHw: false }));
      const listed = await openwrt("snapshots");
      expect(listed.stdout).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6} {2}FirewallDefaults: software offload {2}\[confirmed \d{4}-/);
      const rolled = await openwrt("rollback");
      expect(rolled).toMatchObject({ code: 0, stdout: expect.stringMatching(/^restored .* \(FirewallDefaults: software offload\) on root@127\.0\.0\.1:\d+; the firewall was reloaded\n$/) });
      expect(snapshotFiles(sim)).toEqual(oldFiles);
      const again = await openwrt("rollback");
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/nothing to roll back/);
      const wrongKey = await openwrt("snapshots", "SHA256:" + "B".repeat(43));
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.stderr).toMatch(/host key/i);
    } finally {
      await sim.stop();
    }
  }, 60_000);
});
