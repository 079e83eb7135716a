/**
 * One scenario in a process of its own, so that its peak RSS (getrusage's lifetime maximum) and
 * CPU belong to that scenario alone. main.ts starts it with the options as JSON in argv[2]; the
 * result is the last line on stdout, progress goes to stderr.
 */
import * as path from "path";
import { runScenario, type ScenarioOptions } from "./scenario";

const options = { ...(JSON.parse(process.argv[2]) as Omit<ScenarioOptions, "fleetCommand">), fleetCommand: [process.execPath, path.join(__dirname, "fleet-server.js")] };

runScenario(options, (line) => process.stderr.write(`  ${line}\n`)).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
