import { startSimulatedRouter, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { readFacts } from "../../provider/device/facts";
import { routerShell } from "../../provider/device/shell";
import { runningMode } from "../../provider/device/offload";
import { getPool } from "../../provider/transport";
import { optionsFor } from "../helpers/router-files";

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
