/// <reference lib="dom" />
import * as fs from "fs";
import * as path from "path";
import { pathToFileURL } from "url";
import type { AuditRecord } from "../../cli/audit-record";
import { renderAuditHtml } from "../../cli/report-html";
import { chromiumAvailability, inChromium } from "../helpers/chromium";
import { describeIf } from "../helpers/requirements";
import { tempDir } from "./fleet";

/**
 * The HTML report at fleet scale, in headless Chromium: 210 routers grown from a recorded
 * `audit --json` of a simulated fleet in every state the report shows (scripts/record-audit-fixture.cjs),
 * so the test needs no routers and stays fast.
 */
const SITES = ["ams", "fra", "lon", "par", "waw"];
const COPIES = 15;

interface AuditDocument {
  schema: string;
  schemaVersion: number;
  generatedAt: string;
  inventory: string;
  policy: string;
  sqmPolicy: string;
  routers: AuditRecord[];
}

const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, "../fixtures/audit/fleet.json"), "utf8")) as AuditDocument;

/** Each copy a site of its own, with its own names and addresses; what each router holds is as recorded. */
const fleet: AuditRecord[] = Array.from({ length: COPIES }, (_, copy) =>
  recorded.routers.map((r, i) => ({
    ...r,
    name: `${SITES[copy % SITES.length]}${String(copy + 1).padStart(2, "0")}-${r.name}`,
    host: `10.${copy}.0.${i + 1}`,
    labels: { ...r.labels, site: SITES[copy % SITES.length] },
  })),
).flat();

test("the recorded audit is a current document with every state the report shows", () => {
  expect(recorded).toMatchObject({ schema: "openwrt-offload/audit", schemaVersion: 1 });
  expect(fleet.length).toBeGreaterThanOrEqual(200);
  const states = new Set(recorded.routers.flatMap((r) => [r.status, ...r.drift.map((d) => d.class), ...r.conflicts.map((c) => c.kind), r.guard?.state ?? "no-guard"]));
  for (const s of ["ok", "unreachable", "host-key-mismatch", "guard-restored", "rolled-back", "local-edit", "runtime-fallback", "not-applied", "sqm", "refused", "confirmed", "restored"]) {
    expect(states).toContain(s);
  }
  expect(recorded.routers.some((r) => (r.flows?.hardware ?? 0) > 0) && recorded.routers.some((r) => (r.flows?.software ?? 0) > 0)).toBe(true);
});

describeIf(chromiumAvailability(), "a 210-router report in headless Chromium", () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = tempDir("report-fleet-");
    file = path.join(dir, "report.html");
    fs.writeFileSync(file, renderAuditHtml(fleet, { generatedAt: new Date(recorded.generatedAt), inventory: "fleet.yaml", policy: recorded.policy, sqmPolicy: recorded.sqmPolicy }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test(
    "loads without console errors or requests; every router reachable through the filter, with its card; counts filter; columns sort",
    async () => {
      await inChromium(file, { width: 1440, height: 1000 }, async (page, { problems, requests }) => {

        expect(await page.title()).toBe(`Flow offload audit: ${fleet.length} routers`);
        await expect(page.locator("#shown").textContent()).resolves.toBe(`all ${fleet.length} routers`);
        const rows = page.locator("#fleet tbody tr");
        expect(await rows.count()).toBe(fleet.length);
        // Problems first: the routers that could not be read open the table.
        expect(await rows.first().getAttribute("data-health")).toBe("fail");

        // A screenshot of the page as an operator first sees it, kept for a person to look at.
        const shot = path.join(dir, "report-200.png");
        await page.screenshot({ path: shot });
        expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
        fs.mkdirSync(path.join(__dirname, "../../.cache"), { recursive: true });
        fs.copyFileSync(shot, path.join(__dirname, "../../.cache/report-200.png"));

        // Every router, found by its name in the filter; clicking its row opens its card.
        const seen = await page.evaluate((names) => {
          const search = document.getElementById("search") as HTMLInputElement;
          const missing: string[] = [];
          for (const name of names) {
            search.value = name;
            search.dispatchEvent(new Event("input"));
            const visible = Array.from(document.querySelectorAll<HTMLTableRowElement>("#fleet tbody tr")).filter((r) => !r.hidden);
            if (!visible.some((r) => r.dataset.name === name)) missing.push(name);
          }
          return missing;
        }, fleet.map((r) => r.name));
        expect(seen).toEqual([]);
        const target = fleet.find((r) => r.guard?.state === "restored")!;
        await page.fill("#search", target.name);
        await expect(page.locator("#shown").textContent()).resolves.toBe(`1 of ${fleet.length} routers`);
        await page.locator(`#fleet tbody tr[data-name="${target.name}"]`).click();
        const card = page.locator(`#router-${target.name}`);
        await expect(card.isVisible()).resolves.toBe(true);
        await expect(card.textContent()).resolves.toMatch(/Last guard transaction: restored by the guard \(verify-failed\)/);
        expect(await page.locator(".card:visible").count()).toBe(1);
        await page.screenshot({ path: path.join(dir, "report-200-detail.png") });
        fs.copyFileSync(path.join(dir, "report-200-detail.png"), path.join(__dirname, "../../.cache/report-200-detail.png"));

        // Each count is a filter showing that many routers; a site's chip shows exactly that site.
        await page.click("#clear");
        const lon = fleet.filter((r) => r.labels.site === "lon").length;
        await page.click(`.chip[data-facet="site"][data-value="lon"]`);
        await expect(page.locator("#shown").textContent()).resolves.toBe(`${lon} of ${fleet.length} routers`);
        expect(await page.locator("#fleet tbody tr:visible").evaluateAll((rs) => [...new Set(rs.map((r) => (r as HTMLElement).dataset.site))])).toEqual(["lon"]);
        await page.selectOption(`select[data-filter="drift"]`, "guard-restored");
        const both = fleet.filter((r) => r.labels.site === "lon" && r.drift.some((d) => d.class === "guard-restored")).length;
        await expect(page.locator("#shown").textContent()).resolves.toBe(`${both} of ${fleet.length} routers`);
        await page.click("#clear");
        for (const chip of await page.locator(`.chip[data-facet="guard"]`).all()) {
          const expected = Number(await chip.locator("b").textContent());
          await chip.click();
          await expect(page.locator("#shown").textContent()).resolves.toBe(`${expected} of ${fleet.length} routers`);
          await chip.click();
        }

        // Sorting by offloaded flows puts the busiest router first, and again reversed last.
        await page.click(`#fleet th[data-sort="flows"] button`);
        await page.click(`#fleet th[data-sort="flows"] button`);
        const most = Math.max(...fleet.map((r) => (r.flows ? r.flows.hardware + r.flows.software : -1)));
        expect(Number(await rows.first().getAttribute("data-flows"))).toBe(most);
        await expect(page.locator(`#fleet th[data-sort="flows"]`).getAttribute("aria-sort")).resolves.toBe("descending");

        expect(problems).toEqual([]);
        expect(requests).toEqual([pathToFileURL(file).href]);
      });
    },
    60_000,
  );
});
