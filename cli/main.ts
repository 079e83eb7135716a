#!/usr/bin/env node
import { Command } from "commander";
import { simCommand } from "./sim";
import { rollbackCommand, snapshotsCommand } from "./snapshots";

const program = new Command("openwrt-offload")
  .description("Flow offloading for fleets of OpenWrt routers: audit, drift, rollback, simulated routers")
  .showHelpAfterError();
program.addCommand(simCommand());
program.addCommand(snapshotsCommand());
program.addCommand(rollbackCommand());

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`openwrt-offload: ${err.message}\n`);
  process.exit(1);
});
