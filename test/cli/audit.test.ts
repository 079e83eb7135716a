/// <reference lib="dom" />
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { startSimulatedFleet, startSimulatedRouter, type SimulatedRouter } from "pulumi-openwrt-offload/sim";
import type { AuditRecord } from "../../cli/audit-record";
import { requireBuiltCli, runCli, tempDir, writeInventory, type CliResult } from "./fleet";
import { chromiumAvailability, inChromium } from "../helpers/chromium";
import { describeIf } from "../helpers/requirements";

/**
 * `openwrt-offload audit` against a small mixed fleet: fw3 and fw4, a hardware flow engine with and
 * without SQM, an image without kmod-nft-offload, a full overlay, a router that is gone and one
 * whose host key is not the pinned one.
 */

let fleet: SimulatedRouter[];
let dir: string;
let inventory: string;
let json: CliResult;
let records: AuditRecord[];
const byName = (name: string) => records.find((r) => r.name === name)!;

beforeAll(async () => {
  requireBuiltCli();
  dir = tempDir("audit-");
  const [ath79, ipq40xx, x86, mt2305, mt2410] = (fleet = await startSimulatedFleet({
    count: 5,
    profiles: ["ath79-21.02", "ipq40xx-22.03", "x86-64-23.05", "mt7621-23.05", "mt7621-24.10"],
  }));
  const gone = await startSimulatedRouter({ profile: "filogic-25.12" });
  await gone.stop();
  x86.setFaults({ overlayFull: true });
  inventory = writeInventory(dir, [
    { name: "archer-c6", router: ath79 },
    { name: "hap-ac2", router: ipq40xx, labels: { site: "ams" } },
    { name: "x86-full", router: x86 },
    { name: "r6220", router: mt2305 },
    { name: "mi4a-sqm", router: mt2410 },
    { name: "bpi-gone", router: gone },
    // mt7621-23.05 again, pinned to another router's key: what a re-flashed or spoofed router looks like.
    { name: "r6220-wrong-key", router: mt2305, hostKey: x86.hostKeyFingerprint },
  ]);
  json = await runCli(["audit", "--inventory", inventory, "--json", "--html", path.join(dir, "report.html"), "--concurrency", "3"]);
  records = (JSON.parse(json.stdout) as { routers: AuditRecord[] }).routers;
}, 60_000);

afterAll(async () => {
  await Promise.all(fleet.map((r) => r.stop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("audit --json", () => {
  test("exit 1 because two routers could not be read, every other router still reported, in inventory order", () => {
    expect(json.code).toBe(1);
    expect(records.map((r) => [r.name, r.status])).toEqual([
      ["archer-c6", "ok"],
      ["hap-ac2", "ok"],
      ["x86-full", "ok"],
      ["r6220", "ok"],
      ["mi4a-sqm", "ok"],
      ["bpi-gone", "unreachable"],
      ["r6220-wrong-key", "host-key-mismatch"],
    ]);
    expect(json.stderr).toMatch(/7 routers: 5 audited, 2 failed/);
    expect(json.stderr).toMatch(/failed: bpi-gone \(127\.0\.0\.1:\d+\): unreachable: connect: .*ECONNREFUSED/);
    expect(json.stderr).toMatch(/failed: r6220-wrong-key .*host-key-mismatch: connect: host key mismatch/);
    // Each failure an operator meets first: what happened and the fix, in the inventory's own keys.
    expect(json.stderr).toMatch(
      /^ {2}fix for bpi-gone: nothing accepts connections at 127\.0\.0\.1:\d+ \(connection refused\)\. Fix: check the port in the router's host and port in the inventory, and that the router's SSH server \(dropbear\) is running\.$/m,
    );
    expect(json.stderr).toMatch(/^ {2}fix for r6220-wrong-key: 127\.0\.0\.1:\d+ presented host key SHA256:\S+, not the pinned SHA256:\S+\. Fix: .* pin it with hostKey; otherwise/m);
    expect(byName("bpi-gone").fix).toMatch(/^nothing accepts connections at /);
    expect(byName("r6220").fix).toBeNull();
    expect(json.stderr).toMatch(/wrote the HTML report to /);
  });

  test("one document: schema, version, when, and what the audit was run with", () => {
    const doc = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(["schema", "schemaVersion", "generatedAt", "inventory", "policy", "sqmPolicy", "routers"]);
    expect(doc).toMatchObject({ schema: "openwrt-offload/audit", schemaVersion: 1, inventory, policy: "auto", sqmPolicy: "software" });
    expect(new Date(doc.generatedAt as string).toISOString()).toBe(doc.generatedAt);
  });

  test("every record has the same keys, null where the router could not be read", () => {
    const keys = Object.keys(records[0]).sort();
    for (const r of records) expect(Object.keys(r).sort()).toEqual(keys);
    expect(byName("bpi-gone")).toMatchObject({ capability: null, configuredMode: null, runningMode: null, recommendation: null, conflicts: [{ kind: "unreachable" }], drift: [], guard: null, flows: null });
    expect(byName("r6220")).toMatchObject({ drift: [{ class: "not-applied" }], guard: null, flows: { total: 0, software: 0, hardware: 0 } });
    expect(byName("r6220-wrong-key").error).toMatch(/expected SHA256:\S+ \(hostKey\), seen SHA256:/);
    expect(byName("hap-ac2").labels).toEqual({ site: "ams" });
  });

  test("capability, modes and release per profile", () => {
    expect(byName("archer-c6")).toMatchObject({ firewall: "fw3", release: "OpenWrt 21.02.7", target: "ath79/generic", capability: { hardware: false }, configuredMode: "off", runningMode: "off" });
    expect(byName("hap-ac2")).toMatchObject({ firewall: "fw4", capability: { hardware: false, reason: expect.stringMatching(/no flow engine/) } });
    expect(byName("x86-full")).toMatchObject({ target: "x86/64", capability: { hardware: false } });
    expect(byName("r6220")).toMatchObject({ target: "ramips/mt7621", capability: { hardware: true, reason: expect.stringMatching(/MediaTek PPE/) }, configuredMode: "off", runningMode: "off" });
    expect(byName("mi4a-sqm")).toMatchObject({ release: "OpenWrt 24.10.0", capability: { hardware: true } });
  });

  test("conflicts: SQM on the 24.10 uplink; what up would refuse (the missing offload package, the full overlay); none on a clean router", () => {
    const kinds = (name: string) => byName(name).conflicts.map((c) => c.kind);
    expect(kinds("mi4a-sqm")).toEqual(["sqm"]);
    expect(byName("mi4a-sqm").conflicts[0].detail).toMatch(/SQM instance "wan" shapes wan/);
    expect(kinds("hap-ac2")).toEqual(["refused"]);
    expect(byName("hap-ac2").conflicts[0].detail).toMatch(/^up would refuse software offload: kmod-nft-offload is not installed .*add an OffloadPackages resource/);
    expect(kinds("x86-full")).toEqual(["refused"]);
    expect(byName("x86-full").conflicts[0].detail).toMatch(/^up would refuse software offload: .*only 0 KiB free on the overlay/);
    expect(kinds("r6220")).toEqual([]);
    expect(kinds("archer-c6")).toEqual([]);
  });

  test("recommendations follow the auto policy and say why", () => {
    expect(byName("r6220").recommendation).toEqual({ mode: "hardware", reason: "ramips/mt7621 has a flow engine", source: "policy", change: true });
    expect(byName("mi4a-sqm").recommendation).toEqual({ mode: "software", reason: 'SQM instance "wan" on wan shapes the uplink; hardware offload would bypass it', source: "policy", change: true });
    expect(byName("hap-ac2").recommendation).toMatchObject({ mode: "software", reason: "ipq40xx/mikrotik has no flow engine usable by nftables" });
    expect(byName("archer-c6").recommendation?.mode).toBe("software");
  });
});

describe("audit (table)", () => {
  test("aligned columns without colour when stdout is not a terminal, details and a summary; a progress bar on request", async () => {
    const res = await runCli(["audit", "--inventory", inventory, "--progress", "--policy", "off", "--sqm-policy", "ignore"]);
    expect(res.code).toBe(1);
    expect(res.stdout).not.toContain("\u001b[");
    const lines = res.stdout.split("\n");
    const header = lines[0];
    expect(header).toMatch(/^ROUTER +ADDRESS +RELEASE +CAPABILITY +CONFIG +RUNNING +RECOMMEND +CONFLICTS$/);
    const row = (name: string) => lines.find((l) => l.startsWith(`${name} `))!;
    // Every column starts where its header does.
    for (const name of ["archer-c6", "mi4a-sqm", "bpi-gone"]) {
      for (const col of ["ADDRESS", "RELEASE", "CAPABILITY", "CONFIG", "RUNNING", "RECOMMEND", "CONFLICTS"]) {
        expect(row(name).slice(header.indexOf(col) - 2, header.indexOf(col) + 1)).toMatch(/^ {2}\S$/);
      }
    }
    expect(row("r6220")).toMatch(/127\.0\.0\.1:\d+ +OpenWrt 23\.05\.4 fw4 +hardware +off +off +off +none$/);
    // --sqm-policy ignore: SQM is no conflict; --policy off: nothing to change on routers that are off.
    expect(row("mi4a-sqm")).toMatch(/ off +none$/);
    expect(row("hap-ac2")).toMatch(/ off +none$/);
    expect(row("x86-full")).toMatch(/ full-flash$/);
    expect(row("bpi-gone")).toMatch(/127\.0\.0\.1:\d+ +- +- +- +- +- +unreachable$/);
    expect(res.stdout).toMatch(/^ {2}recommend off: policy "off"$/m);
    expect(res.stdout).toMatch(/^ {2}host-key-mismatch: connect: host key mismatch/m);
    expect(res.stdout).toMatch(/^7 routers: 5 audited, 2 failed, 1 with conflicts, 0 with a recommended change$/m);
    expect(res.stdout).toMatch(/^ {2}failed: bpi-gone \(127\.0\.0\.1:\d+\): unreachable$/m);
    expect(res.stderr).toMatch(/audit \[.*\] 7\/7 routers \| 2 failed/);
    // Each failure is said as it happens, on a line of its own above the bar.
    const above = res.stderr.split(/[\r\n]/).filter((l) => /^audit: /.test(l));
    expect(above).toEqual(expect.arrayContaining([expect.stringMatching(/^audit: bpi-gone: unreachable: /), expect.stringMatching(/^audit: \S+: host-key-mismatch: /)]));
    expect(above).toHaveLength(2);
  });

  test("a per-router mode in the inventory wins over the policy; exit 0 when every router was read", async () => {
    const healthy = writeInventory(
      dir,
      [
        { name: "r6220", router: fleet[3], mode: "software" },
        { name: "mi4a-sqm", router: fleet[4] },
      ],
      "healthy.yaml",
    );
    const res = await runCli(["audit", "--inventory", healthy, "--json", "--sqm-policy", "off"]);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe("");
    const [r6220, mi4a] = (JSON.parse(res.stdout) as { routers: AuditRecord[] }).routers;
    expect(r6220.recommendation).toEqual({ mode: "software", reason: "set for this router in the inventory", source: "inventory", change: true });
    expect(mi4a.recommendation).toEqual({ mode: "off", reason: 'SQM instance "wan" on wan shapes the uplink and sqmPolicy is "off"', source: "policy", change: false });
  });
});

describe("audit --html", () => {
  const file = () => path.join(dir, "report.html");

  test("is one self-contained page: inline CSS and script, nothing fetched, every router's name escaped into it", () => {
    const html = fs.readFileSync(file(), "utf8");
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toMatch(/<style>/);
    expect(html).toMatch(/<script>/);
    expect(html).not.toMatch(/<link|src=|url\(|@import/i);
    for (const r of records) expect(html).toContain(`<h2>${r.name}</h2>`);
  });

  describeIf(chromiumAvailability(), "in headless Chromium", () => test(
    "it loads without console errors and shows every router",
    async () => {
      await inChromium(file(), { width: 1280, height: 900 }, async (page, { problems, requests }) => {

        expect(await page.title()).toBe("Flow offload audit: 7 routers");
        for (const r of records) await expect(page.locator(`#fleet tbody tr[data-name="${r.name}"]`).isVisible()).resolves.toBe(true);
        const stat = async (label: string) => (await page.locator(".stat", { hasText: label }).locator(".value").textContent())?.trim();
        expect(await stat("routers")).toBe("7");
        expect(await stat("not reachable or readable")).toBe("2");
        expect(await stat("with conflicts")).toBe("3");
        // Problems first: the two routers that could not be read open the list.
        expect(await page.locator("#fleet tbody tr").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.name))).toEqual(["bpi-gone", "r6220-wrong-key", "hap-ac2", "x86-full", "mi4a-sqm", "archer-c6", "r6220"]);
        // A card shows only for the router picked in the table.
        await expect(page.locator("#router-mi4a-sqm").isVisible()).resolves.toBe(false);
        await page.locator(`#fleet tbody tr[data-name="mi4a-sqm"]`).click();
        await expect(page.locator("#router-mi4a-sqm .conflicts").textContent()).resolves.toMatch(/sqm\s*SQM instance "wan" shapes wan/);
        await page.locator(`#fleet tbody tr[data-name="r6220"]`).click();
        await expect(page.locator("#router-mi4a-sqm").isVisible()).resolves.toBe(false);
        await expect(page.locator("#router-r6220 .reason", { hasText: "Recommendation" }).textContent()).resolves.toBe("Recommendation: switch from off to hardware: ramips/mt7621 has a flow engine.");
        // Kept after the run, for a person to look at.
        await page.screenshot({ path: path.join(os.tmpdir(), "openwrt-offload-audit-report.png"), fullPage: true });
        expect(problems).toEqual([]);
        expect(requests).toEqual([pathToFileURL(file()).href]);
      });
    },
    30_000,
  ));
});
