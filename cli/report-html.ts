import type { Drift } from "../provider/device/drift";
import type { Mode } from "../provider/fleet/policy";
import type { AuditRecord, Conflict, FlowCounts, GuardSummary } from "./audit-record";
import type { DriftRecord } from "./drift";

export interface ReportMeta {
  generatedAt: Date;
  inventory: string;
  policy: string;
  sqmPolicy: string;
  stackExport?: string;
}

type Health = "fail" | "warn" | "ok";

/**
 * One router as the report shows it, whichever command read it: audit and drift records map onto
 * this, so both reports are one page with the same table, filters and cards.
 */
interface Row {
  name: string;
  host: string;
  port: number;
  labels: Record<string, string>;
  /** Why the router could not be read or checked; null when it was. */
  failure: string | null;
  error: string | null;
  fix: string | null;
  health: Health;
  declared: { mode: Mode; source: string; reason: string; change?: boolean } | null;
  configuredMode: Mode | null;
  runningMode: Mode | null;
  conflicts: Conflict[];
  drift: Drift[];
  guard: GuardSummary | null;
  flows: FlowCounts | null;
  /** Facts only the audit reads. */
  facts: Pick<AuditRecord, "model" | "release" | "target" | "kernel" | "firewall" | "packageManager" | "capability" | "overlay"> | null;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const AUDIT_FAILURE: Record<Exclude<AuditRecord["status"], "ok">, string> = {
  unreachable: "unreachable",
  "host-key-mismatch": "host key mismatch",
  "auth-failed": "authentication failed",
  "read-failed": "could not be read",
};

function fromAudit(r: AuditRecord): Row {
  const failure = r.status === "ok" ? null : AUDIT_FAILURE[r.status];
  return {
    name: r.name,
    host: r.host,
    port: r.port,
    labels: r.labels,
    failure,
    error: r.error,
    fix: r.fix,
    // Not yet applied is what a recommended change already says; any other drift needs a look.
    health: failure ? "fail" : r.conflicts.length > 0 || r.drift.some((d) => d.class !== "not-applied") ? "warn" : "ok",
    declared: r.recommendation,
    configuredMode: r.configuredMode,
    runningMode: r.runningMode,
    // A failed read is the row's failure, not a conflict to filter by.
    conflicts: failure ? [] : r.conflicts,
    drift: r.drift,
    guard: r.guard,
    flows: r.flows,
    facts: failure ? null : r,
  };
}

function fromDrift(r: DriftRecord): Row {
  const failure = r.status === "error" ? "could not be checked" : r.status === "not-in-stack" ? "not in the stack" : null;
  return {
    name: r.name,
    host: r.host,
    port: r.port,
    labels: r.labels,
    failure,
    error: r.error,
    fix: r.fix,
    health: r.status === "error" ? "fail" : r.drift.length > 0 ? "warn" : "ok",
    declared: r.declared,
    configuredMode: r.configuredMode,
    runningMode: r.runningMode,
    conflicts: [],
    drift: r.drift,
    guard: r.guard,
    flows: r.flows,
    facts: null,
  };
}

const SHORT: Record<Mode, string> = { hardware: "hw", software: "sw", off: "off" };

function modePill(mode: Mode | null, short = false): string {
  if (mode === null) return `<span class="pill unknown" title="not read">?</span>`;
  return `<span class="pill ${mode}" title="${mode}">${short ? SHORT[mode] : mode}</span>`;
}

function kib(n: number): string {
  return n >= 1024 ? `${(n / 1024).toFixed(1)} MiB` : `${n} KiB`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The anchor of a router's card; inventory names are already safe, resource names from a stack may not be. */
const cardId = (r: Row) => `router-${r.name.replace(/[^A-Za-z0-9._-]/g, "_")}`;

function when(iso: string | null): string {
  return iso ? iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC") : "";
}

const GUARD_WORDS: Record<GuardSummary["state"], string> = {
  open: "waiting for confirmation",
  confirmed: "confirmed",
  restored: "restored by the guard",
  "rolled-back": "rolled back by an operator",
  completed: "completed after a crash",
  aborted: "aborted",
};

function guardLine(g: GuardSummary): string {
  const why = g.reason ? ` (${g.reason})` : "";
  return `${GUARD_WORDS[g.state]}${why}${g.at ? ` at ${when(g.at)}` : ""}: ${g.description} — transaction ${g.txid}`;
}

function flowsText(f: FlowCounts): string {
  return `${f.hardware} hardware, ${f.software} software of ${f.total} flows offloaded`;
}

/** What the filters and sorting read: one attribute per dimension, space-separated where a router has several. */
function dataAttributes(r: Row): string {
  const site = r.labels.site ?? "";
  const offloaded = r.flows ? r.flows.hardware + r.flows.software : -1;
  const search = [r.name, `${r.host}:${r.port}`, ...Object.entries(r.labels).map(([k, v]) => `${k}=${v}`)].join(" ").toLowerCase();
  const attrs: Record<string, string> = {
    name: r.name,
    search,
    health: r.health,
    site,
    mode: r.failure ? "not-read" : (r.runningMode ?? "not-read"),
    conflict: r.conflicts.map((c) => c.kind).join(" ") || "none",
    drift: r.failure ? "not-read" : r.drift.map((d) => d.class).join(" ") || "none",
    guard: r.guard?.state ?? "none",
    flows: String(offloaded),
    when: r.guard?.at ?? "",
  };
  return Object.entries(attrs)
    .map(([k, v]) => `data-${k}="${escapeHtml(v)}"`)
    .join(" ");
}

function tags(items: string[], tone: "warn" | "fail" | "ok"): string {
  return items.length === 0 ? `<span class="none">none</span>` : [...new Set(items)].map((t) => `<span class="tag ${tone}">${escapeHtml(t)}</span>`).join(" ");
}

function tableRow(r: Row): string {
  const modes = r.failure
    ? `<span class="failure">${escapeHtml(r.failure)}</span>`
    : `${modePill(r.declared?.mode ?? null, true)}<span class="arrow">→</span>${modePill(r.configuredMode, true)}<span class="arrow">→</span>${modePill(r.runningMode, true)}`;
  const guard = r.guard
    ? `<span class="tag guard-${r.guard.state}" title="${escapeHtml(guardLine(r.guard))}">${escapeHtml(r.guard.state)}</span>${r.guard.at ? ` <span class="muted">${escapeHtml(r.guard.at.slice(5, 16).replace("T", " "))}</span>` : ""}`
    : `<span class="none">none</span>`;
  const flows = r.flows ? `${r.flows.hardware + r.flows.software}<span class="muted">/${r.flows.total}</span>` : `<span class="none">-</span>`;
  return `<tr class="${r.health}" ${dataAttributes(r)}>
<td class="name"><a href="#${cardId(r)}" title="${escapeHtml(r.host)}:${r.port}">${escapeHtml(r.name)}</a></td>
<td>${escapeHtml(r.labels.site ?? "")}</td>
<td class="modes">${modes}</td>
<td>${r.failure ? `<span class="none">-</span>` : tags(r.conflicts.map((c) => c.kind), "warn")}</td>
<td>${r.failure ? `<span class="none">-</span>` : tags(r.drift.map((d) => d.class), "warn")}</td>
<td>${guard}</td>
<td class="num">${flows}</td>
</tr>`;
}

function card(r: Row): string {
  const found = [r.conflicts.length > 0 && plural(r.conflicts.length, "conflict"), r.drift.length > 0 && `drift: ${r.drift.map((d) => d.class).join(", ")}`].filter(Boolean).join("; ");
  const badge = r.failure ?? (found || "no conflicts, no drift");
  const f = r.facts;
  const meta = f
    ? [f.model, f.release, f.target, f.kernel && `kernel ${f.kernel}`, f.firewall, f.packageManager, f.overlay && `${kib(f.overlay.availKiB)} free of ${kib(f.overlay.totalKiB)}`]
        .filter((x): x is string => typeof x === "string")
        .map(escapeHtml)
        .join(" · ")
    : "";
  const labels = Object.entries(r.labels)
    .map(([k, v]) => `<span class="label">${escapeHtml(k)}=${escapeHtml(v)}</span>`)
    .join("");
  const layers = r.failure
    ? ""
    : `<dl class="layers">
      <div><dt>Declared (${escapeHtml(r.declared?.source ?? "-")})</dt><dd>${modePill(r.declared?.mode ?? null)}${r.declared?.change ? `<span class="change">change</span>` : ""}</dd></div>
      <div><dt>uci</dt><dd>${modePill(r.configuredMode)}</dd></div>
      <div><dt>Kernel</dt><dd>${modePill(r.runningMode)}</dd></div>
      ${f?.capability ? `<div><dt>Capability</dt><dd><span class="pill ${f.capability.hardware ? "hardware" : "software"}">${f.capability.hardware ? "hardware" : "software only"}</span></dd></div>` : ""}
    </dl>`;
  const lines: string[] = [];
  if (f?.capability) lines.push(`<p class="reason"><strong>Capability:</strong> ${escapeHtml(f.capability.reason)}</p>`);
  if (r.declared && !r.failure) {
    const verb = r.declared.change === undefined ? `${r.declared.mode}` : r.declared.change ? `switch from ${r.configuredMode} to ${r.declared.mode}` : `keep ${r.declared.mode}`;
    lines.push(`<p class="reason"><strong>${r.declared.change === undefined ? "Declared" : "Recommendation"}:</strong> ${escapeHtml(verb)}: ${escapeHtml(r.declared.reason)}.</p>`);
  }
  if (r.flows) lines.push(`<p class="reason"><strong>Flows:</strong> ${escapeHtml(flowsText(r.flows))}.</p>`);
  lines.push(`<p class="reason"><strong>Last guard transaction:</strong> ${r.guard ? escapeHtml(guardLine(r.guard)) : "none kept on the router"}.</p>`);
  const items = [
    ...(r.failure && r.error ? [{ kind: r.failure, detail: r.error }] : []),
    ...r.conflicts,
    ...r.drift.map((d) => ({ kind: d.class, detail: d.detail })),
  ];
  const fix = r.fix ? `<p class="reason"><strong>What happened:</strong> ${escapeHtml(r.fix)}</p>` : "";
  const list = items.length > 0 ? `<ul class="conflicts">${items.map((c) => `<li><span class="kind">${escapeHtml(c.kind)}</span> ${escapeHtml(c.detail)}</li>`).join("")}</ul>` : "";
  return `<article class="card ${r.health}" id="${cardId(r)}">
    <header><h2>${escapeHtml(r.name)}</h2><span class="addr">${escapeHtml(r.host)}:${r.port}</span><span class="badge">${escapeHtml(badge)}</span></header>
    ${meta ? `<p class="meta">${meta}</p>` : ""}${labels ? `<p class="labels">${labels}</p>` : ""}
    ${r.failure ? "" : layers}
    ${r.failure ? fix : lines.join("\n    ")}
    ${list}
  </article>`;
}

function stat(label: string, value: number, tone: "neutral" | Health | "info" = "neutral"): string {
  return `<div class="stat ${value > 0 ? tone : "neutral"}"><span class="value">${value}</span><span class="what">${escapeHtml(label)}</span></div>`;
}

/** What the kernels run across the fleet, as one bar: the proportions matter more than the counts. */
function runningNow(rows: Row[]): string {
  const parts = (["hardware", "software", "off", "unknown"] as const)
    .map((mode) => ({ mode, n: rows.filter((r) => (r.failure ? "unknown" : (r.runningMode ?? "unknown")) === mode).length }))
    .filter((p) => p.n > 0);
  const bar = parts.map((p) => `<span class="seg ${p.mode}" style="flex-grow:${p.n}"></span>`).join("");
  const legend = parts.map((p) => `<span class="key"><span class="dot ${p.mode}"></span>${p.n} ${p.mode === "unknown" ? "not read" : p.mode}</span>`).join("");
  return `<div class="stat running"><span class="what">offload running now (kernel)</span><div class="bar">${bar}</div><div class="legend">${legend}</div></div>`;
}

interface Facet {
  key: string;
  title: string;
  values: (r: Row) => string[];
}

const FACETS: Facet[] = [
  { key: "site", title: "Site", values: (r) => [r.labels.site ?? ""] },
  { key: "mode", title: "Kernel", values: (r) => [r.failure ? "not-read" : (r.runningMode ?? "not-read")] },
  { key: "conflict", title: "Conflict", values: (r) => (r.conflicts.length ? [...new Set(r.conflicts.map((c) => c.kind))] : ["none"]) },
  { key: "drift", title: "Drift", values: (r) => (r.failure ? ["not-read"] : r.drift.length ? [...new Set(r.drift.map((d) => d.class))] : ["none"]) },
  { key: "guard", title: "Guard", values: (r) => [r.guard?.state ?? "none"] },
];

/** Counts per group, each a filter: the select lists the same groups with the same counts. */
function facets(rows: Row[]): { chips: string; selects: string } {
  const counted = FACETS.map((f) => {
    const counts = new Map<string, number>();
    for (const r of rows) for (const v of f.values(r)) counts.set(v, (counts.get(v) ?? 0) + 1);
    return { f, counts: [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])) };
  });
  const label = (v: string) => (v === "" ? "(no site)" : v);
  const chips = counted
    .filter(({ f, counts }) => f.key !== "site" || counts.some(([v]) => v !== ""))
    .map(
      ({ f, counts }) =>
        `<div class="facet"><span class="facet-title">${f.title}</span>${counts
          .map(([v, n]) => `<button type="button" class="chip" data-facet="${f.key}" data-value="${escapeHtml(v)}">${escapeHtml(label(v))} <b>${n}</b></button>`)
          .join("")}</div>`,
    )
    .join("\n");
  const selects = counted
    .map(
      ({ f, counts }) =>
        `<label>${f.title} <select data-filter="${f.key}"><option value="">all</option>${counts
          .map(([v, n]) => `<option value="${escapeHtml(v)}">${escapeHtml(label(v))} (${n})</option>`)
          .join("")}</select></label>`,
    )
    .join("\n");
  return { chips, selects };
}

const CSS = `
:root { --bg:#f5f6f8; --card:#fff; --text:#1c2430; --muted:#5d6878; --line:#dde2e9; --hover:#eef2f7; --sel:#e3ecfb;
  --ok:#1f8a4c; --ok-bg:#e5f5ec; --warn:#b86e00; --warn-bg:#fff3dc; --fail:#c62828; --fail-bg:#fde8e8;
  --hw:#5b3cc4; --hw-bg:#ece7fb; --sw:#0b7285; --sw-bg:#e0f4f7; --off:#59636e; --off-bg:#eceff2; }
@media (prefers-color-scheme: dark) {
  :root { --bg:#12161c; --card:#1b2129; --text:#e4e8ee; --muted:#9aa5b4; --line:#2c3440; --hover:#222a34; --sel:#22314a;
    --ok:#5fd08f; --ok-bg:#173325; --warn:#f2b155; --warn-bg:#3a2c12; --fail:#ff7b7b; --fail-bg:#3d1a1a;
    --hw:#b7a4ff; --hw-bg:#2c2452; --sw:#66d3e4; --sw-bg:#113840; --off:#aab4c0; --off-bg:#2a313b; }
}
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text); font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width:1600px; margin:0 auto; padding:20px 20px 40px; }
h1 { font-size:22px; margin:0 0 2px; }
.sub { color:var(--muted); margin:0 0 14px; }
.sub code { font-size:12px; }
.stats { display:grid; grid-template-columns:repeat(auto-fit, minmax(120px, 1fr)); gap:10px; margin-bottom:14px; }
.stat { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:8px 12px; display:flex; flex-direction:column; }
.stat .value { font-size:22px; font-weight:700; line-height:1.1; }
.stat .what { color:var(--muted); font-size:12px; }
.stat.fail { border-color:var(--fail); background:var(--fail-bg); } .stat.fail .value { color:var(--fail); }
.stat.warn { border-color:var(--warn); background:var(--warn-bg); } .stat.warn .value { color:var(--warn); }
.stat.ok .value { color:var(--ok); } .stat.info .value { color:var(--hw); }
.stat.running { grid-column:span 2; justify-content:space-between; gap:4px; }
.bar { display:flex; height:10px; border-radius:5px; overflow:hidden; background:var(--off-bg); }
.seg { display:block; min-width:6px; } .seg.hardware, .dot.hardware { background:var(--hw); } .seg.software, .dot.software { background:var(--sw); }
.seg.off, .dot.off { background:var(--off); } .seg.unknown, .dot.unknown { background:var(--fail); }
.legend { display:flex; gap:10px; flex-wrap:wrap; font-size:12px; color:var(--muted); }
.dot { display:inline-block; width:8px; height:8px; border-radius:50%; margin-right:4px; }
.facets { display:flex; flex-direction:column; gap:4px; margin-bottom:10px; }
.facet { display:flex; flex-wrap:wrap; align-items:center; gap:4px; }
.facet-title { width:88px; color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.chip { font:inherit; font-size:12px; border:1px solid var(--line); background:var(--card); color:var(--text); border-radius:999px; padding:1px 9px; cursor:pointer; }
.chip b { color:var(--muted); font-weight:600; margin-left:2px; }
.chip.on { border-color:var(--hw); background:var(--hw-bg); }
.filters { display:flex; flex-wrap:wrap; gap:8px 14px; align-items:center; padding:8px 10px; background:var(--card); border:1px solid var(--line); border-radius:8px; position:sticky; top:0; z-index:2; }
.filters label { font-size:12px; color:var(--muted); }
.filters input, .filters select { font:inherit; font-size:13px; color:var(--text); background:var(--bg); border:1px solid var(--line); border-radius:6px; padding:3px 6px; }
.filters input { width:220px; }
.filters .shown { margin-left:auto; font-size:13px; }
.filters button { font:inherit; font-size:12px; border:1px solid var(--line); background:var(--bg); color:var(--text); border-radius:6px; padding:3px 8px; cursor:pointer; }
.layout { display:grid; grid-template-columns:minmax(0, 1fr) 420px; gap:14px; align-items:start; margin-top:10px; }
table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:8px; font-size:13px; }
thead th { position:sticky; top:46px; background:var(--card); text-align:left; font-size:11px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); border-bottom:1px solid var(--line); padding:0; z-index:1; }
th button { all:unset; display:block; padding:6px 8px; cursor:pointer; width:100%; box-sizing:border-box; }
th[aria-sort="ascending"] button::after { content:" ▲"; } th[aria-sort="descending"] button::after { content:" ▼"; }
td { padding:4px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
tbody tr { cursor:pointer; border-left:3px solid transparent; }
tbody tr:hover { background:var(--hover); } tbody tr.selected { background:var(--sel); }
tbody tr.warn td:first-child { box-shadow:inset 3px 0 var(--warn); } tbody tr.fail td:first-child { box-shadow:inset 3px 0 var(--fail); } tbody tr.ok td:first-child { box-shadow:inset 3px 0 var(--ok); }
td a { color:inherit; font-weight:600; text-decoration:none; }
td.name { white-space:nowrap; }
.addr, .muted { color:var(--muted); font-size:11px; font-family:ui-monospace, SFMono-Regular, Menlo, monospace; }
td.modes { white-space:nowrap; } .arrow { color:var(--muted); margin:0 2px; font-size:11px; }
td.num { text-align:right; white-space:nowrap; }
.failure { color:var(--fail); font-weight:600; }
.none { color:var(--muted); }
.tag { display:inline-block; font-size:11px; font-weight:600; border-radius:4px; padding:0 5px; margin:1px 0; white-space:nowrap; }
.tag.warn { background:var(--warn-bg); color:var(--warn); } .tag.fail { background:var(--fail-bg); color:var(--fail); }
.tag.guard-confirmed { background:var(--ok-bg); color:var(--ok); } .tag.guard-restored, .tag.guard-aborted { background:var(--fail-bg); color:var(--fail); }
.tag.guard-open, .tag.guard-rolled-back, .tag.guard-completed { background:var(--warn-bg); color:var(--warn); }
.pill { display:inline-block; font-size:12px; font-weight:600; padding:0 7px; border-radius:999px; white-space:nowrap; }
.pill.hardware { background:var(--hw-bg); color:var(--hw); } .pill.software { background:var(--sw-bg); color:var(--sw); }
.pill.off, .pill.unknown { background:var(--off-bg); color:var(--off); }
.detail { position:sticky; top:60px; max-height:calc(100vh - 72px); overflow:auto; }
.placeholder { background:var(--card); border:1px dashed var(--line); border-radius:8px; padding:16px; color:var(--muted); }
html:not(.js) .detail:has(.card:target) .placeholder, .detail:has(.card.shown) .placeholder { display:none; }
.card { display:none; background:var(--card); border:1px solid var(--line); border-left:5px solid var(--ok); border-radius:8px; padding:12px 14px 14px; }
html:not(.js) .card:target, .card.shown { display:block; }
.card.warn { border-left-color:var(--warn); } .card.fail { border-left-color:var(--fail); }
.card header { display:flex; align-items:baseline; gap:8px; flex-wrap:wrap; }
.card h2 { font-size:17px; margin:0; }
.badge { margin-left:auto; font-size:11px; font-weight:600; padding:1px 8px; border-radius:999px; background:var(--ok-bg); color:var(--ok); }
.card.warn .badge { background:var(--warn-bg); color:var(--warn); } .card.fail .badge { background:var(--fail-bg); color:var(--fail); }
.meta { color:var(--muted); font-size:12px; margin:4px 0 0; overflow-wrap:anywhere; }
.labels { margin:6px 0 0; }
.label { display:inline-block; font-size:11px; border:1px solid var(--line); border-radius:5px; padding:0 5px; margin-right:5px; color:var(--muted); }
.layers { display:grid; grid-template-columns:repeat(2, minmax(0, 1fr)); gap:6px; margin:10px 0 8px; }
.layers div { min-width:0; background:var(--bg); border-radius:6px; padding:6px 8px; }
.layers dt { font-size:10px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
.layers dd { margin:3px 0 0; display:flex; align-items:center; gap:6px; flex-wrap:wrap; }
.change { font-size:10px; font-weight:700; text-transform:uppercase; color:var(--warn); }
.reason { margin:4px 0; font-size:13px; overflow-wrap:anywhere; }
.conflicts { list-style:none; margin:10px 0 0; padding:0; display:flex; flex-direction:column; gap:5px; }
.conflicts li { background:var(--warn-bg); border-radius:6px; padding:6px 9px; font-size:13px; overflow-wrap:anywhere; }
.card.fail .conflicts li { background:var(--fail-bg); }
.kind { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:11px; font-weight:700; color:var(--warn); margin-right:5px; }
.card.fail .kind { color:var(--fail); }
footer { margin-top:20px; color:var(--muted); font-size:12px; }
@media (max-width:1000px) { .layout { grid-template-columns:1fr; } .detail { position:static; max-height:none; } }
@media print { body { background:#fff; } .filters, .facets { display:none; } .card { display:block; break-inside:avoid; margin-top:8px; } .placeholder { display:none; } }
`;

/**
 * Filtering, sorting and the detail view. The table and every card are already in the page; this
 * only hides rows, reorders them and picks the card to show, so the page still reads without it.
 */
const SCRIPT = `
(() => {
  document.documentElement.classList.add("js");
  const body = document.querySelector("#fleet tbody");
  const rows = Array.from(body.rows);
  const search = document.getElementById("search");
  const selects = Array.from(document.querySelectorAll("select[data-filter]"));
  const chips = Array.from(document.querySelectorAll(".chip"));
  const shown = document.getElementById("shown");
  const has = (row, key, value) => value === "" || (key === "site" ? row.dataset.site === value : row.dataset[key].split(" ").includes(value));
  function apply() {
    const words = search.value.trim().toLowerCase().split(/\\s+/).filter(Boolean);
    let n = 0;
    for (const row of rows) {
      const ok = words.every((w) => row.dataset.search.includes(w)) && selects.every((s) => has(row, s.dataset.filter, s.value));
      row.hidden = !ok;
      if (ok) n++;
    }
    shown.textContent = n === rows.length ? "all " + rows.length + " routers" : n + " of " + rows.length + " routers";
    for (const chip of chips) chip.classList.toggle("on", selects.some((s) => s.dataset.filter === chip.dataset.facet && s.value === chip.dataset.value));
  }
  search.addEventListener("input", apply);
  for (const s of selects) s.addEventListener("change", apply);
  for (const chip of chips) {
    chip.addEventListener("click", () => {
      const s = selects.find((x) => x.dataset.filter === chip.dataset.facet);
      s.value = s.value === chip.dataset.value ? "" : chip.dataset.value;
      apply();
    });
  }
  document.getElementById("clear").addEventListener("click", () => {
    search.value = "";
    for (const s of selects) s.value = "";
    apply();
  });
  const keyOf = { name: (r) => r.dataset.name.toLowerCase(), flows: (r) => Number(r.dataset.flows) };
  for (const th of document.querySelectorAll("#fleet th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.sort;
      const dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      for (const other of document.querySelectorAll("#fleet th[aria-sort]")) other.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      const get = keyOf[key] || ((r) => r.dataset[key] || "");
      const sorted = rows.slice().sort((a, b) => {
        const x = get(a), y = get(b);
        return (x < y ? -1 : x > y ? 1 : 0) * dir || rows.indexOf(a) - rows.indexOf(b);
      });
      for (const row of sorted) body.appendChild(row);
    });
  }
  function select(id) {
    for (const c of document.querySelectorAll(".card.shown")) c.classList.remove("shown");
    for (const r of document.querySelectorAll("tbody tr.selected")) r.classList.remove("selected");
    const card = document.getElementById(id);
    if (!card) return;
    card.classList.add("shown");
    const row = rows.find((r) => r.querySelector("a").getAttribute("href") === "#" + id);
    if (row) row.classList.add("selected");
  }
  body.addEventListener("click", (e) => {
    const row = e.target.closest("tr");
    if (!row) return;
    e.preventDefault();
    const id = row.querySelector("a").getAttribute("href").slice(1);
    history.replaceState(null, "", "#" + id);
    select(id);
  });
  if (location.hash) select(decodeURIComponent(location.hash.slice(1)));
  apply();
})();
`;

/** Who could not be read, by name up to a point: past that the table's filter lists them better. */
function notRead(failed: Row[]): string {
  const named = failed.slice(0, 10).map((r) => `${escapeHtml(r.name)} (${escapeHtml(r.failure!)})`);
  return failed.length > named.length ? `${named.join(", ")} and ${failed.length - named.length} more` : named.join(", ");
}

const COLUMNS: { key: string; title: string; hint: string }[] = [
  { key: "name", title: "Router", hint: "name (the address shows on hover)" },
  { key: "site", title: "Site", hint: "the site label" },
  { key: "mode", title: "Declared → uci → kernel", hint: "what was declared, what uci holds, what the kernel runs" },
  { key: "conflict", title: "Conflicts", hint: "what stands in the way" },
  { key: "drift", title: "Drift", hint: "drift classes" },
  { key: "when", title: "Guard", hint: "the last guard transaction and its result" },
  { key: "flows", title: "Offloaded", hint: "offloaded flows of all flows" },
];

function renderReport(kind: "audit" | "drift", rows: Row[], meta: ReportMeta): string {
  const title = kind === "audit" ? "Flow offload audit" : "Flow offload drift";
  const count = (pred: (r: Row) => boolean) => rows.filter(pred).length;
  const read = rows.filter((r) => !r.failure);
  const order: Record<Health, number> = { fail: 0, warn: 1, ok: 2 };
  // Problems first; within a group the inventory's order.
  const sorted = rows.map((r, i) => ({ r, i })).sort((a, b) => order[a.r.health] - order[b.r.health] || a.i - b.i).map(({ r }) => r);
  const failed = rows.filter((r) => r.failure);
  const { chips, selects } = facets(rows);
  const source = meta.stackExport ? ` · stack export <code>${escapeHtml(meta.stackExport)}</code>` : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${title}: ${plural(rows.length, "router")}</title>
<style>${CSS}</style>
</head>
<body>
<main>
  <h1>${title}</h1>
  <p class="sub">${escapeHtml(when(meta.generatedAt.toISOString()))} · inventory <code>${escapeHtml(meta.inventory)}</code>${source} · policy <strong>${escapeHtml(meta.policy)}</strong> · SQM policy <strong>${escapeHtml(meta.sqmPolicy)}</strong></p>
  <section class="stats" aria-label="summary">
    ${stat("routers", rows.length)}
    ${stat(kind === "audit" ? "audited" : "checked", read.length, "ok")}
    ${stat(kind === "audit" ? "not reachable or readable" : "not checked", failed.length, "fail")}
    ${kind === "audit" ? stat("with conflicts", count((r) => r.conflicts.length > 0), "warn") : ""}
    ${stat("drifted", count((r) => r.drift.length > 0), "warn")}
    ${kind === "audit" ? stat("changes recommended", count((r) => r.declared?.change === true), "info") : ""}
    ${stat("restored by the guard", count((r) => r.guard?.state === "restored"), "fail")}
    ${runningNow(rows)}
  </section>
  <section class="facets" aria-label="counts per group">
${chips}
  </section>
  <form class="filters" role="search" onsubmit="return false">
    <label>Find <input id="search" type="search" placeholder="name, address or label=value" autocomplete="off"></label>
${selects}
    <button type="button" id="clear">clear</button>
    <span class="shown" id="shown" aria-live="polite">all ${rows.length} routers</span>
  </form>
  <div class="layout">
    <table id="fleet">
      <thead><tr>${COLUMNS.map((c) => `<th data-sort="${c.key}" title="${escapeHtml(c.hint)}"><button type="button">${escapeHtml(c.title)}</button></th>`).join("")}</tr></thead>
      <tbody>
${sorted.map(tableRow).join("\n")}
      </tbody>
    </table>
    <aside class="detail" aria-label="router details">
      <p class="placeholder">Select a router to see its details: facts, the three layers, every conflict and drift with its cause, the last guard transaction.</p>
${sorted.map(card).join("\n")}
    </aside>
  </div>
  <footer>${failed.length === 0 ? `Every router was ${kind === "audit" ? "audited" : "checked"}.` : `Not ${kind === "audit" ? "audited" : "checked"}: ${notRead(failed)}.`} Generated by openwrt-offload ${kind}.</footer>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/**
 * A fleet's audit as one self-contained page (inline CSS and script, nothing fetched): counts per
 * group, a sortable, filterable table with the problems first, and each router's card as its
 * detail view.
 */
export function renderAuditHtml(records: AuditRecord[], meta: ReportMeta): string {
  return renderReport("audit", records.map(fromAudit), meta);
}

/** The same page for `drift`: declared, uci and kernel per router, with the drift classes. */
export function renderDriftHtml(records: DriftRecord[], meta: ReportMeta): string {
  return renderReport("drift", records.map(fromDrift), meta);
}
