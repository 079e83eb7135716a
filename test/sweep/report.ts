import * as fs from "fs";
import * as path from "path";
import { sweep, type SweepReport } from "./harness";
import type { Operation } from "./harness";

/** Where the sweep's counts go (for the closing note and CI logs): one JSON line per operation. */
const LOG = path.join(__dirname, "../../.cache/sweep-results.jsonl");

/** Sweeps one operation and asserts every point ended exactly old or new, unlocked, truthfully reported and converging. */
export async function expectSweepHolds(op: Operation<never>, parallel: number): Promise<SweepReport> {
  const report = await sweep(op, { parallel });
  const counts = { points: report.results.length, old: 0, new: 0 };
  for (const r of report.results) if (r.outcome === "old" || r.outcome === "new") counts[r.outcome]++;
  fs.mkdirSync(path.dirname(LOG), { recursive: true });
  fs.appendFileSync(LOG, `${JSON.stringify({ operation: op.name, steps: report.steps, ...counts, at: new Date().toISOString() })}\n`);
  process.stdout.write(`sweep: ${op.name}: ${counts.points} points (${counts.old} old, ${counts.new} new); steps ${JSON.stringify(report.steps)}\n`);
  expect(report.results.filter((r) => r.outcome !== "old" && r.outcome !== "new")).toEqual([]);
  expect(counts.old).toBeGreaterThan(0);
  expect(counts.new).toBeGreaterThan(0);
  return report;
}
