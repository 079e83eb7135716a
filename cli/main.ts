#!/usr/bin/env node
import { Command } from "commander";
import { auditCommand } from "./audit";
import { driftCommand } from "./drift";
import { simCommand } from "./sim";
import { rollbackCommand, snapshotsCommand } from "./snapshots";

const program = new Command("openwrt-offload")
  .description("Flow offloading for fleets of OpenWrt routers: audit, drift, rollback, simulated routers")
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

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`openwrt-offload: ${err.message}\n`);
  process.exit(1);
});
