import type { OperationSample, ScenarioResult, ToolName } from "./scenario";
import { OPERATIONS, type Operation } from "./workload";

/** Resources per router in the benchmark's program (Router, OffloadPackages, FirewallDefaults, Flowtable). */
export const RESOURCES_PER_ROUTER = 4;

export interface Row {
  routers: number;
  latencyMs: number;
  operation: Operation;
  tool: ToolName;
  runs: number;
  /** Each field's median over the runs. */
  median: OperationSample;
  perRouter: { handshakes: number; execs: number; kib: number };
  samples: OperationSample[];
  errors: string[];
}

export interface Target {
  target: string;
  measured: string;
  /** null: this run did not include what the target needs. */
  met: boolean | null;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function medianSample(samples: OperationSample[]): OperationSample {
  const keys = Object.keys(samples[0]) as (keyof OperationSample)[];
  return Object.fromEntries(keys.map((k) => [k, median(samples.map((s) => s[k]))])) as unknown as OperationSample;
}

export function rowsOf(scenarios: ScenarioResult[]): Row[] {
  return scenarios.flatMap((scenario) =>
    scenario.operations.map(({ operation, samples, errors }) => {
      const m = medianSample(samples);
      return {
        routers: scenario.routers,
        latencyMs: scenario.latencyMs,
        operation,
        tool: scenario.tool,
        runs: samples.length,
        median: m,
        perRouter: {
          handshakes: m.handshakes / scenario.routers,
          execs: m.execs / scenario.routers,
          kib: (m.bytesSent + m.bytesReceived) / 1024 / scenario.routers,
        },
        samples,
        errors,
      };
    }),
  );
}

const order = (r: Row) => [r.routers, r.latencyMs, OPERATIONS.indexOf(r.operation), r.tool === "ours" ? 0 : 1];

function byKey(a: Row, b: Row): number {
  const [x, y] = [order(a), order(b)];
  const i = x.findIndex((v, k) => v !== y[k]);
  return i < 0 ? 0 : x[i] - y[i];
}

const fixed = (n: number, digits = 0) => n.toFixed(digits);
const perRouter = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/** The results as a Markdown table, ours next to the baseline for every size, latency and operation. */
export function renderTable(rows: Row[]): string {
  const header = [
    "routers",
    "latency",
    "operation",
    "tool",
    "runs",
    "wall ms",
    "speed-up (naive ÷ ours)",
    "handshakes/router",
    "execs/router",
    "KiB/router",
    "client CPU ms",
    "router CPU ms",
    "peak RSS MiB",
    "routers written",
    "failed",
  ];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const row of [...rows].sort(byKey)) {
    const naive = rows.find((r) => r.tool === "naive" && r.routers === row.routers && r.latencyMs === row.latencyMs && r.operation === row.operation);
    const ratio = row.tool === "ours" && naive ? `${(naive.median.wallMs / Math.max(row.median.wallMs, 1)).toFixed(1)}×` : "";
    lines.push(
      `| ${[
        row.routers,
        `${row.latencyMs} ms`,
        row.operation,
        row.tool,
        row.runs,
        fixed(row.median.wallMs),
        ratio,
        perRouter(row.perRouter.handshakes),
        perRouter(row.perRouter.execs),
        fixed(row.perRouter.kib, 1),
        fixed(row.median.cpuMs),
        fixed(row.median.routerCpuMs),
        fixed(row.median.peakRssMiB),
        row.median.routersWritten,
        Math.max(...row.samples.map((s) => s.failed)),
      ].join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

/** The issue's targets against what this run measured (each says so when the run did not cover it). */
export function evaluateTargets(rows: Row[]): Target[] {
  const ours = rows.filter((r) => r.tool === "ours");
  const targets: Target[] = [];

  const worst = new Map<Operation, number>();
  for (const r of ours) worst.set(r.operation, Math.max(worst.get(r.operation) ?? 0, r.perRouter.handshakes));
  const over = [...worst].filter(([, v]) => v > 1);
  targets.push({
    target: "at most 1 SSH handshake per router per process, for any operation",
    measured: [...worst].map(([op, v]) => `${op} ${perRouter(v)}`).join(", ") || "nothing measured",
    met: worst.size === 0 ? null : over.length === 0,
  });

  const refreshes = ours.filter((r) => r.operation === "refresh");
  const execsPerRead = Math.max(0, ...refreshes.map((r) => r.median.execs / (r.routers * RESOURCES_PER_ROUTER)));
  targets.push({
    target: "at most 1 exec per resource read",
    measured: refreshes.length ? `${perRouter(execsPerRead)} execs per resource read (refresh, worst case)` : "no refresh measured",
    met: refreshes.length ? execsPerRead <= 1 : null,
  });

  const noops = ours.filter((r) => r.operation === "noopApply");
  const written = noops.reduce((sum, r) => sum + Math.max(...r.samples.map((s) => s.routersWritten)), 0);
  const changed = noops.reduce((sum, r) => sum + Math.max(...r.samples.map((s) => s.changed)), 0);
  targets.push({
    target: "a no-op apply makes no writes",
    measured: noops.length ? `${written} router(s) written, ${changed} update(s) over ${noops.reduce((n, r) => n + r.samples.length, 0)} no-op applies` : "no no-op apply measured",
    met: noops.length ? written === 0 && changed === 0 : null,
  });

  const find = (tool: ToolName) => rows.find((r) => r.tool === tool && r.routers === 200 && r.latencyMs === 50 && r.operation === "refresh");
  const [o, n] = [find("ours"), find("naive")];
  targets.push({
    target: "refresh of 200 routers at 50 ms: at least 10× faster than the baseline, and under 30 s",
    measured: o && n ? `ours ${(o.median.wallMs / 1000).toFixed(1)} s, naive ${(n.median.wallMs / 1000).toFixed(1)} s: ${(n.median.wallMs / o.median.wallMs).toFixed(1)}×` : "not part of this run (needs --sizes 200 --latencies 50)",
    met: o && n ? n.median.wallMs / o.median.wallMs >= 10 && o.median.wallMs < 30_000 : null,
  });

  // The process's lifetime peak, per fleet size: each scenario runs in a process of its own.
  const peaks = new Map<number, number>();
  for (const r of ours) peaks.set(r.routers, Math.max(peaks.get(r.routers) ?? 0, ...r.samples.map((s) => s.maxRssMiB)));
  const sizes = [...peaks.keys()].sort((a, b) => a - b);
  const marginal = sizes.slice(1).map((size, i) => ((peaks.get(size)! - peaks.get(sizes[i])!) * 1024) / (size - sizes[i]));
  const [small, large] = [sizes[0], sizes[sizes.length - 1]];
  targets.push({
    target: "client peak RSS grows sublinearly with routers",
    measured:
      sizes.length > 1
        ? `${sizes.map((s) => `${s}: ${fixed(peaks.get(s)!)} MiB`).join(", ")}; marginal ${marginal.map((m) => `${fixed(m)} KiB`).join(" → ")} per added router`
        : "needs two or more sizes",
    met: sizes.length > 1 ? peaks.get(large)! / peaks.get(small)! < large / small : null,
  });

  const bytes = ours
    .filter((r) => r.routers === Math.max(...ours.map((x) => x.routers)))
    .sort(byKey)
    .filter((r, i, all) => all.findIndex((x) => x.operation === r.operation) === i);
  targets.push({
    target: "report bytes per router",
    measured: bytes.length ? `at ${bytes[0].routers} routers: ${bytes.map((r) => `${r.operation} ${fixed(r.perRouter.kib, 1)} KiB`).join(", ")} (KiB/router column for the rest)` : "nothing measured",
    met: bytes.length ? true : null,
  });
  return targets;
}

/** Every failure message, by where it happened, so a run with failed routers says why. */
export function renderErrors(rows: Row[]): string {
  return rows
    .filter((r) => r.errors.length > 0)
    .map((r) => `- ${r.tool} ${r.routers} routers ${r.latencyMs} ms ${r.operation}:\n${r.errors.map((e) => `    ${e.split("\n")[0]}`).join("\n")}`)
    .join("\n");
}

export function renderTargets(targets: Target[]): string {
  const verdict = (met: boolean | null) => (met === null ? "n/a" : met ? "met" : "NOT met");
  return targets.map((t) => `- ${t.target}: ${verdict(t.met)} — ${t.measured}`).join("\n");
}
