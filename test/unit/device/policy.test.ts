import type { RouterFacts } from "../../../provider/device/facts";
import { classifyOffloadDrift, firmwareIdentity } from "../../../provider/device/drift";
import { planOffload, planRestore, runtimeMismatches } from "../../../provider/device/offload";
import { offloadPreflight } from "../../../provider/device/preflight";

/** Facts of a healthy fw4 router with a flow engine and offloading off; tests change what they need. */
function facts(overrides: Partial<RouterFacts> = {}, offload: Partial<RouterFacts["offload"]["runtime"]> = {}, config: Partial<RouterFacts["offload"]["config"]> = {}): RouterFacts {
  return {
    hostname: "OpenWrt",
    model: "m",
    boardName: "b",
    release: { distribution: "OpenWrt", version: "23.05.4", revision: "r1", target: "ramips/mt7621", description: "" },
    target: "ramips/mt7621",
    kernel: "5.15.162",
    kernelSupported: true,
    firewall: "fw4",
    packageManager: "opkg",
    packages: { "kmod-nft-offload": "5.15.162-1" },
    packageList: "kmod-nft-offload - 5.15.162-1\n",
    hwOffloadCapable: true,
    hwOffloadReason: "MediaTek PPE",
    devices: [],
    zones: [{ name: "wan", networks: ["wan", "wan6"], devices: ["wan"] }],
    sqm: [],
    overlay: { mount: "/overlay", totalKiB: 1000, usedKiB: 100, availKiB: 900 },
    stagedChanges: {},
    guardRecords: [],
    files: {},
    ethtool: false,
    offload: {
      config: { flowOffloading: false, flowOffloadingHw: false, raw: {}, ...config },
      runtime: { firewallRunning: true, flowtables: [], offloadRule: false, hardware: false, forwardTargets: [], modules: [], ...offload },
      conntrack: { offloaded: 0, hwOffloaded: 0, total: 0 },
    },
    ...overrides,
  };
}

describe("preflight", () => {
  test("an unreadable package list (opkg locked) is never read as a missing package", () => {
    const locked = facts({ packages: {}, packageList: "", packagesError: "opkg failed (exit 255): Could not lock /var/lock/opkg.lock" });
    const { refusals } = offloadPreflight(locked, { flowOffloading: true, flowOffloadingHw: false }, "refuse");
    expect(refusals).toEqual([{ property: "flowOffloading", message: expect.stringMatching(/^could not read the installed packages to check for kmod-nft-offload \(opkg failed .*Could not lock.*\); run again in a moment$/) }]);
    expect(classifyOffloadDrift(locked, { flowOffloading: true, flowOffloadingHw: false }).map((d) => d.class)).not.toContain("missing-package");
  });

  test("hardware on a target without a flow engine is refused with the fix", () => {
    const { refusals } = offloadPreflight(facts({ hwOffloadCapable: false, hwOffloadReason: "target x86/64 has no flow engine" }), { flowOffloading: true, flowOffloadingHw: true }, "refuse");
    expect(refusals).toEqual([{ property: "flowOffloadingHw", message: "hardware offload was requested but target x86/64 has no flow engine: set flowOffloadingHw: false (software offload still helps)" }]);
  });

  test("old kernels warn, they do not refuse", () => {
    const result = offloadPreflight(facts({ kernel: "4.14.275", kernelSupported: false }), { flowOffloading: true, flowOffloadingHw: false }, "refuse");
    expect(result).toEqual({ refusals: [], warnings: ["kernel 4.14.275 is older than 5.4; flow offloading there is known to be unstable"] });
  });

  test("SQM on the uplink: refused for hardware unless sqmPolicy says otherwise; a warning for software", () => {
    const sqm = facts({ sqm: [{ name: "eth1", enabled: true, interface: "wan" }] });
    expect(offloadPreflight(sqm, { flowOffloading: true, flowOffloadingHw: true }, "refuse").refusals[0]).toEqual({ property: "sqmPolicy", message: expect.stringMatching(/SQM instance "eth1" shapes wan.*sqmPolicy: "warn"/) });
    expect(offloadPreflight(sqm, { flowOffloading: true, flowOffloadingHw: true }, "warn")).toMatchObject({ refusals: [], warnings: [expect.stringMatching(/bypasses its qdiscs/)] });
    expect(offloadPreflight(sqm, { flowOffloading: true, flowOffloadingHw: false }, "refuse").refusals).toEqual([]);
    expect(offloadPreflight(sqm, { flowOffloading: true, flowOffloadingHw: true }, "ignore")).toEqual({ refusals: [], warnings: [] });
    const disabled = facts({ sqm: [{ name: "eth1", enabled: false, interface: "wan" }] });
    expect(offloadPreflight(disabled, { flowOffloading: true, flowOffloadingHw: true }, "refuse").refusals).toEqual([]);
  });

  test("fw3 needs kmod-ipt-offload, fw4 kmod-nft-offload", () => {
    expect(offloadPreflight(facts({ firewall: "fw3", packages: {} }), { flowOffloading: true, flowOffloadingHw: false }, "refuse").refusals[0].message).toMatch(/^kmod-ipt-offload is not installed/);
    expect(offloadPreflight(facts({ packages: {} }), { flowOffloading: true, flowOffloadingHw: false }, "refuse").refusals[0].message).toMatch(/^kmod-nft-offload is not installed/);
    expect(offloadPreflight(facts({ packages: {} }), { flowOffloading: false, flowOffloadingHw: false }, "refuse").refusals).toEqual([]);
  });
});

describe("planning", () => {
  test("compare-before-set: values that already mean the intent are left alone", () => {
    expect(planOffload(facts({}, {}, { flowOffloading: true, raw: { flow_offloading: "yes" } }), { flowOffloading: true, flowOffloadingHw: false })).toEqual([]);
    expect(planOffload(facts(), { flowOffloading: false, flowOffloadingHw: false })).toEqual([]);
    expect(planOffload(facts(), { flowOffloading: true, flowOffloadingHw: true })).toEqual([
      { section: "@defaults[0]", option: "flow_offloading", value: "1" },
      { section: "@defaults[0]", option: "flow_offloading_hw", value: "1" },
    ]);
    expect(planOffload(facts({}, {}, { flowOffloading: true, flowOffloadingHw: true, raw: { flow_offloading: "1", flow_offloading_hw: "1" } }), { flowOffloading: true, flowOffloadingHw: false })).toEqual([
      { section: "@defaults[0]", option: "flow_offloading_hw", value: "0" },
    ]);
  });

  test("restore puts back exactly the raw originals, deleting options that were absent", () => {
    const now = facts({}, {}, { raw: { flow_offloading: "1", flow_offloading_hw: "1" } });
    expect(planRestore(now, {})).toEqual([
      { section: "@defaults[0]", option: "flow_offloading", value: undefined },
      { section: "@defaults[0]", option: "flow_offloading_hw", value: undefined },
    ]);
    expect(planRestore(now, { flow_offloading: "1" })).toEqual([{ section: "@defaults[0]", option: "flow_offloading_hw", value: undefined }]);
  });
});

describe("drift classes", () => {
  const hwIntent = { flowOffloading: true, flowOffloadingHw: true };
  const hwConfig = { flowOffloading: true, flowOffloadingHw: true, raw: { flow_offloading: "1", flow_offloading_hw: "1" } };

  test("none when uci and the kernel both match", () => {
    expect(classifyOffloadDrift(facts({}, { offloadRule: true, hardware: true }, hwConfig), hwIntent)).toEqual([]);
  });

  test("one class per cause: local-edit, pending-changes (staged, not local-edit), missing-package, firmware-changed", () => {
    expect(classifyOffloadDrift(facts(), hwIntent).map((d) => d.class)).toEqual(["local-edit"]);
    // Staged only: committed config matches, so the only cause is the staged change.
    expect(classifyOffloadDrift(facts({ stagedChanges: { firewall: ["firewall.cfg01e63d.flow_offloading='0'"] } }, { offloadRule: true, hardware: true }, hwConfig), hwIntent).map((d) => d.class)).toEqual(["pending-changes"]);
    expect(classifyOffloadDrift(facts({ packages: {} }, { offloadRule: true, hardware: true }, hwConfig), hwIntent).map((d) => d.class)).toEqual(["missing-package"]);
    const f = facts({}, { offloadRule: true, hardware: true }, hwConfig);
    expect(classifyOffloadDrift(f, hwIntent, { firmware: "OpenWrt 23.05.3 r0 (ramips/mt7621, kernel 5.15.150)" }).map((d) => d.class)).toEqual(["firmware-changed"]);
    expect(classifyOffloadDrift(f, hwIntent, { firmware: firmwareIdentity(f) })).toEqual([]);
  });

  test("the kernel's side: fw4's hardware-to-software fallback, a flowtable gone, a config not loaded are three causes", () => {
    expect(classifyOffloadDrift(facts({}, { offloadRule: true, hardware: false }, hwConfig), hwIntent)).toEqual([
      { class: "runtime-fallback", detail: expect.stringMatching(/^configured for hardware offload, but the kernel runs software offload \(fw4 fell back/) },
    ]);
    expect(classifyOffloadDrift(facts({}, { offloadRule: false }, hwConfig), hwIntent)).toEqual([
      { class: "runtime-missing", detail: expect.stringMatching(/no flowtable with its forward rule is live \(deleted by hand, or the firewall is not loaded\)/) },
    ]);
    expect(classifyOffloadDrift(facts({}, { offloadRule: true, hardware: false }), { flowOffloading: false, flowOffloadingHw: false })).toEqual([
      { class: "runtime-stale", detail: expect.stringMatching(/configured for offload off, but the kernel still runs software offload/) },
    ]);
  });

  test("the guard's records name who changed the config: the guard restored it, an operator rolled it back, or nobody applied it yet", () => {
    const record = (txid: string, subject: string, result: string, restores = "offload off", sets = "hardware offload") => ({ txid, description: "FirewallDefaults: hardware offload", result, restores, subject, sets });
    const restored = facts({ guardRecords: [record("20261205T130000.000Z-aaaaaa", "firewallDefaults", "restored boot 1796476576")] });
    expect(classifyOffloadDrift(restored, hwIntent)).toEqual([
      { class: "guard-restored", txid: "20261205T130000.000Z-aaaaaa", detail: expect.stringMatching(/the guard put back offload off at 2026-.*: at boot: the router restarted during its window \(transaction 20261205T130000.000Z-aaaaaa/) },
    ]);
    const rolledBack = facts({
      guardRecords: [
        record("20261205T140000.000Z-bbbbbb", "rollback firewallDefaults", "confirmed 1796480000", "hardware offload", "offload off"),
        record("20261205T130000.000Z-aaaaaa", "firewallDefaults", "confirmed 1796476576"),
      ],
    });
    expect(classifyOffloadDrift(rolledBack, hwIntent).map((d) => [d.class, d.txid])).toEqual([["rolled-back", "20261205T140000.000Z-bbbbbb"]]);
    // What the record left is not what the router holds: someone changed it since.
    const editedSince = facts({ guardRecords: rolledBack.guardRecords }, { offloadRule: true }, { flowOffloading: true, raw: { flow_offloading: "1" } });
    expect(classifyOffloadDrift(editedSince, hwIntent).map((d) => d.class)).toEqual(["local-edit"]);
    // A confirmed change later edited by someone else is a local edit; aborted transactions changed nothing.
    const edited = facts({ guardRecords: [record("20261205T150000.000Z-cccccc", "firewallDefaults", "aborted foreign-changes 1796490000"), record("20261205T130000.000Z-aaaaaa", "firewallDefaults", "confirmed 1796476576")] });
    expect(classifyOffloadDrift(edited, hwIntent).map((d) => d.class)).toEqual(["local-edit"]);
    // Other subjects do not count; without any record and without a resource, nothing applied it yet.
    const other = facts({ guardRecords: [record("20261205T130000.000Z-aaaaaa", "flowtable:mine", "restored timeout 1796476576")] });
    expect(classifyOffloadDrift(other, hwIntent, { managed: false }).map((d) => d.class)).toEqual(["not-applied"]);
  });

  test("runtime mismatches are sentences that say what the kernel runs", () => {
    expect(runtimeMismatches(facts({}, { offloadRule: true, hardware: false }), hwIntent)).toEqual([
      "hardware offload was requested but the kernel runs software offload (fw4 fell back: `flags offload` was refused)",
    ]);
    expect(runtimeMismatches(facts({}, { firewallRunning: false }), hwIntent)[0]).toMatch(/firewall is not running/);
  });
});
