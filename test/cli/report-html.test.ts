import type { AuditRecord } from "../../cli/audit-record";
import { renderAuditHtml } from "../../cli/report-html";

/** The report page as a pure function of the audit: escaping and counts, without a browser. */
const meta = { generatedAt: new Date("2026-01-02T03:04:05.678Z"), inventory: "fleet/<prod>.yaml", policy: "auto", sqmPolicy: "software" };

const ok: AuditRecord = {
  name: "edge-1",
  host: "192.0.2.1",
  port: 22,
  labels: { site: "a&b" },
  status: "ok",
  error: null,
  model: "Netgear R6220",
  release: "OpenWrt 23.05.4",
  target: "ramips/mt7621",
  kernel: "5.15.162",
  firewall: "fw4",
  packageManager: "opkg",
  capability: { hardware: true, reason: "MediaTek PPE v1" },
  configuredMode: "hardware",
  runningMode: "software",
  overlay: { availKiB: 2048, totalKiB: 8192 },
  conflicts: [{ kind: "config-runtime-mismatch", detail: "uci says hardware, the kernel runs software <fw4 fell back>" }],
  recommendation: { mode: "hardware", reason: "ramips/mt7621 has a flow engine", change: false },
};
const gone: AuditRecord = {
  ...ok,
  name: "edge-2",
  status: "unreachable",
  error: "connect: <refused>",
  model: null,
  release: null,
  target: null,
  kernel: null,
  firewall: null,
  packageManager: null,
  capability: null,
  configuredMode: null,
  runningMode: null,
  overlay: null,
  conflicts: [{ kind: "unreachable", detail: "connect: <refused>" }],
  recommendation: null,
};

test("text from routers and the inventory is escaped; the page fetches and runs nothing", () => {
  const html = renderAuditHtml([ok, gone], meta);
  expect(html).toContain("fleet/&lt;prod&gt;.yaml");
  expect(html).toContain("site=a&amp;b");
  expect(html).toContain("the kernel runs software &lt;fw4 fell back&gt;");
  expect(html).toContain("connect: &lt;refused&gt;");
  expect(html).not.toMatch(/<script|<link|<img|url\(/i);
  expect(html).toContain("2026-01-02 03:04:05 UTC");
});

test("problems first, a kept mode says keep, and the footer names who was not audited", () => {
  const html = renderAuditHtml([ok, gone], meta);
  expect(html.indexOf("<h2>edge-2</h2>")).toBeLessThan(html.indexOf("<h2>edge-1</h2>"));
  expect(html).toContain("<strong>Recommendation:</strong> keep hardware: ramips/mt7621 has a flow engine.");
  expect(html).toContain("2.0 MiB free of 8.0 MiB");
  expect(html).toContain("Not audited: edge-2 (unreachable).");
  expect(renderAuditHtml([ok], meta)).toContain("Every router was audited.");
});
