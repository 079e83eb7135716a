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
  perRouter: { handshakes: number; execs: number; kib: number; routerProcessStarts: number; shimProcessStarts: number };
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
          routerProcessStarts: m.routerProcessStarts / scenario.routers,
          shimProcessStarts: m.shimProcessStarts / scenario.routers,
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

/** CPU the operation cost in all: the client, the routers' processes and the simulator's own part of the routers. */
export const totalCpuMs = (m: OperationSample) => m.cpuMs + m.routerCpuMs + m.simulatorCpuMs;

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
    "total CPU naive ÷ ours",
    "handshakes/router",
    "execs/router",
    "router processes/router",
    "+ shim's/router",
    "KiB/router",
    "client CPU ms",
    "router CPU ms",
    "simulator CPU ms",
    "total CPU ms",
    "peak RSS MiB",
    "load",
    "routers written",
    "failed",
  ];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const row of [...rows].sort(byKey)) {
    const naive = rows.find((r) => r.tool === "naive" && r.routers === row.routers && r.latencyMs === row.latencyMs && r.operation === row.operation);
    const against = (of: (m: OperationSample) => number) => (row.tool === "ours" && naive ? `${(of(naive.median) / Math.max(of(row.median), 1)).toFixed(1)}×` : "");
    lines.push(
      `| ${[
        row.routers,
        `${row.latencyMs} ms`,
        row.operation,
        row.tool,
        row.runs,
        fixed(row.median.wallMs),
        against((m) => m.wallMs),
        against(totalCpuMs),
        perRouter(row.perRouter.handshakes),
        perRouter(row.perRouter.execs),
        perRouter(row.perRouter.routerProcessStarts),
        perRouter(row.perRouter.shimProcessStarts),
        fixed(row.perRouter.kib, 1),
        fixed(row.median.cpuMs),
        fixed(row.median.routerCpuMs),
        fixed(row.median.simulatorCpuMs),
        fixed(totalCpuMs(row.median)),
        fixed(row.median.peakRssMiB),
        fixed(row.median.loadAverage, 1),
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
  const worst = (operation: Operation, of: (r: Row) => number) => {
    const measured = ours.filter((r) => r.operation === operation);
    return measured.length ? Math.max(...measured.map(of)) : undefined;
  };
  const atMost = (target: string, operation: Operation, of: (r: Row) => number, limit: number, unit: string) => {
    const value = worst(operation, of);
    targets.push({ target, measured: value === undefined ? `no ${operation} measured` : `${perRouter(value)} ${unit} (worst case)`, met: value === undefined ? null : value <= limit });
  };

  atMost("refresh: 1 exec per router", "refresh", (r) => r.perRouter.execs, 1, "execs per router");
  atMost("refresh: at most 15 processes started on the router per router (the simulator's shim not counted)", "refresh", (r) => r.perRouter.routerProcessStarts, 15, "per router");
  atMost("preview: 1 exec per router", "preview", (r) => r.perRouter.execs, 1, "execs per router");
  atMost("first apply: at most 2 SSH handshakes per router", "firstApply", (r) => r.perRouter.handshakes, 2, "handshakes per router");
  atMost("first apply: at most 6 execs per router", "firstApply", (r) => r.perRouter.execs, 6, "execs per router");

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
    target: "refresh of 200 routers at 50 ms: at least 3× faster than the baseline, with less CPU in all, and under 20 s",
    measured:
      o && n
        ? `ours ${(o.median.wallMs / 1000).toFixed(1)} s, naive ${(n.median.wallMs / 1000).toFixed(1)} s: ${(n.median.wallMs / o.median.wallMs).toFixed(1)}×; ` +
          `CPU (client + router processes + simulator) ours ${(totalCpuMs(o.median) / 1000).toFixed(1)} s, naive ${(totalCpuMs(n.median) / 1000).toFixed(1)} s`
        : "not part of this run (needs --sizes 200 --latencies 50)",
    met: o && n ? n.median.wallMs / o.median.wallMs >= 3 && totalCpuMs(o.median) < totalCpuMs(n.median) && o.median.wallMs < 20_000 : null,
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
