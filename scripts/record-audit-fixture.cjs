#!/usr/bin/env node
/**
 * Records test/fixtures/audit/fleet.json: `openwrt-offload audit --json` of a simulated fleet in
 * every state the HTML report has to show (confirmed, restored by the guard, rolled back, edited by
 * hand, fallen back to software, offloading live flows, full flash, SQM, unreachable, wrong host
 * key). The report's browser test grows it to a fleet of 200+ without starting 200 routers.
 * Run after `npm run build`: node scripts/record-audit-fixture.cjs
 */
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { startSimulatedFleet, startSimulatedRouter } = require("../dist/sim");
const { routerProvider } = require("../dist/provider/resources/router");
const { firewallDefaultsProvider } = require("../dist/provider/resources/firewall-defaults");
const { getPool } = require("../dist/provider/transport");

const ROOT = path.resolve(__dirname, "..");
const CLI = path.join(ROOT, "dist/cli/main.js");
const OUT = path.join(ROOT, "test/fixtures/audit/fleet.json");

const PROFILES = ["mt7621-23.05", "x86-64-23.05", "ipq40xx-22.03", "mt7621-24.10", "ath79-21.02", "filogic-25.12", "mt7621-unstable-hw", "mt7621-23.05", "mt7621-24.10", "x86-64-23.05", "filogic-25.12", "mt7621-23.05"];
const SITES = ["ams", "fra", "lon"];

async function apply(sim, declared, guard = {}) {
  const router = await routerProvider.check({}, { host: sim.host, port: sim.port, privateKey: sim.privateKey, hostKey: sim.hostKeyFingerprint });
  const connection = (await routerProvider.create(router.inputs)).outs.connection;
  const { inputs, failures } = await firewallDefaultsProvider.check({}, { connection, ...declared, ...guard });
  if (failures.length > 0) throw new Error(JSON.stringify(failures));
  return firewallDefaultsProvider.create(inputs);
}

function cli(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audit-fixture-"));
  const fleet = await startSimulatedFleet({ count: PROFILES.length, profiles: PROFILES });
  const gone = await startSimulatedRouter({ profile: "filogic-25.12" });
  await gone.stop();
  try {
    const [r1, r2, , r4, r5, r6, r7, r8, , r10, r11, r12] = fleet;
    const sw = { flowOffloading: true, flowOffloadingHw: false };
    const hw = { flowOffloading: true, flowOffloadingHw: true };
    await apply(r1, hw);
    r1.traffic({ flows: 24 });
    await apply(r2, sw);
    r2.traffic({ flows: 9 });
    await apply(r4, sw);
    await apply(r5, sw);
    // Falls back to software: the switch stops taking offload after hardware offload was confirmed.
    await apply(r6, hw);
    r6.traffic({ flows: 5 });
    await r6.console("for d in $(ls /sys/class/net); do ethtool -K $d hw-tc-offload off 2>/dev/null; done; fw4 reload 2>/dev/null");
    // A health check fails after the change: the guard restores the previous config.
    await apply(r7, hw, { healthChecks: [{ name: "ping the LAN gateway", command: "ping -c 1 -W 1 192.0.2.1" }] }).then(
      () => Promise.reject(new Error("r7's change was expected to be restored")),
      (err) => {
        if (!/restored/.test(err.message)) throw err;
      },
    );
    // Applied, then rolled back by an operator.
    await apply(r8, hw);
    const key = path.join(dir, "r8.key");
    fs.writeFileSync(key, r8.privateKey, { mode: 0o600 });
    const rolled = await cli(["rollback", "--router", `${r8.host}:${r8.port}`, "-i", key, "--host-key", r8.hostKeyFingerprint]);
    if (rolled.code !== 0) throw new Error(rolled.stderr);
    // Edited in LuCI after a confirmed change.
    await apply(r12, hw);
    await r12.console("uci delete firewall.@defaults[0].flow_offloading_hw; uci commit firewall; fw4 reload");
    r10.setFaults({ overlayFull: true });
    await apply(r11, hw);
    r11.traffic({ flows: 40 });

    const entries = fleet.map((r, i) => ({ name: `r${i + 1}-${r.profile.id}`, router: r }));
    entries.push({ name: "r13-gone", router: gone });
    entries.push({ name: "r14-wrong-key", router: r1, hostKey: r2.hostKeyFingerprint });
    const routers = entries.map((e, i) => ({
      name: e.name,
      host: e.router.host,
      port: e.router.port,
      user: "root",
      privateKey: e.router.privateKey,
      hostKey: e.hostKey ?? e.router.hostKeyFingerprint,
      labels: { site: SITES[i % SITES.length], profile: e.router.profile.id },
    }));
    const inventory = path.join(dir, "fleet.yaml");
    fs.writeFileSync(inventory, JSON.stringify({ routers }, null, 2));
    const audit = await cli(["audit", "--inventory", inventory, "--json"]);
    if (audit.code !== 1) throw new Error(`audit exited ${audit.code}: ${audit.stderr}`);
    const doc = JSON.parse(audit.stdout);
    doc.inventory = "fleet.yaml";
    fs.writeFileSync(OUT, `${JSON.stringify(doc, null, 2)}\n`);
    process.stdout.write(`recorded ${doc.routers.length} routers to ${path.relative(ROOT, OUT)}\n`);
  } finally {
    await getPool().closeAll();
    await Promise.all(fleet.map((r) => r.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
