/**
 * `npm run bench`: this project against the naive baseline, on simulated fleets with injected
 * latency, in one run. Each (size, latency, tool) is a worker process of its own with a fresh
 * fleet (see worker.ts); this process starts the two tools' workers of a (size, latency) side by
 * side and has them run their operations in turns (ours, naive, naive, ours, …), so that both see
 * the machine as busy as it is at that moment, then reports.
 */
import { spawn, type ChildProcess } from "child_process";
import * as readline from "readline";
import { Command, InvalidArgumentError } from "commander";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { evaluateTargets, renderErrors, renderTable, renderTargets, rowsOf } from "./report";
import type { OperationSample, ScenarioOptions, ScenarioResult, ToolName } from "./scenario";
import { BENCH_PROFILES, OPERATIONS, type Operation } from "./workload";

const TOOLS: ToolName[] = ["ours", "naive"];
/** Below this size every latency in the default set runs; from it on only the highest (see latenciesFor). */
const CPU_BOUND_FLEET = 50;
const DEFAULT_LATENCIES = [0, 50];

interface Flags {
  sizes: number[];
  latencies?: number[];
  runs?: number;
  concurrency: number;
  startConcurrency: number;
  routersPerServer: number;
  out: string;
}

function numbers(value: string): number[] {
  const list = value.split(",").map((v) => Number(v.trim()));
  if (list.some((n) => !Number.isInteger(n) || n < 0)) throw new InvalidArgumentError(`expected whole numbers separated by commas, got "${value}"`);
  return list;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}

/**
 * From 50 routers on, the simulated routers' CPU (they share this machine's cores) bounds every
 * operation whatever the latency, so a 0 ms pass would repeat the 50 ms one for several more
 * minutes; it runs when --latencies asks for it.
 */
function latenciesFor(size: number, flags: Flags): number[] {
  if (flags.latencies) return flags.latencies;
  return size >= CPU_BOUND_FLEET ? [Math.max(...DEFAULT_LATENCIES)] : DEFAULT_LATENCIES;
}

/** Several runs where they are cheap; one where a run costs minutes of simulated-router CPU. */
function runsFor(size: number, flags: Flags): number {
  return flags.runs ?? (size <= 10 ? 3 : 1);
}

/** A worker process: one tool, one fleet (worker.ts). */
class Worker {
  private constructor(
    private readonly child: ChildProcess,
    private readonly lines: AsyncIterator<string>,
    private readonly what: string,
  ) {}

  static async start(options: Omit<ScenarioOptions, "fleetCommand">): Promise<Worker> {
    // --expose-gc: the meter collects garbage before each operation, so a peak belongs to it.
    const child = spawn(process.execPath, ["--expose-gc", path.join(__dirname, "worker.js"), JSON.stringify(options)], { stdio: ["pipe", "pipe", "inherit"] });
    const worker = new Worker(child, readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator](), `the ${options.tool} worker for ${options.routers} routers at ${options.latencyMs} ms`);
    await worker.next();
    return worker;
  }

  async run(operation: Operation): Promise<{ sample: OperationSample; errors: string[] }> {
    this.child.stdin!.write(`${JSON.stringify({ operation })}\n`);
    return JSON.parse(await this.next()) as { sample: OperationSample; errors: string[] };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin!.end();
    await exited;
  }

  private async next(): Promise<string> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`${this.what} failed (exit ${this.child.exitCode ?? this.child.signalCode})`);
    return value as string;
  }
}

/**
 * Both tools on fleets of one size at one latency: the first apply of each, then `runs` rounds of
 * preview, refresh and no-op apply, each operation run by one tool right after the other, the
 * order swapped every round.
 */
async function runPair(base: Omit<ScenarioOptions, "fleetCommand" | "tool">): Promise<ScenarioResult[]> {
  const workers: Partial<Record<ToolName, Worker>> = {};
  try {
    for (const tool of TOOLS) {
      process.stderr.write(`${tool}: starting ${base.routers} router(s) at ${base.latencyMs} ms\n`);
      workers[tool] = await Worker.start({ ...base, tool });
    }
    const results = TOOLS.map((tool) => ({ tool, routers: base.routers, latencyMs: base.latencyMs, operations: OPERATIONS.map((operation) => ({ operation, samples: [] as OperationSample[], errors: [] as string[] })) }));
    const record = async (tool: ToolName, operation: Operation) => {
      const { sample, errors } = await workers[tool]!.run(operation);
      const entry = results.find((r) => r.tool === tool)!.operations.find((o) => o.operation === operation)!;
      entry.samples.push(sample);
      for (const e of errors) if (!entry.errors.includes(e) && entry.errors.length < 5) entry.errors.push(e);
    };
    for (const tool of TOOLS) await record(tool, "firstApply");
    for (let round = 0; round < base.runs; round++) {
      const order = round % 2 === 0 ? TOOLS : [...TOOLS].reverse();
      for (const operation of OPERATIONS.filter((o) => o !== "firstApply")) for (const tool of order) await record(tool, operation);
    }
    return results;
  } finally {
    await Promise.all(Object.values(workers).map((w) => w.stop()));
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

async function main(flags: Flags): Promise<void> {
  const started = Date.now();
  // Wall times mean little on a machine that something else keeps busy: record how busy it was.
  const loadBefore = os.loadavg();
  const scenarios: ScenarioResult[] = [];
  /** Both tools of a size and latency, fleet starts and stops included: where the run's time went. */
  const elapsed: { routers: number; latencyMs: number; seconds: number }[] = [];
  for (const routers of flags.sizes) {
    for (const latencyMs of latenciesFor(routers, flags)) {
      const pairStarted = Date.now();
      scenarios.push(
        ...(await runPair({
          routers,
          latencyMs,
          runs: runsFor(routers, flags),
          concurrency: flags.concurrency,
          startConcurrency: flags.startConcurrency,
          routersPerServer: flags.routersPerServer,
        })),
      );
      elapsed.push({ routers, latencyMs, seconds: Math.round((Date.now() - pairStarted) / 1000) });
    }
  }
  const rows = rowsOf(scenarios);
  const targets = evaluateTargets(rows);
  const durationSeconds = Math.round((Date.now() - started) / 1000);
  const results = {
    machine: { ...machine(), loadAverage: { atStart: loadBefore, atEnd: os.loadavg() } },
    settings: {
      sizes: flags.sizes,
      latencies: Object.fromEntries(flags.sizes.map((s) => [s, latenciesFor(s, flags)])),
      runs: Object.fromEntries(flags.sizes.map((s) => [s, runsFor(s, flags)])),
      concurrency: flags.concurrency,
      startConcurrency: flags.startConcurrency,
      routersPerServer: flags.routersPerServer,
      profiles: BENCH_PROFILES,
    },
    durationSeconds,
    elapsed,
    targets,
    rows,
  };
  const out = path.resolve(flags.out);
  fs.writeFileSync(`${out}.tmp`, `${JSON.stringify(results, null, 2)}\n`);
  fs.renameSync(`${out}.tmp`, out);
  const errors = renderErrors(rows);
  process.stdout.write(
    `\n${renderTable(rows)}\n\nTargets:\n${renderTargets(targets)}\n${errors ? `\nFailures:\n${errors}\n` : ""}` +
      `\n${durationSeconds} s; results in ${path.relative(process.cwd(), out)}\n`,
  );
}

const program = new Command("bench")
  .description("benchmark this project against a connection-per-command baseline on simulated fleets")
  .option("--sizes <list>", "fleet sizes", numbers, [1, 10, 50, 200])
  .option("--latencies <list>", `round-trip time of the simulated links, ms (default: ${DEFAULT_LATENCIES.join(",")}; only ${Math.max(...DEFAULT_LATENCIES)} from ${CPU_BOUND_FLEET} routers up)`, numbers)
  .option("--runs <n>", "runs of preview, refresh and no-op apply (default: 3 up to 10 routers, 1 above)", positive)
  .option("--concurrency <n>", "routers worked on at once, by either tool", positive, 32)
  .option("--start-concurrency <n>", "routers booted at once by the fleet servers", positive, 16)
  .option("--routers-per-server <n>", "simulated routers per fleet-server process", positive, 50)
  .option("--out <file>", "where to write the results", "bench/results.json")
  .action((flags: Flags) => main(flags));

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
