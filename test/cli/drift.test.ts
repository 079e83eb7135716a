import * as fs from "fs";
import * as path from "path";
import { startSimulatedFleet, type SimulatedRouter } from "pulumi-openwrt-offload/sim";
import type { DriftRecord } from "../../cli/drift";
import { firewallDefaultsProvider } from "../../provider/resources/firewall-defaults";
import { getPool } from "../../provider/transport";
import { connectionOf, defaultsInputs } from "../helpers/providers";
import { onRouter, requireBuiltCli, runCli, tempDir, writeInventory } from "./fleet";

/**
 * `openwrt-offload drift` for cron/CI: exit 0 in sync, 2 drift, 1 a router could not be checked.
 * The steps build on each other: the routers keep what earlier steps did to them.
 */
const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

let fleet: SimulatedRouter[];
let dir: string;
let inventory: string;
const [R6220, X86, HAP, MI4A] = [0, 1, 2, 3];

beforeAll(async () => {
  requireBuiltCli();
  dir = tempDir("drift-");
  fleet = await startSimulatedFleet({ count: 4, profiles: ["mt7621-23.05", "x86-64-23.05", "ipq40xx-22.03", "mt7621-24.10"] });
  inventory = writeInventory(dir, [
    { name: "r6220", router: fleet[R6220], mode: "off" },
    { name: "x86", router: fleet[X86], mode: "off" },
    { name: "hap-ac2", router: fleet[HAP], mode: "off" },
    { name: "mi4a", router: fleet[MI4A], mode: "off" },
  ]);
}, 60_000);

afterAll(async () => {
  await getPool().closeAll();
  await Promise.all(fleet.map((r) => r.stop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const parse = (stdout: string) => {
  const doc = JSON.parse(stdout) as { schema: string; schemaVersion: number; routers: DriftRecord[] };
  expect(doc).toMatchObject({ schema: "openwrt-offload/drift", schemaVersion: 1 });
  return doc.routers;
};
const classes = (records: DriftRecord[]) => Object.fromEntries(records.map((r) => [r.name, r.status === "drift" ? r.drift.map((d) => d.class) : r.status]));

function stackExport(resources: object[]): string {
  const file = path.join(dir, `stack-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify({ version: 3, deployment: { manifest: { time: "2026-01-01T00:00:00Z" }, resources } }, null, 2));
  return file;
}

function firewallDefaults(name: string, router: Pick<SimulatedRouter, "host" | "port" | "privateKey" | "hostKeyFingerprint">, declared: { flowOffloading: boolean; flowOffloadingHw: boolean }, extra: { secret?: boolean; firmware?: string } = {}) {
  const connection = { host: router.host, port: router.port, user: "root", privateKey: router.privateKey, hostKey: router.hostKeyFingerprint };
  return {
    urn: `urn:pulumi:prod::fleet::pulumi-nodejs:dynamic/openwrt:FirewallDefaults::${name}`,
    custom: true,
    type: "pulumi-nodejs:dynamic/openwrt:FirewallDefaults",
    inputs: { ...declared },
    outputs: {
      ...declared,
      // A real export carries the whole connection as a secret (it holds the key); plain is what hand-made state looks like.
      connection: extra.secret ? { ...SECRET, plaintext: JSON.stringify(connection) } : connection,
      declared,
      ...(extra.firmware ? { firmware: extra.firmware } : {}),
    },
  };
}

test("every router as the inventory declares it: exit 0, a table that says so", async () => {
  const res = await runCli(["drift", "--inventory", inventory]);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  expect(res.stdout).toMatch(/^ROUTER +ADDRESS +DECLARED +CONFIG +RUNNING +DRIFT$/m);
  expect(res.stdout).toMatch(/^r6220 +127\.0\.0\.1:\d+ +off \(inventory\) +off +off +none$/m);
  expect(res.stdout).toMatch(/^4 routers: 4 in sync, 0 drifted, 0 failed$/m);
});

test("a router nothing has applied yet: not-applied, not a local edit", async () => {
  const declared = writeInventory(dir, [{ name: "r6220", router: fleet[R6220], mode: "software" }], "software.yaml");
  const res = await runCli(["drift", "--inventory", declared, "--json"]);
  expect(res.code).toBe(2);
  expect(parse(res.stdout)[0].drift).toEqual([
    { class: "not-applied", detail: "uci says offload off, software offload was declared: nothing from this project has applied it to this router yet" },
  ]);
});

test("a LuCI edit on a router this project manages and someone's staged change on another: exit 2, each classified", async () => {
  // The router was brought to its declared state through the guard (software offload on, then off again), then edited in LuCI.
  const connection = await connectionOf(fleet[R6220]);
  const created = await firewallDefaultsProvider.create(await defaultsInputs(connection, { flowOffloadingHw: false }));
  await firewallDefaultsProvider.delete(created.id, created.outs);
  await onRouter(fleet[R6220], "uci set firewall.@defaults[0].flow_offloading=1; uci commit firewall; fw4 reload");
  await onRouter(fleet[X86], "uci set firewall.@defaults[0].syn_flood=0");

  const html = path.join(dir, "drift.html");
  const [json, table] = await Promise.all([runCli(["drift", "--inventory", inventory, "--json", "--html", html]), runCli(["drift", "--inventory", inventory])]);
  expect(json.code).toBe(2);
  const records = parse(json.stdout);
  expect(classes(records)).toEqual({ r6220: ["local-edit"], x86: ["pending-changes"], "hap-ac2": "in-sync", mi4a: "in-sync" });
  // The guard's last word on r6220: putting the original values back (the delete), confirmed.
  expect(records[R6220].guard).toMatchObject({ state: "confirmed", reason: null, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  expect(records[X86]).toMatchObject({ guard: null, flows: { total: 0, software: 0, hardware: 0 } });
  expect(json.stderr).toBe(`wrote the HTML report to ${html}\n`);
  const page = fs.readFileSync(html, "utf8");
  expect(page).toContain("<title>Flow offload drift: 4 routers</title>");
  expect(page).toMatch(/<tr class="warn" data-name="r6220" [^>]*data-drift="local-edit" data-guard="confirmed"/);
  expect(page).toMatch(/<tr class="ok" data-name="mi4a" [^>]*data-drift="none" data-guard="none"/);
  expect(records[R6220]).toMatchObject({
    declared: { mode: "off", source: "inventory", reason: "set for this router in the inventory" },
    configuredMode: "software",
    runningMode: "software",
    drift: [{ class: "local-edit", detail: "uci says software offload, offload off was declared: edited on the router (uci, LuCI or by hand)" }],
    error: null,
  });
  expect(records[X86].drift[0].detail).toMatch(/^1 uncommitted uci change\(s\) to firewall, not live until someone commits them: firewall\.cfg\w+\.syn_flood='0'/);

  expect(table.code).toBe(2);
  expect(table.stdout).toMatch(/^r6220 +127\.0\.0\.1:\d+ +off \(inventory\) +software +software +local-edit$/m);
  expect(table.stdout).toMatch(/^x86 +127\.0\.0\.1:\d+ +off \(inventory\) +off +off +pending-changes$/m);
  expect(table.stdout).toMatch(/^r6220\n {2}local-edit: uci says software offload, offload off was declared: edited on the router/m);
  expect(table.stdout).toMatch(/^4 routers: 2 in sync, 2 drifted, 0 failed$/m);
});

test("without a mode in the inventory the policy's decision is what was declared", async () => {
  const auto = writeInventory(dir, [{ name: "mi4a", router: fleet[MI4A] }], "auto.yaml");
  const res = await runCli(["drift", "--inventory", auto, "--json"]);
  expect(res.code).toBe(2);
  expect(parse(res.stdout)[0]).toMatchObject({
    declared: { mode: "software", source: "policy", reason: 'SQM instance "wan" on wan shapes the uplink; hardware offload would bypass it' },
    // Never applied there: the policy's decision is new to it.
    drift: [{ class: "not-applied", detail: "uci says offload off, software offload was declared: nothing from this project has applied it to this router yet" }],
  });
});

test("--stack-export: what the stack declared, matched by host and port, plain or secret connections", async () => {
  // x86 now asks for hardware offload, which its kernel cannot do: fw4 falls back to software.
  await onRouter(fleet[X86], "uci set firewall.@defaults[0].flow_offloading=1; uci set firewall.@defaults[0].flow_offloading_hw=1; uci commit firewall; fw4 reload");
  const file = stackExport([
    { urn: "urn:pulumi:prod::fleet::pulumi:pulumi:Stack::fleet-prod", type: "pulumi:pulumi:Stack", outputs: {} },
    firewallDefaults("r6220-offload", fleet[R6220], { flowOffloading: true, flowOffloadingHw: true }, { firmware: "OpenWrt 23.05.3 r23809-234f1a2efa (ramips/mt7621, kernel 5.15.150)" }),
    firewallDefaults("x86-offload", fleet[X86], { flowOffloading: true, flowOffloadingHw: true }, { secret: true }),
    firewallDefaults("hap-offload", fleet[HAP], { flowOffloading: true, flowOffloadingHw: false }, { secret: true }),
  ]);

  const [res, table] = await Promise.all([runCli(["drift", "--inventory", inventory, "--stack-export", file, "--json"]), runCli(["drift", "--inventory", inventory, "--stack-export", file])]);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(2);
  const records = parse(res.stdout);
  expect(classes(records)).toEqual({
    r6220: ["local-edit", "firmware-changed"],
    x86: ["runtime-fallback"],
    "hap-ac2": ["local-edit", "missing-package"],
    mi4a: "not-in-stack",
  });
  expect(records[R6220].declared).toEqual({ mode: "hardware", source: "stack", reason: "declared by r6220-offload in the stack" });
  expect(records[R6220].drift[1].detail).toMatch(/^was OpenWrt 23\.05\.3 .*, now OpenWrt 23\.05\.4 /);
  expect(records[X86]).toMatchObject({ configuredMode: "hardware", runningMode: "software" });
  expect(records[X86].drift[0].detail).toBe("configured for hardware offload, but the kernel runs software offload (fw4 fell back: a device refused `flags offload`)");
  expect(records[HAP].drift[1].detail).toBe("kmod-nft-offload is not installed");

  expect(table.code).toBe(2);
  expect(table.stdout).toMatch(/^mi4a +127\.0\.0\.1:\d+ +- +- +- +not in the stack$/m);
  expect(table.stdout).toMatch(/^4 routers: 0 in sync, 3 drifted, 0 failed, 1 not in the stack \(not checked\)$/m);
});

test("a router that cannot be checked wins over drift: exit 1, the rest still reported", async () => {
  const file = stackExport([
    firewallDefaults("r6220-offload", fleet[R6220], { flowOffloading: true, flowOffloadingHw: false }),
    firewallDefaults("lost-offload", { host: "127.0.0.1", port: 1, privateKey: fleet[MI4A].privateKey, hostKeyFingerprint: fleet[MI4A].hostKeyFingerprint }, { flowOffloading: false, flowOffloadingHw: false }),
  ]);
  const res = await runCli(["drift", "--inventory", inventory, "--stack-export", file, "--json"]);
  expect(res.code).toBe(1);
  const records = parse(res.stdout);
  expect(records.find((r) => r.name === "lost-offload")).toMatchObject({
    status: "error",
    port: 1,
    error: "the stack manages 127.0.0.1:1, but the inventory has no router there (no credentials to check it)",
  });
  expect(records.find((r) => r.name === "r6220")?.status).toBe("in-sync");
  expect(res.stderr).toBe("not checked: lost-offload (127.0.0.1:1): the stack manages 127.0.0.1:1, but the inventory has no router there (no credentials to check it)\n");

  await fleet[HAP].stop();
  const gone = await runCli(["drift", "--inventory", inventory]);
  expect(gone.code).toBe(1);
  expect(gone.stdout).toMatch(/^hap-ac2 +127\.0\.0\.1:\d+ +- +- +- +error$/m);
  expect(gone.stdout).toMatch(/^hap-ac2\n {2}error: unreachable: connect: .*ECONNREFUSED/m);
  expect(gone.stdout).toMatch(/^r6220 .* local-edit$/m);
});

test("a stack export this tool cannot use is an error before any router is touched", async () => {
  const encrypted = stackExport([{ ...firewallDefaults("x", fleet[R6220], { flowOffloading: false, flowOffloadingHw: false }), outputs: { connection: { ...SECRET, ciphertext: "v1:abc" } } }]);
  const res = await runCli(["drift", "--inventory", inventory, "--stack-export", encrypted]);
  expect(res.code).toBe(1);
  expect(res.stdout).toBe("");
  expect(res.stderr).toContain("outputs.connection is an encrypted secret: export the stack with `pulumi stack export --show-secrets`");
});
