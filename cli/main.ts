#!/usr/bin/env node
import * as fs from "fs";
import * as path from "path";
import { Command } from "commander";
import { auditCommand } from "./audit";
import { explainConnectFailure } from "./connect-failures";
import { driftCommand } from "./drift";
import { simCommand } from "./sim";
import { rollbackCommand, snapshotsCommand } from "./snapshots";

// dist/cli/main.js: the package's own package.json is two levels up.
const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, "../../package.json"), "utf8")) as { version: string };

const program = new Command("openwrt-offload")
  .description("Flow offloading for fleets of OpenWrt routers: audit, drift, rollback, simulated routers")
  .version(version, "-V, --version", "print the version and exit")
  .showHelpAfterError();
program.addCommand(simCommand());
program
  .command("demo")
  .description("walk through audit, preview, guarded rollout in waves, drift and the guard on a simulated fleet")
  .option("--keep", "keep the simulated fleet running at the end (until interrupted)")
  .action(async (opts: { keep?: boolean }) => {
    // Loaded only here: the demo pulls in the Pulumi runtime, which every other command can do without.
    const { runDemo } = await import("./demo");
    process.exitCode = await runDemo(opts.keep === true);
  });
program.addCommand(snapshotsCommand());
program.addCommand(rollbackCommand());
program.addCommand(auditCommand());
program.addCommand(driftCommand());
unknownOptionsFirst(program);

program.parseAsync(process.argv).catch((err: Error) => {
  const explained = explainConnectFailure(err, "flags");
  process.stderr.write(explained ? `openwrt-offload: ${explained.what}\nFix: ${explained.fix}\n` : `openwrt-offload: ${err.message}\n`);
  process.exit(1);
});

/**
 * commander reports a missing required option before an unknown one, so `audit --inventry f.yaml`
 * would say "--inventory not specified" instead of naming the typo. Required options are checked
 * here instead, after commander has rejected unknown ones.
 */
function unknownOptionsFirst(root: Command): void {
  for (const command of root.commands) {
    const required = command.options.filter((o) => o.mandatory);
    for (const option of required) option.mandatory = false;
    if (required.length === 0) continue;
    command.hook("preAction", (cmd) => {
      const missing = required.find((o) => cmd.getOptionValue(o.attributeName()) === undefined);
      if (missing) cmd.error(`error: required option '${missing.flags}' not specified`, { code: "commander.missingMandatoryOptionValue" });
    });
  }
}
