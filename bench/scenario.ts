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
 * One tool against one fresh fleet at one latency: the first apply (once: it needs routers nobody
 * configured yet), then `runs` runs each of preview, refresh and no-op apply, in that order.
 */
export async function runScenario(options: ScenarioOptions, log: (line: string) => void = () => undefined): Promise<ScenarioResult> {
  const fleet = await Fleet.start({
    count: options.routers,
    profiles: BENCH_PROFILES,
    latencyMs: options.latencyMs,
    command: options.fleetCommand,
    startConcurrency: options.startConcurrency,
    routersPerServer: options.routersPerServer,
  });
  try {
    const tool = toolFor(options.tool, options.concurrency);
    const once = async (operation: Operation, errors: Set<string>): Promise<OperationSample> => {
      let changed = 0;
      let failed = 0;
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
      log(
        `${options.tool} N=${options.routers} ${options.latencyMs}ms ${operation}: ${Math.round(sample.wallMs)} ms, ` +
          `${sample.handshakes} handshakes, ${sample.execs} execs${failed ? `, ${failed} router(s) FAILED` : ""}`,
      );
      return { ...sample, changed, failed };
    };
    const operations: ScenarioResult["operations"] = [];
    for (const operation of OPERATIONS) {
      const samples: OperationSample[] = [];
      const errors = new Set<string>();
      for (let run = 0; run < (operation === "firstApply" ? 1 : options.runs); run++) samples.push(await once(operation, errors));
      operations.push({ operation, samples, errors: [...errors] });
    }
    return { tool: options.tool, routers: options.routers, latencyMs: options.latencyMs, operations };
  } finally {
    await fleet.stop();
  }
}
