import { Fleet } from "./fleet";
import { mapLimit } from "./limit";
import { measure, type RunSample } from "./meter";
import { NaiveTool } from "./naive";
import { OursTool } from "./ours";
import { BENCH_PROFILES, OPERATIONS, type BenchTool, type Operation } from "./workload";

export type ToolName = "ours" | "naive";

export interface ScenarioOptions {
  tool: ToolName;
  routers: number;
  latencyMs: number;
  /** Runs of each repeatable operation (everything but the first apply, which needs fresh routers). */
  runs: number;
  /** Operations in flight: routers worked on at once, and for ours also provider calls reaching a router at once. */
  concurrency: number;
  /** Routers booted at once by the fleet servers. */
  startConcurrency: number;
  routersPerServer: number;
  /** argv that starts bench/fleet-server. */
  fleetCommand: readonly string[];
}

export interface OperationSample extends RunSample {
  /** Resources (ours) or values (naive) found different from the declared state, summed over the fleet. */
  changed: number;
  /** Routers whose operation failed; the run goes on so one bad router does not void the rest. */
  failed: number;
}

export interface ScenarioResult {
  tool: ToolName;
  routers: number;
  latencyMs: number;
  operations: { operation: Operation; samples: OperationSample[]; errors: string[] }[];
}

/** Distinct failure messages kept per operation: enough to see what went wrong, bounded for a 200-router run. */
const MAX_ERRORS = 5;

function toolFor(name: ToolName, concurrency: number): BenchTool {
  return name === "ours" ? new OursTool(concurrency) : new NaiveTool();
}

/**
 * One tool against one fresh fleet at one latency, operation by operation, so that a caller can
 * interleave two tools' runs (main.ts). The first apply comes first and once: it needs routers
 * nobody configured yet.
 */
export class Scenario {
  private constructor(
    private readonly options: ScenarioOptions,
    private readonly fleet: Fleet,
    private readonly tool: BenchTool,
    private readonly log: (line: string) => void,
  ) {}

  static async start(options: ScenarioOptions, log: (line: string) => void = () => undefined): Promise<Scenario> {
    const fleet = await Fleet.start({
      count: options.routers,
      profiles: BENCH_PROFILES,
      latencyMs: options.latencyMs,
      command: options.fleetCommand,
      startConcurrency: options.startConcurrency,
      routersPerServer: options.routersPerServer,
    });
    return new Scenario(options, fleet, toolFor(options.tool, options.concurrency), log);
  }

  async run(operation: Operation): Promise<{ sample: OperationSample; errors: string[] }> {
    const { options, fleet, tool } = this;
    let changed = 0;
    let failed = 0;
    const errors = new Set<string>();
    const sample = await measure(fleet, tool.counts, async () => {
      await mapLimit(fleet.routers, options.concurrency, async (router, index) => {
        try {
          const result = await tool.run(operation, router, index);
          changed += result.changed;
        } catch (error) {
          failed++;
          if (errors.size < MAX_ERRORS) errors.add(error instanceof Error ? error.message : String(error));
        }
      });
      await tool.finish();
    });
    this.log(
      `${options.tool} N=${options.routers} ${options.latencyMs}ms ${operation}: ${Math.round(sample.wallMs)} ms, ` +
        `${sample.handshakes} handshakes, ${sample.execs} execs${failed ? `, ${failed} router(s) FAILED` : ""}`,
    );
    return { sample: { ...sample, changed, failed }, errors: [...errors] };
  }

  stop(): Promise<void> {
    return this.fleet.stop();
  }
}

/** Every operation of one scenario, one tool alone: the first apply, then `runs` runs each of preview, refresh and no-op apply. */
export async function runScenario(options: ScenarioOptions, log: (line: string) => void = () => undefined): Promise<ScenarioResult> {
  const scenario = await Scenario.start(options, log);
  try {
    const operations: ScenarioResult["operations"] = [];
    for (const operation of OPERATIONS) {
      const runs = await sequentially(operation === "firstApply" ? 1 : options.runs, () => scenario.run(operation));
      operations.push({ operation, samples: runs.map((r) => r.sample), errors: [...new Set(runs.flatMap((r) => r.errors))].slice(0, MAX_ERRORS) });
    }
    return { tool: options.tool, routers: options.routers, latencyMs: options.latencyMs, operations };
  } finally {
    await scenario.stop();
  }
}

async function sequentially<T>(times: number, fn: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < times; i++) out.push(await fn());
  return out;
}
