import * as fs from "fs";
import { pathToFileURL } from "url";
import type { Page } from "playwright-core";
import type { Availability } from "./requirements";

/** Debian's Chromium: .ci/run installs it; elsewhere the browser checks are skipped with this reason. */
export const CHROMIUM = "/usr/bin/chromium";

export const chromiumAvailability = (): Availability =>
  fs.existsSync(CHROMIUM) ? { ok: true } : { ok: false, reason: `${CHROMIUM} is not installed (apt-get install chromium)` };

/**
 * Opens a local HTML file in headless Chromium, offline, and hands the page to `check` with what went wrong on it
 * (console errors and warnings, page errors, failed requests) and every URL it requested.
 */
export async function inChromium(file: string, viewport: { width: number; height: number }, check: (page: Page, seen: { problems: string[]; requests: string[] }) => Promise<void>): Promise<void> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage({ viewport });
    const seen = { problems: [] as string[], requests: [] as string[] };
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") seen.problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => seen.problems.push(`pageerror: ${e.message}`));
    page.on("requestfailed", (r) => seen.problems.push(`request failed: ${r.url()}`));
    page.on("request", (r) => seen.requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
    await check(page, seen);
  } finally {
    await browser.close();
  }
}
