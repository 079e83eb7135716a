import type { Mode } from "../provider/fleet/policy";
import type { AuditRecord } from "./audit-record";

export interface ReportMeta {
  generatedAt: Date;
  inventory: string;
  policy: string;
  sqmPolicy: string;
}

type Health = "fail" | "warn" | "ok";

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function healthOf(r: AuditRecord): Health {
  if (r.status !== "ok") return "fail";
  return r.conflicts.length > 0 ? "warn" : "ok";
}

const STATUS_TEXT: Record<AuditRecord["status"], string> = {
  ok: "audited",
  unreachable: "unreachable",
  "host-key-mismatch": "host key mismatch",
  "auth-failed": "authentication failed",
  "read-failed": "could not be read",
};

function modePill(mode: Mode | null): string {
  return mode === null ? `<span class="pill unknown">?</span>` : `<span class="pill ${mode}">${mode}</span>`;
}

function kib(n: number): string {
  return n >= 1024 ? `${(n / 1024).toFixed(1)} MiB` : `${n} KiB`;
}

function card(r: AuditRecord): string {
  const health = healthOf(r);
  const badge =
    health === "fail" ? STATUS_TEXT[r.status] : health === "warn" ? `${r.conflicts.length} conflict${r.conflicts.length === 1 ? "" : "s"}` : "no conflicts";
  const meta = [r.model, r.release, r.target, r.kernel && `kernel ${r.kernel}`, r.firewall, r.packageManager, r.overlay && `${kib(r.overlay.availKiB)} free of ${kib(r.overlay.totalKiB)}`]
    .filter((x): x is string => typeof x === "string")
    .map(escapeHtml)
    .join(" · ");
  const labels = Object.entries(r.labels)
    .map(([k, v]) => `<span class="label">${escapeHtml(k)}=${escapeHtml(v)}</span>`)
    .join("");
  const body =
    r.status === "ok"
      ? `<dl class="modes">
      <div><dt>Capability</dt><dd><span class="pill ${r.capability!.hardware ? "hardware" : "software"}">${r.capability!.hardware ? "hardware" : "software only"}</span></dd></div>
      <div><dt>Configured (uci)</dt><dd>${modePill(r.configuredMode)}</dd></div>
      <div><dt>Running (kernel)</dt><dd>${modePill(r.runningMode)}</dd></div>
      <div><dt>Recommended</dt><dd>${modePill(r.recommendation!.mode)}${r.recommendation!.change ? `<span class="change">change</span>` : ""}</dd></div>
    </dl>
    <p class="reason"><strong>Capability:</strong> ${escapeHtml(r.capability!.reason)}</p>
    <p class="reason"><strong>Recommendation:</strong> ${r.recommendation!.change ? `switch from ${r.configuredMode} to ${r.recommendation!.mode}` : `keep ${r.recommendation!.mode}`}: ${escapeHtml(r.recommendation!.reason)}.</p>`
      : "";
  const conflicts =
    r.conflicts.length > 0
      ? `<ul class="conflicts">${r.conflicts.map((c) => `<li><span class="kind">${escapeHtml(c.kind)}</span> ${escapeHtml(c.detail)}</li>`).join("")}</ul>`
      : "";
  return `<article class="router ${health}" id="router-${escapeHtml(r.name)}">
    <header><h2>${escapeHtml(r.name)}</h2><span class="addr">${escapeHtml(r.host)}:${r.port}</span><span class="badge">${escapeHtml(badge)}</span></header>
    ${meta ? `<p class="meta">${meta}</p>` : ""}${labels ? `<p class="labels">${labels}</p>` : ""}
    ${body}
    ${conflicts}
  </article>`;
}

function stat(label: string, value: number, tone: "neutral" | Health | "info" = "neutral"): string {
  return `<div class="stat ${value > 0 ? tone : "neutral"}"><span class="value">${value}</span><span class="what">${escapeHtml(label)}</span></div>`;
}

/** What the kernels run across the fleet, as one bar: the proportions matter more than the counts. */
function runningNow(records: AuditRecord[]): string {
  const parts = (["hardware", "software", "off", "unknown"] as const)
    .map((mode) => ({ mode, n: records.filter((r) => (r.runningMode ?? "unknown") === mode).length }))
    .filter((p) => p.n > 0);
  const bar = parts.map((p) => `<span class="seg ${p.mode}" style="flex-grow:${p.n}"></span>`).join("");
  const legend = parts.map((p) => `<span class="key"><span class="dot ${p.mode}"></span>${p.n} ${p.mode === "unknown" ? "not read" : p.mode}</span>`).join("");
  return `<div class="stat running"><span class="what">offload running now (kernel)</span><div class="bar">${bar}</div><div class="legend">${legend}</div></div>`;
}

const CSS = `
:root { --bg:#f5f6f8; --card:#fff; --text:#1c2430; --muted:#5d6878; --line:#dde2e9;
  --ok:#1f8a4c; --ok-bg:#e5f5ec; --warn:#b86e00; --warn-bg:#fff3dc; --fail:#c62828; --fail-bg:#fde8e8;
  --hw:#5b3cc4; --hw-bg:#ece7fb; --sw:#0b7285; --sw-bg:#e0f4f7; --off:#59636e; --off-bg:#eceff2; }
@media (prefers-color-scheme: dark) {
  :root { --bg:#12161c; --card:#1b2129; --text:#e4e8ee; --muted:#9aa5b4; --line:#2c3440;
    --ok:#5fd08f; --ok-bg:#173325; --warn:#f2b155; --warn-bg:#3a2c12; --fail:#ff7b7b; --fail-bg:#3d1a1a;
    --hw:#b7a4ff; --hw-bg:#2c2452; --sw:#66d3e4; --sw-bg:#113840; --off:#aab4c0; --off-bg:#2a313b; }
}
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text); font:15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width:1280px; margin:0 auto; padding:28px 24px 48px; }
h1 { font-size:24px; margin:0 0 4px; }
.sub { color:var(--muted); margin:0 0 20px; }
.sub code { font-size:13px; }
.stats { display:grid; grid-template-columns:repeat(auto-fit, minmax(140px, 1fr)); gap:12px; margin-bottom:28px; }
.stat { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 14px; display:flex; flex-direction:column; }
.stat .value { font-size:28px; font-weight:700; line-height:1.1; }
.stat .what { color:var(--muted); font-size:13px; }
.stat.fail { border-color:var(--fail); background:var(--fail-bg); } .stat.fail .value { color:var(--fail); }
.stat.warn { border-color:var(--warn); background:var(--warn-bg); } .stat.warn .value { color:var(--warn); }
.stat.ok .value { color:var(--ok); } .stat.info .value { color:var(--hw); }
.stat.running { grid-column:span 2; justify-content:space-between; gap:6px; }
.bar { display:flex; height:12px; border-radius:6px; overflow:hidden; background:var(--off-bg); }
.seg { display:block; min-width:6px; } .seg.hardware, .dot.hardware { background:var(--hw); } .seg.software, .dot.software { background:var(--sw); }
.seg.off, .dot.off { background:var(--off); } .seg.unknown, .dot.unknown { background:var(--fail); }
.legend { display:flex; gap:12px; flex-wrap:wrap; font-size:13px; color:var(--muted); }
.dot { display:inline-block; width:9px; height:9px; border-radius:50%; margin-right:5px; }
.routers { display:grid; grid-template-columns:repeat(auto-fill, minmax(460px, 1fr)); gap:16px; }
.router { background:var(--card); border:1px solid var(--line); border-left:6px solid var(--ok); border-radius:10px; padding:14px 18px 16px; min-width:0; }
.router.warn { border-left-color:var(--warn); } .router.fail { border-left-color:var(--fail); }
.router header { display:flex; align-items:baseline; gap:10px; flex-wrap:wrap; }
.router h2 { font-size:18px; margin:0; }
.addr { color:var(--muted); font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:13px; }
.badge { margin-left:auto; font-size:12px; font-weight:600; padding:2px 10px; border-radius:999px; background:var(--ok-bg); color:var(--ok); }
.warn .badge { background:var(--warn-bg); color:var(--warn); } .fail .badge { background:var(--fail-bg); color:var(--fail); }
.meta { color:var(--muted); font-size:13px; margin:4px 0 0; overflow-wrap:anywhere; }
.labels { margin:6px 0 0; }
.label { display:inline-block; font-size:12px; border:1px solid var(--line); border-radius:6px; padding:0 6px; margin-right:6px; color:var(--muted); }
.modes { display:grid; grid-template-columns:repeat(4, minmax(0, 1fr)); gap:8px; margin:14px 0 10px; }
.modes div { min-width:0; }
.modes div { background:var(--bg); border-radius:8px; padding:8px 10px; }
.modes dt { font-size:11px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
.modes dd { margin:4px 0 0; display:flex; align-items:center; gap:6px; flex-wrap:wrap; }
.pill { display:inline-block; font-size:13px; font-weight:600; padding:1px 9px; border-radius:999px; white-space:nowrap; }
.pill.hardware { background:var(--hw-bg); color:var(--hw); } .pill.software { background:var(--sw-bg); color:var(--sw); }
.pill.off, .pill.unknown { background:var(--off-bg); color:var(--off); }
.change { font-size:11px; font-weight:700; text-transform:uppercase; color:var(--warn); }
.reason { margin:4px 0; font-size:14px; }
.conflicts { list-style:none; margin:12px 0 0; padding:0; display:flex; flex-direction:column; gap:6px; }
.conflicts li { background:var(--warn-bg); border-radius:8px; padding:7px 10px; font-size:14px; overflow-wrap:anywhere; }
.fail .conflicts li { background:var(--fail-bg); }
.kind { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; font-weight:700; color:var(--warn); margin-right:6px; }
.fail .kind { color:var(--fail); }
footer { margin-top:28px; color:var(--muted); font-size:13px; }
@media (max-width:560px) { .routers { grid-template-columns:1fr; } .modes { grid-template-columns:repeat(2, 1fr); } }
@media print { body { background:#fff; } .router { break-inside:avoid; } }
`;

/**
 * The audit as one self-contained page (inline CSS, no scripts, nothing fetched), for people:
 * counts first, then one card per router, the ones that need attention first.
 */
export function renderAuditHtml(records: AuditRecord[], meta: ReportMeta): string {
  const audited = records.filter((r) => r.status === "ok");
  const count = (pred: (r: AuditRecord) => boolean) => records.filter(pred).length;
  const order: Record<Health, number> = { fail: 0, warn: 1, ok: 2 };
  const sorted = records.map((r, i) => ({ r, i })).sort((a, b) => order[healthOf(a.r)] - order[healthOf(b.r)] || a.i - b.i);
  const failed = records.filter((r) => r.status !== "ok");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flow offload audit: ${records.length} router${records.length === 1 ? "" : "s"}</title>
<style>${CSS}</style>
</head>
<body>
<main>
  <h1>Flow offload audit</h1>
  <p class="sub">${escapeHtml(meta.generatedAt.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"))} · inventory <code>${escapeHtml(meta.inventory)}</code> · policy <strong>${escapeHtml(meta.policy)}</strong> · SQM policy <strong>${escapeHtml(meta.sqmPolicy)}</strong></p>
  <section class="stats" aria-label="summary">
    ${stat("routers", records.length)}
    ${stat("audited", audited.length, "ok")}
    ${stat("not reachable or readable", failed.length, "fail")}
    ${stat("with conflicts", count((r) => r.status === "ok" && r.conflicts.length > 0), "warn")}
    ${stat("changes recommended", count((r) => r.recommendation?.change === true), "info")}
    ${stat("hardware capable", count((r) => r.capability?.hardware === true), "info")}
    ${runningNow(records)}
  </section>
  <section class="routers">
  ${sorted.map(({ r }) => card(r)).join("\n  ")}
  </section>
  <footer>${failed.length === 0 ? "Every router was audited." : `Not audited: ${failed.map((r) => `${escapeHtml(r.name)} (${escapeHtml(STATUS_TEXT[r.status])})`).join(", ")}.`} Generated by openwrt-offload audit.</footer>
</main>
</body>
</html>
`;
}
