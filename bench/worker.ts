/**
 * One scenario (a tool, a fleet of its own) in a process of its own, so that its peak RSS
 * (getrusage's lifetime maximum) and CPU belong to that scenario alone. main.ts starts it with the
 * options as JSON in argv[2]; once its fleet is up it prints `{"ready":true}`, then runs one
 * operation per line it reads on stdin (`{"operation":"refresh"}`), answering each with a line
 * `{"sample":…,"errors":[…]}`; it stops its fleet and exits when stdin closes. Progress goes to stderr.
 */
import * as path from "path";
import * as readline from "readline";
import { Scenario, type ScenarioOptions } from "./scenario";
import type { Operation } from "./workload";

const options = { ...(JSON.parse(process.argv[2]) as Omit<ScenarioOptions, "fleetCommand">), fleetCommand: [process.execPath, path.join(__dirname, "fleet-server.js")] };

async function main(): Promise<void> {
  const scenario = await Scenario.start(options, (line) => process.stderr.write(`  ${line}\n`));
  try {
    process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
    const lines = readline.createInterface({ input: process.stdin });
    for await (const line of lines) {
      const { operation } = JSON.parse(line) as { operation: Operation };
      process.stdout.write(`${JSON.stringify(await scenario.run(operation))}\n`);
    }
  } finally {
    await scenario.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
