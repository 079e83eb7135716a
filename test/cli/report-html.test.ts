import type { AuditRecord } from "../../cli/audit-record";
import type { DriftRecord } from "../../cli/drift";
import { renderAuditHtml, renderDriftHtml } from "../../cli/report-html";

/** The report page as a pure function of the records: escaping, order, counts, without a browser. */
const meta = { generatedAt: new Date("2026-01-02T03:04:05.678Z"), inventory: "fleet/<prod>.yaml", policy: "auto", sqmPolicy: "software" };

const ok: AuditRecord = {
  name: "edge-1",
  host: "192.0.2.1",
  port: 22,
  labels: { site: "a&b" },
  status: "ok",
  error: null,
  fix: null,
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
  recommendation: { mode: "hardware", reason: "ramips/mt7621 has a flow engine", source: "policy", change: false },
  drift: [{ class: "runtime-fallback", detail: "configured for hardware offload, but the kernel runs software offload" }],
  guard: { txid: "20260101T000000.000Z-abcdef", description: "FirewallDefaults: hardware offload", state: "confirmed", reason: null, at: "2026-01-01T00:00:03.000Z" },
  flows: { total: 40, software: 12, hardware: 0 },
};
const clean: AuditRecord = {
  ...ok,
  name: "edge-3",
  labels: { site: "ams" },
  runningMode: "hardware",
  conflicts: [],
  drift: [],
  guard: { ...ok.guard!, state: "restored", reason: "verify-failed" },
};
const gone: AuditRecord = {
  ...ok,
  name: "edge-2",
  labels: {},
  status: "unreachable",
  error: "connect: <refused>",
  fix: "nothing accepts connections at 192.0.2.1:22 (connection refused). Fix: check the port <here>",
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
  drift: [],
  guard: null,
  flows: null,
};

test("text from routers and the inventory is escaped; the page can fetch nothing", () => {
  const html = renderAuditHtml([ok, gone], meta);
  expect(html).toContain("fleet/&lt;prod&gt;.yaml");
  expect(html).toContain("site=a&amp;b");
  expect(html).toContain("the kernel runs software &lt;fw4 fell back&gt;");
  expect(html).toContain("connect: &lt;refused&gt;");
  expect(html).toContain("<strong>What happened:</strong> nothing accepts connections at 192.0.2.1:22 (connection refused). Fix: check the port &lt;here&gt;</p>");
  expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">`);
  expect(html).not.toMatch(/<link|<img|src=|url\(|@import|https?:/i);
  expect(html).toContain("2026-01-02 03:04:05 UTC");
});

test("one table row and one card per router, problems first; the footer names who was not audited", () => {
  const html = renderAuditHtml([clean, ok, gone], meta);
  const rows = [...html.matchAll(/<tr class="(\w+)" data-name="([^"]+)"/g)].map((m) => `${m[2]}:${m[1]}`);
  expect(rows).toEqual(["edge-2:fail", "edge-1:warn", "edge-3:ok"]);
  expect([...html.matchAll(/<article class="card \w+" id="router-([^"]+)"/g)].map((m) => m[1])).toEqual(["edge-2", "edge-1", "edge-3"]);
  expect(html).toContain("<strong>Recommendation:</strong> keep hardware: ramips/mt7621 has a flow engine.");
  expect(html).toContain("2.0 MiB free of 8.0 MiB");
  expect(html).toContain("Not audited: edge-2 (unreachable).");
  expect(renderAuditHtml([ok], meta)).toContain("Every router was audited.");
  const many = Array.from({ length: 12 }, (_, i) => ({ ...gone, name: `gone-${i + 1}` }));
  expect(renderAuditHtml(many, meta)).toMatch(/Not audited: gone-1 \(unreachable\), .*, gone-10 \(unreachable\) and 2 more\./);
});

test("each row carries what the filters read: site, kernel mode, conflicts, drift, guard state, offloaded flows", () => {
  const html = renderAuditHtml([ok, gone, clean], meta);
  expect(html).toContain(
    `data-name="edge-1" data-search="edge-1 192.0.2.1:22 site=a&amp;b" data-health="warn" data-site="a&amp;b" data-mode="software" data-conflict="config-runtime-mismatch" data-drift="runtime-fallback" data-guard="confirmed" data-flows="12" data-when="2026-01-01T00:00:03.000Z"`,
  );
  expect(html).toContain(`data-name="edge-2" data-search="edge-2 192.0.2.1:22" data-health="fail" data-site="" data-mode="not-read" data-conflict="none" data-drift="not-read" data-guard="none" data-flows="-1"`);
  // Declared → uci → kernel in the row; the three layers, the guard's last transaction and the flows in the card.
  expect(html).toMatch(/<td class="modes"><span class="pill hardware" title="hardware">hw<\/span><span class="arrow">→<\/span><span class="pill hardware" title="hardware">hw<\/span><span class="arrow">→<\/span><span class="pill software" title="software">sw<\/span><\/td>/);
  expect(html).toContain("<strong>Last guard transaction:</strong> confirmed at 2026-01-01 00:00:03 UTC: FirewallDefaults: hardware offload — transaction 20260101T000000.000Z-abcdef.");
  expect(html).toContain("<strong>Last guard transaction:</strong> restored by the guard (verify-failed) at 2026-01-01 00:00:03 UTC");
  expect(html).toContain("<strong>Flows:</strong> 0 hardware, 12 software of 40 flows offloaded.");
});

test("counts per group, each a filter, and the same counts in the filter's choices", () => {
  const html = renderAuditHtml([ok, gone, clean], meta);
  const chips = (facet: string) => [...html.matchAll(new RegExp(`data-facet="${facet}" data-value="([^"]*)">[^<]* <b>(\\d+)</b>`, "g"))].map((m) => `${m[1]}=${m[2]}`);
  expect(chips("site")).toEqual(["=1", "a&amp;b=1", "ams=1"]);
  expect(chips("mode")).toEqual(["hardware=1", "not-read=1", "software=1"]);
  expect(chips("conflict")).toEqual(["none=2", "config-runtime-mismatch=1"]);
  expect(chips("drift")).toEqual(["none=1", "not-read=1", "runtime-fallback=1"]);
  expect(chips("guard")).toEqual(["confirmed=1", "none=1", "restored=1"]);
  expect(html).toContain(`<select data-filter="guard"><option value="">all</option><option value="confirmed">confirmed (1)</option><option value="none">none (1)</option><option value="restored">restored (1)</option></select>`);
  expect(html).toMatch(/<span class="value">1<\/span><span class="what">restored by the guard<\/span>/);
});

test("drift --html: the same page for drift records, a router not in the stack is not a failure", () => {
  const drifted: DriftRecord = {
    name: "edge-1",
    host: "192.0.2.1",
    port: 22,
    labels: { site: "ams" },
    status: "drift",
    declared: { mode: "hardware", source: "stack", reason: "declared by edge-1-offload in the stack" },
    configuredMode: "hardware",
    runningMode: "software",
    drift: [{ class: "runtime-fallback", detail: "configured for hardware offload, but the kernel runs software offload" }],
    guard: ok.guard,
    flows: ok.flows,
    error: null,
    fix: null,
  };
  const skipped: DriftRecord = { ...drifted, name: "edge-9", status: "not-in-stack", declared: null, configuredMode: null, runningMode: null, drift: [], guard: null, flows: null };
  const html = renderDriftHtml([skipped, drifted], { ...meta, stackExport: "prod.json" });
  expect(html).toContain("<title>Flow offload drift: 2 routers</title>");
  expect(html).toContain("stack export <code>prod.json</code>");
  expect(html).toContain("<strong>Declared:</strong> hardware: declared by edge-1-offload in the stack.");
  expect([...html.matchAll(/<tr class="(\w+)" data-name="([^"]+)"/g)].map((m) => `${m[2]}:${m[1]}`)).toEqual(["edge-1:warn", "edge-9:ok"]);
  expect(html).toContain(`<span class="failure">not in the stack</span>`);
  expect(html).toContain("Not checked: edge-9 (not in the stack).");
});
