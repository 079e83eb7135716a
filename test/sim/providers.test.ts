import { startSimulatedRouter, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { routerProvider, type RouterOutputs } from "../../provider/resources/router";
import { firewallDefaultsProvider, type FirewallDefaultsOutputs } from "../../provider/resources/firewall-defaults";
import { flowtableProvider, type FlowtableOutputs } from "../../provider/resources/flowtable";
import { offloadPackagesProvider, type OffloadPackagesOutputs } from "../../provider/resources/offload-packages";
import { deviceOffloadProvider, type DeviceOffloadOutputs } from "../../provider/resources/device-offload";
import { getPool } from "../../provider/transport";
import { snapshotFiles } from "../helpers/router-files";
import { run } from "../helpers/sim-client";
import { newRun } from "../helpers/providers";

afterAll(() => getPool().closeAll());

type Checkable = { check(o: unknown, n: Record<string, unknown>): Promise<{ inputs: unknown; failures: { property: string; reason: string }[] }> };

/** Runs check like the plugin does and fails the test on validation failures. */
async function checked<T>(provider: Checkable, news: Record<string, unknown>): Promise<T> {
  const { inputs, failures } = await provider.check({}, news);
  expect(failures).toEqual([]);
  return inputs as T;
}

/**
 * A change the router refuses: refused already at check (the preview), and with the very same
 * message by create (an up that skipped the preview). Returns that message.
 */
async function refusedAtPreviewAndUp(provider: Checkable & { create(i: never): Promise<unknown> }, news: Record<string, unknown>, property: string): Promise<string> {
  const { inputs, failures } = await provider.check({}, news);
  expect(failures).toEqual([{ property, reason: expect.stringMatching(/refusing to change anything: /) }]);
  const up = await provider.create(inputs as never).then(
    () => new Error("create went through"),
    (e: Error) => e,
  );
  expect(up.message).toBe(failures[0].reason);
  return up.message;
}

async function routerOf(sim: SimulatedRouter): Promise<RouterOutputs> {
  const inputs = await checked<RouterOutputs>(routerProvider, { host: sim.host, port: sim.port, privateKey: sim.privateKey, hostKey: sim.hostKeyFingerprint });
  return (await routerProvider.create(inputs)).outs;
}

describe("Router", () => {
  let sim: SimulatedRouter;
  beforeAll(async () => {
    sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
  });
  afterAll(() => sim.stop());

  test("create pins the host key and outputs facts plus a @pulumi/command-shaped connection", async () => {
    const out = await routerOf(sim);
    expect(out.hostKeyFingerprint).toBe(sim.hostKeyFingerprint);
    expect(out.connection).toEqual({ host: "127.0.0.1", port: sim.port, user: "root", privateKey: sim.privateKey, hostKey: expect.stringMatching(/^ssh-ed25519 AAAA/) });
    expect(out).toMatchObject({ target: "ramips/mt7621", firewall: "fw4", packageManager: "opkg", hwOffloadCapable: true, kernel: sim.profile.kernel, drift: [] });
  });

  test("trustOnFirstUse records the key it saw, later operations pin it", async () => {
    const inputs = await checked<RouterOutputs>(routerProvider, { host: sim.host, port: sim.port, privateKey: sim.privateKey, trustOnFirstUse: true });
    const out = (await routerProvider.create(inputs)).outs;
    expect(out.hostKeyFingerprint).toBe(sim.hostKeyFingerprint);
    sim.setFaults({ hostKeyChanged: true });
    await getPool().closeAll();
    await expect(routerProvider.read("id", out)).rejects.toThrow(/host key/i);
    sim.setFaults({});
  });

  test("refresh reports firmware-changed when the router was flashed", async () => {
    const out = await routerOf(sim);
    expect(((await routerProvider.read("id", out)).props as RouterOutputs).drift).toEqual([]);
    await run(sim, "sed -i \"s/^DISTRIB_REVISION=.*/DISTRIB_REVISION='r24106-10cc5fcd00'/\" /etc/openwrt_release");
    const flashed = (await routerProvider.read("id", out)).props as RouterOutputs;
    expect(flashed.drift).toEqual(["firmware-changed"]);
    expect(flashed.release.revision).toBe("r24106-10cc5fcd00");
    expect((await routerProvider.diff("id", flashed, out)).changes).toBe(true);
  });

  test("check names the field and the fix, and never echoes secrets", async () => {
    const { failures } = await routerProvider.check({}, { host: sim.host, password: "hunter2-secret" });
    expect(failures).toEqual([{ property: "hostKey", reason: expect.stringMatching(/host-key mode is required.*trustOnFirstUse/) }]);
    expect(JSON.stringify(failures)).not.toContain("hunter2-secret");
  });

  test("diff: host/port/user replace, credentials update, nothing else changes", async () => {
    const out = await routerOf(sim);
    expect(await routerProvider.diff("id", out, { ...out, host: "127.0.0.2" })).toMatchObject({ changes: true, replaces: ["host"] });
    expect(await routerProvider.diff("id", out, { ...out, password: "new" })).toMatchObject({ changes: true, replaces: [] });
    expect(await routerProvider.diff("id", out, { ...out })).toMatchObject({ changes: false, replaces: [] });
  });
});

describe("FirewallDefaults", () => {
  let sim: SimulatedRouter;
  let connection: RouterOutputs["connection"];
  beforeEach(async () => {
    sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
    connection = (await routerOf(sim)).connection;
  });
  afterEach(() => sim.stop());

  test("create adopts the defaults section, update changes it, delete restores the originals exactly", async () => {
    await run(sim, "uci set firewall.@defaults[0].flow_offloading=yes; uci commit firewall; fw4 reload");
    await newRun();
    const original = snapshotFiles(sim)["/etc/config/firewall"];
    const inputs = await checked<FirewallDefaultsOutputs>(firewallDefaultsProvider, { connection, flowOffloading: true, flowOffloadingHw: false });
    const created = await firewallDefaultsProvider.create(inputs);
    expect(created.id).toBe(`root@127.0.0.1:${sim.port}/firewall/defaults`);
    // "yes" already means on for fw4: compare-before-set leaves it alone.
    expect(created.outs.original).toEqual({ flow_offloading: "yes" });
    expect(snapshotFiles(sim)["/etc/config/firewall"]).toBe(original);
    expect(created.outs.runtime.mode).toBe("software");

    const hwInputs = await checked<FirewallDefaultsOutputs>(firewallDefaultsProvider, { connection, flowOffloading: true, flowOffloadingHw: true });
    expect((await firewallDefaultsProvider.diff(created.id, created.outs, hwInputs)).changes).toBe(true);
    const updated = (await firewallDefaultsProvider.update(created.id, created.outs, hwInputs)).outs;
    expect(updated.runtime).toMatchObject({ mode: "hardware", flowtable: { hwOffload: true } });
    expect(updated.original).toEqual({ flow_offloading: "yes" });
    // The next preview's check reads the router again: nothing left to do, no change.
    const again = await checked<FirewallDefaultsOutputs>(firewallDefaultsProvider, { connection, flowOffloading: true, flowOffloadingHw: true });
    expect(again.planned).toEqual([]);
    expect((await firewallDefaultsProvider.diff(created.id, updated, again)).changes).toBe(false);

    await firewallDefaultsProvider.delete(created.id, updated);
    expect(snapshotFiles(sim)["/etc/config/firewall"]).toMatch(/option flow_offloading 'yes'/);
    expect(snapshotFiles(sim)["/etc/config/firewall"]).not.toMatch(/flow_offloading_hw/);
    expect((await run(sim, "nft list flowtables")).stdout).not.toContain("flags offload");
  });

  test("refresh classifies drift: local-edit, pending-changes, runtime-fallback", async () => {
    const inputs = await checked<FirewallDefaultsOutputs>(firewallDefaultsProvider, { connection, flowOffloading: true, flowOffloadingHw: true });
    const { id, outs } = await firewallDefaultsProvider.create(inputs);
    const refresh = async () => (await firewallDefaultsProvider.read(id, outs)).props as FirewallDefaultsOutputs;
    expect((await refresh()).drift).toEqual([]);

    // A LuCI-style edit: hardware offload unticked (LuCI deletes the option).
    await run(sim, "uci delete firewall.@defaults[0].flow_offloading_hw; uci commit firewall; fw4 reload");
    let live = await refresh();
    expect(live.drift.map((d) => d.class)).toEqual(["local-edit"]);
    expect(live.flowOffloadingHw).toBe(false);
    expect((await firewallDefaultsProvider.diff(id, live, inputs)).changes).toBe(true);

    // Config says hardware, the kernel runs software: no port accepts offload any more, fw4 falls back.
    const ports = "lan1 lan2 lan3 lan4 wan";
    await run(sim, `uci set firewall.@defaults[0].flow_offloading_hw=1; uci commit firewall; for d in ${ports}; do ethtool -K $d hw-tc-offload off; done; fw4 reload`);
    live = await refresh();
    expect(live.drift.map((d) => d.class)).toEqual(["runtime-fallback"]);
    expect(live.runtime.mode).toBe("software");

    await run(sim, `for d in ${ports}; do ethtool -K $d hw-tc-offload on; done; fw4 reload; uci set firewall.@zone[0].input=DROP`);
    live = await refresh();
    expect(live.drift.map((d) => d.class)).toEqual(["pending-changes"]);
  });

  test("preflight refusals happen before any write", async () => {
    const x86 = await startSimulatedRouter({ profile: "x86-64-23.05" });
    try {
      const conn = (await routerOf(x86)).connection;
      const before = snapshotFiles(x86);
      const message = await refusedAtPreviewAndUp(firewallDefaultsProvider, { connection: conn, flowOffloading: true, flowOffloadingHw: true }, "flowOffloadingHw");
      expect(message).toMatch(/hardware offload was requested but target x86\/64 has no flow engine.*set flowOffloadingHw: false/);
      expect(snapshotFiles(x86)).toEqual(before);
    } finally {
      await x86.stop();
    }
  });

  test("check: field-level messages; unknown values in preview pass through", async () => {
    const { failures } = await firewallDefaultsProvider.check({}, { connection, flowOffloading: false, flowOffloadingHw: true, sqmPolicy: "sometimes" });
    expect(failures.map((f) => f.property).sort()).toEqual(["sqmPolicy"]);
    const both = await firewallDefaultsProvider.check({}, { connection, flowOffloading: false, flowOffloadingHw: true });
    expect(both.failures).toEqual([{ property: "flowOffloadingHw", reason: expect.stringMatching(/needs flowOffloading: true/) }]);
    const preview = await firewallDefaultsProvider.check({}, { connection: "04da6b54-80e4-46f7-96ec-b56ff0331ba9", flowOffloading: true });
    expect(preview.failures).toEqual([]);
  });
});

describe("Flowtable", () => {
  let sim: SimulatedRouter;
  let connection: RouterOutputs["connection"];
  beforeAll(async () => {
    sim = await startSimulatedRouter({ profile: "mt7621-24.10" });
    connection = (await routerOf(sim)).connection;
  });
  afterAll(() => sim.stop());

  test("create writes fw4 includes and verifies the live flowtable; read sees edits; delete removes it cleanly", async () => {
    const before = snapshotFiles(sim);
    const inputs = await checked<FlowtableOutputs>(flowtableProvider, {
      connection,
      name: "lanwan",
      devices: ["lan1", "wan"],
      hardware: true,
      forwardRule: { inputInterfaces: ["br-lan"] },
    });
    const { id, outs } = await flowtableProvider.create(inputs);
    expect(outs.live).toMatchObject({ name: "lanwan", devices: ["lan1", "wan"], hwOffload: true, counter: true, forwardRule: true });
    expect((await run(sim, "nft list chain inet fw4 forward")).stdout).toContain('meta l4proto { tcp, udp } iifname "br-lan" flow add @lanwan');

    expect(((await flowtableProvider.read(id, outs)).props as FlowtableOutputs).drift).toEqual([]);
    // The kernel takes a redeclared flowtable's flags as given (checked on a real kernel, test/vm): the edit
    // turns the counter off in the file and the kernel alike; one cause, one class.
    await run(sim, "sed -i 's/counter;//' /etc/nftables.d/60-offload-lanwan.nft; fw4 reload");
    const edited = (await flowtableProvider.read(id, outs)).props as FlowtableOutputs;
    expect(edited.drift).toEqual([{ class: "local-edit", detail: "the include files differ from what this resource wrote: edited on the router (uci, LuCI or by hand)" }]);
    expect(edited.live?.counter).toBe(false);
    expect((await flowtableProvider.diff(id, edited, inputs)).changes).toBe(true);
    await flowtableProvider.update(id, edited, inputs);

    // Changing flags needs the flowtable deleted first; the update does that.
    const software = { ...inputs, hardware: false };
    const changed = (await flowtableProvider.update(id, outs, software)).outs;
    expect(changed.live).toMatchObject({ hwOffload: false, counter: true, forwardRule: true });

    await flowtableProvider.delete(id, outs);
    expect(snapshotFiles(sim)).toEqual(before);
    expect((await run(sim, "nft list flowtables")).stdout).not.toContain("lanwan");
    expect(await flowtableProvider.read(id, outs)).toEqual({ id: "" });
  });

  test("refusals: unknown device, reserved name", async () => {
    expect(await refusedAtPreviewAndUp(flowtableProvider, { connection, name: "x", devices: ["eth9"] }, "devices")).toMatch(/no such device\(s\): eth9 \(the router has/);
    const { failures } = await flowtableProvider.check({}, { connection, name: "ft", devices: ["wan"] });
    expect(failures).toEqual([{ property: "name", reason: expect.stringMatching(/firewall4's own flowtable/) }]);
  });
});

describe("OffloadPackages", () => {
  test("installs what is missing (modules load), reads drift, removes only what it installed", async () => {
    const sim = await startSimulatedRouter({ profile: "ipq40xx-22.03" });
    try {
      const connection = (await routerOf(sim)).connection;
      expect(await refusedAtPreviewAndUp(firewallDefaultsProvider, { connection, flowOffloading: true }, "flowOffloading")).toMatch(/kmod-nft-offload is not installed.*OffloadPackages/);

      const inputs = await checked<OffloadPackagesOutputs>(offloadPackagesProvider, { connection, removeOnDelete: true });
      expect(inputs.packages).toEqual(["kmod-nft-offload"]);
      const { id, outs } = await offloadPackagesProvider.create(inputs);
      expect(id).toBe(`root@127.0.0.1:${sim.port}/packages`);
      expect(outs.installedByUs).toEqual(["kmod-nft-offload"]);
      expect(outs.installed["kmod-nft-offload"]).toMatch(/^5\.10\./);
      expect(outs.modules).toEqual(expect.arrayContaining(["nf_flow_table", "nf_flow_table_inet", "nft_flow_offload"]));
      const fw = await checked<FirewallDefaultsOutputs>(firewallDefaultsProvider, { connection, flowOffloading: true });
      expect((await firewallDefaultsProvider.create(fw)).outs.runtime.mode).toBe("software");

      await run(sim, "opkg remove --force-depends kmod-nft-offload");
      const refreshed = (await offloadPackagesProvider.read(id, outs)).props as OffloadPackagesOutputs;
      expect(refreshed.drift).toEqual([{ class: "missing-package", detail: "kmod-nft-offload is not installed" }]);

      await offloadPackagesProvider.update(id, refreshed, inputs);
      await offloadPackagesProvider.delete(id, outs);
      expect((await run(sim, "opkg list-installed kmod-nft-offload")).stdout).toBe("");
    } finally {
      await sim.stop();
    }
  });

  test("refuses when the overlay is below the margin, before installing anything", async () => {
    const sim = await startSimulatedRouter({ profile: "ath79-21.02" });
    try {
      const connection = (await routerOf(sim)).connection;
      const message = await refusedAtPreviewAndUp(offloadPackagesProvider, { connection, packages: ["iperf3"], minFreeKiB: 100_000 }, "minFreeKiB");
      expect(message).toMatch(/KiB free on the overlay, below minFreeKiB \(100000 KiB\)/);
      expect((await run(sim, "opkg list-installed iperf3")).stdout).toBe("");
    } finally {
      await sim.stop();
    }
  });
});

describe("DeviceOffload", () => {
  test("sets hw-tc-offload now and at every boot; delete restores the driver default", async () => {
    const sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
    try {
      const connection = (await routerOf(sim)).connection;
      const inputs = await checked<DeviceOffloadOutputs>(deviceOffloadProvider, { connection, devices: ["wan", "lan1"], hwTcOffload: false });
      const { id, outs } = await deviceOffloadProvider.create(inputs);
      expect(outs.original).toEqual({ wan: true, lan1: true });
      expect(outs.live).toEqual({ wan: false, lan1: false });
      expect((await run(sim, "ethtool -k wan | grep hw-tc")).stdout).toBe("hw-tc-offload: off\n");

      await sim.reboot();
      expect((await run(sim, "ethtool -k lan1 | grep hw-tc")).stdout).toBe("hw-tc-offload: off\n");
      expect(((await deviceOffloadProvider.read(id, outs)).props as DeviceOffloadOutputs).drift).toEqual([]);

      await run(sim, "ethtool -K wan hw-tc-offload on");
      const drifted = (await deviceOffloadProvider.read(id, outs)).props as DeviceOffloadOutputs;
      expect(drifted.drift.map((d) => d.class)).toEqual(["runtime-mismatch"]);

      const files = snapshotFiles(sim);
      await deviceOffloadProvider.delete(id, outs);
      expect((await run(sim, "ethtool -k wan | grep hw-tc; ethtool -k lan1 | grep hw-tc")).stdout).toBe("hw-tc-offload: on\nhw-tc-offload: on\n");
      expect(Object.keys(files).filter((f) => f.includes("offload-hwtc"))).toHaveLength(2);
      expect(Object.keys(snapshotFiles(sim)).filter((f) => f.includes("offload-hwtc"))).toEqual([]);
    } finally {
      await sim.stop();
    }
  });

  test("without ethtool on the image: a refusal that says how to fix it", async () => {
    const sim = await startSimulatedRouter({ profile: "x86-64-23.05" });
    try {
      const connection = (await routerOf(sim)).connection;
      expect(await refusedAtPreviewAndUp(deviceOffloadProvider, { connection, devices: ["eth1"], hwTcOffload: true }, "(router)")).toMatch(/ethtool is not installed.*packages: \["ethtool"\]/);
    } finally {
      await sim.stop();
    }
  });
});

describe("Flowtable next to fw4's own", () => {
  test("refuses devices that fw4's ft already binds, before writing anything", async () => {
    const sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
    try {
      const connection = (await routerOf(sim)).connection;
      await run(sim, "uci set firewall.@defaults[0].flow_offloading=1; uci commit firewall; fw4 reload");
      await newRun();
      const before = snapshotFiles(sim);
      expect(await refusedAtPreviewAndUp(flowtableProvider, { connection, name: "lanwan", devices: ["lan1", "wan"] }, "devices")).toMatch(/lan1 \(in ft\), wan \(in ft\) already is/);
      expect(snapshotFiles(sim)).toEqual(before);
    } finally {
      await sim.stop();
    }
  });
});

describe("Resource.get adopts what the router has (the engine's read with the program's arguments only)", () => {
  test("Router, FirewallDefaults and Flowtable", async () => {
    const sim = await startSimulatedRouter({ profile: "mt7621-24.10" });
    try {
      const args = { host: sim.host, port: sim.port, privateKey: sim.privateKey, hostKey: sim.hostKeyFingerprint };
      const router = (await routerProvider.read(`root@127.0.0.1:${sim.port}`, args as unknown as RouterOutputs)).props as RouterOutputs;
      expect(router).toMatchObject({ target: "ramips/mt7621", hostKeyFingerprint: sim.hostKeyFingerprint });

      await run(sim, "uci set firewall.@defaults[0].flow_offloading=1; uci commit firewall; fw4 reload");
      const id = `root@127.0.0.1:${sim.port}/firewall/defaults`;
      const defaults = (await firewallDefaultsProvider.read(id, { connection: router.connection })).props as FirewallDefaultsOutputs;
      expect(defaults).toMatchObject({ flowOffloading: true, flowOffloadingHw: false, declared: { flowOffloading: true, flowOffloadingHw: false }, original: { flow_offloading: "1" }, drift: [] });
      expect(defaults.runtime.mode).toBe("software");
      // Adopted as it is: the same intent from the program is no change.
      expect((await firewallDefaultsProvider.diff(id, defaults, { ...defaults, flowOffloading: true, flowOffloadingHw: false })).changes).toBe(false);

      await run(sim, "uci set firewall.@defaults[0].flow_offloading=0; uci commit firewall; fw4 reload");
      await newRun();
      const ftInputs = await checked<FlowtableOutputs>(flowtableProvider, { connection: router.connection, name: "guest", devices: ["lan2"] });
      const created = await flowtableProvider.create(ftInputs);
      const adopted = (await flowtableProvider.read(created.id, { connection: router.connection })).props as FlowtableOutputs;
      expect(adopted).toMatchObject({ name: "guest", devices: ["lan2"], hardware: false, counter: true, drift: [] });
      expect(adopted.files).toEqual(created.outs.files);
    } finally {
      await sim.stop();
    }
  });
});
