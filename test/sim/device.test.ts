import { startSimulatedRouter, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { readFacts } from "../../provider/device/facts";
import { applyOffload, OverlayFullError, RuntimeVerificationError } from "../../provider/device/apply";
import { routerShell } from "../../provider/device/shell";
import { ForeignChangesError } from "../../provider/device/uci";
import { runningMode } from "../../provider/device/offload";
import { ConnectionLostError, getPool, HostKeyMismatchError } from "../../provider/transport";
import { optionsFor, snapshotFiles } from "../helpers/router-files";
import { run } from "../helpers/sim-client";

afterAll(() => getPool().closeAll());

describe.each([
  ["ath79-21.02", { firewall: "fw3", packageManager: "opkg", kernel: /^5\.4\./, hw: false }],
  ["ipq40xx-22.03", { firewall: "fw4", packageManager: "opkg", kernel: /^5\.10\./, hw: false }],
  ["x86-64-23.05", { firewall: "fw4", packageManager: "opkg", kernel: /^5\.15\./, hw: false }],
  ["mt7621-23.05", { firewall: "fw4", packageManager: "opkg", kernel: /^5\.15\./, hw: true }],
  ["mt7621-24.10", { firewall: "fw4", packageManager: "opkg", kernel: /^6\.6\./, hw: true }],
  ["filogic-25.12", { firewall: "fw4", packageManager: "apk", kernel: /^6\.12\./, hw: true }],
])("facts of %s", (profile, expected) => {
  let router: SimulatedRouter;
  beforeAll(async () => {
    router = await startSimulatedRouter({ profile });
  });
  afterAll(() => router.stop());

  test("are read in one exec over one handshake and match the profile", async () => {
    const options = optionsFor(router);
    const before = getPool().counters.snapshot(options.router);
    const facts = await readFacts(routerShell(options));
    const after = getPool().counters.snapshot(options.router);
    expect(after.execs - before.execs).toBe(1);
    expect(after.handshakes - before.handshakes).toBeLessThanOrEqual(1);
    expect(router.stats.execs).toBeGreaterThan(0);

    expect(facts.firewall).toBe(expected.firewall);
    expect(facts.packageManager).toBe(expected.packageManager);
    expect(facts.kernel).toMatch(expected.kernel);
    expect(facts.kernel).toBe(router.profile.kernel);
    expect(facts.release.version).toBe(router.profile.release.version);
    expect(facts.target).toBe(router.profile.release.target);
    expect(facts.boardName).toBe(router.profile.board.boardName);
    expect(facts.hwOffloadCapable).toBe(expected.hw);
    expect(facts.kernelSupported).toBe(true);
    expect(facts.zones.map((z) => z.name)).toEqual(["lan", "wan"]);
    expect(facts.zones.find((z) => z.name === "wan")!.devices.length).toBeGreaterThan(0);
    expect(facts.stagedChanges).toEqual({});
    expect(facts.overlay!.availKiB).toBeGreaterThan(0);
    expect(facts.offload.config).toEqual({ flowOffloading: false, flowOffloadingHw: false, raw: {} });
    expect(facts.offload.runtime.firewallRunning).toBe(true);
    expect(runningMode(facts)).toBe("off");
    const installed = router.profile.packages.map((p) => p.name);
    for (const name of ["kmod-nft-offload", "kmod-nf-flow", "kmod-ipt-offload"]) {
      expect(name in facts.packages).toBe(installed.includes(name));
    }
  });
});

describe("applying offload over SSH", () => {
  let router: SimulatedRouter;
  beforeEach(async () => {
    router = await startSimulatedRouter({ profile: "mt7621-23.05" });
  });
  afterEach(() => router.stop());

  test("software then hardware offload; the same intent again stages nothing", async () => {
    const shell = routerShell(optionsFor(router));
    const first = await applyOffload(shell, { flowOffloading: true, flowOffloadingHw: false });
    expect(first.changed).toBe(true);
    expect(runningMode(first.facts)).toBe("software");
    expect((await run(router, "uci get firewall.@defaults[0].flow_offloading")).stdout).toBe("1\n");

    const hw = await applyOffload(shell, { flowOffloading: true, flowOffloadingHw: true });
    expect(runningMode(hw.facts)).toBe("hardware");
    const flowtable = hw.facts.offload.runtime.flowtables.find((f) => f.name === "ft")!;
    expect(flowtable.hwOffload).toBe(true);

    const files = snapshotFiles(router);
    const execsBefore = router.stats.execs;
    const again = await applyOffload(shell, { flowOffloading: true, flowOffloadingHw: true });
    expect(again.changed).toBe(false);
    expect(router.stats.execs - execsBefore).toBe(1);
    expect(snapshotFiles(router)).toEqual(files);
  });

  test("someone else's staged changes: refused, nothing touched", async () => {
    await run(router, "uci set firewall.@zone[0].input=REJECT");
    const files = snapshotFiles(router);
    const err = await applyOffload(routerShell(optionsFor(router)), { flowOffloading: true, flowOffloadingHw: false }).catch((e) => e);
    expect(err).toBeInstanceOf(ForeignChangesError);
    expect(err.message).toMatch(/staged uncommitted changes to uci package "firewall".*input='REJECT'/);
    expect(snapshotFiles(router)).toEqual(files);
  });

  test("a full overlay: refused before any write", async () => {
    router.setFaults({ overlayFull: true });
    const files = snapshotFiles(router);
    const err = await applyOffload(routerShell(optionsFor(router)), { flowOffloading: true, flowOffloadingHw: false }).catch((e) => e);
    expect(err).toBeInstanceOf(OverlayFullError);
    expect(err.message).toMatch(/KiB free on the overlay.*Nothing was changed/);
    expect(snapshotFiles(router)).toEqual(files);
  });

  test("the link drops while validating: the router is left exactly as it was", async () => {
    const files = snapshotFiles(router);
    router.setFaults({ dropConnection: { matching: "uci batch" } });
    const err = await applyOffload(routerShell(optionsFor(router)), { flowOffloading: true, flowOffloadingHw: false }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect(err.message).toMatch(/unknown/);
    expect(snapshotFiles(router)).toEqual(files);
  });

  test("the link drops during the commit: the router ends fully changed, never half", async () => {
    const before = snapshotFiles(router);
    router.setFaults({ dropConnection: { matching: "uci commit" } });
    const err = await applyOffload(routerShell(optionsFor(router)), { flowOffloading: true, flowOffloadingHw: false }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionLostError);
    const after = snapshotFiles(router);
    expect(after["/etc/config/firewall"]).not.toBe(before["/etc/config/firewall"]);
    expect(after["/etc/config/firewall"]).toMatch(/option flow_offloading '1'/);
    expect(Object.keys(after).filter((f) => f.startsWith("/tmp/.uci/"))).toEqual([]);
    const facts = await readFacts(routerShell(optionsFor(router)));
    expect(runningMode(facts)).toBe("software");
  });

  test("a router presenting another host key: refused with both fingerprints, nothing touched", async () => {
    router.setFaults({ hostKeyChanged: true });
    const files = snapshotFiles(router);
    const err = await applyOffload(routerShell(optionsFor(router)), { flowOffloading: true, flowOffloadingHw: false }).catch((e) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect(err.message).toContain(router.hostKeyFingerprint);
    expect(err.message).toMatch(/SHA256:[A-Za-z0-9+/]{43}.*SHA256:[A-Za-z0-9+/]{43}/s);
    expect(snapshotFiles(router)).toEqual(files);
  });
});

describe("hardware fallback and fw3", () => {
  test("x86: hardware asked, fw4 falls back to software, and that is detected from the kernel", async () => {
    const router = await startSimulatedRouter({ profile: "x86-64-23.05" });
    try {
      const err = await applyOffload(routerShell(optionsFor(router)), { flowOffloading: true, flowOffloadingHw: true }).catch((e) => e);
      expect(err).toBeInstanceOf(RuntimeVerificationError);
      expect(err.message).toMatch(/fell back/);
      const facts = await readFacts(routerShell(optionsFor(router)));
      expect(facts.offload.config.flowOffloadingHw).toBe(true);
      expect(runningMode(facts)).toBe("software");
    } finally {
      await router.stop();
    }
  });

  test("fw3 (21.02): the same options, evidence from the iptables FLOWOFFLOAD rule", async () => {
    const router = await startSimulatedRouter({ profile: "ath79-21.02" });
    try {
      const result = await applyOffload(routerShell(optionsFor(router)), { flowOffloading: true, flowOffloadingHw: false });
      expect(runningMode(result.facts)).toBe("software");
      expect((await run(router, "iptables -S FORWARD")).stdout).toMatch(/-j FLOWOFFLOAD/);
    } finally {
      await router.stop();
    }
  });
});
