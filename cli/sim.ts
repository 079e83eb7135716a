import { Command, InvalidArgumentError } from "commander";
import * as path from "path";
import { connectionOf, listProfiles, prepareBaseImage, simulatedRouterName, startSimulatedFleet, startSimulatedRouter } from "../sim";
import type { SimulatedRouter } from "../sim";
import { writeSimInventory } from "./sim-inventory";

export function simCommand(): Command {
  return new Command("sim")
    .description("start simulated OpenWrt routers on loopback and print how to connect (JSON); runs until interrupted")
    .option("-p, --profile <id>", "router profile (see --list-profiles)", "mt7621-23.05")
    .option("--port <n>", "TCP port for a single router (default: a free port)", parsePort)
    .option("-n, --count <n>", "start a fleet of N routers, cycling through --profiles", parseCount)
    .option("--profiles <ids>", "comma-separated profiles for --count (default: all)")
    .option("--state-dir <dir>", "keep the router's flash here (with --count: a folder per router), so a restart is the same router")
    .option("--inventory <file>", "also write an inventory of the routers (pinned host keys, key files under keys/ beside it) for audit and drift")
    .option("--list-profiles", "print the profile ids and exit")
    .action(async (opts: SimOptions) => {
      if (opts.listProfiles) {
        process.stdout.write(`${listProfiles().join("\n")}\n`);
        return;
      }
      const interrupted = untilInterrupted();
      // On a cold cache this builds the routers' busybox (under a minute) before any router starts.
      prepareBaseImage();
      const routers = await start(opts);
      const connections = routers.map(connectionOf);
      if (opts.inventory) {
        const names = routers.map((r, i) => (opts.count ? simulatedRouterName(i, r.profile.id) : r.profile.id));
        writeSimInventory(opts.inventory, routers.map((router, i) => ({ name: names[i], router })), "Simulated routers of `openwrt-offload sim`: valid while it runs");
        // stdout keeps only the JSON document; the hint is for the person who started it.
        process.stderr.write(`wrote ${opts.inventory}; try: openwrt-offload audit --inventory ${opts.inventory}\n`);
      }
      process.stdout.write(`${JSON.stringify(opts.count ? connections : connections[0], null, 2)}\n`);
      await interrupted;
      await Promise.all(routers.map((r) => r.stop()));
    });
}

interface SimOptions {
  profile: string;
  port?: number;
  count?: number;
  profiles?: string;
  stateDir?: string;
  inventory?: string;
  listProfiles?: boolean;
}

async function start(opts: SimOptions): Promise<SimulatedRouter[]> {
  if (opts.count) {
    if (opts.port !== undefined) throw new Error("--port applies to a single router; drop it or --count");
    const profiles = opts.profiles?.split(",").map((p) => p.trim());
    return startSimulatedFleet({ count: opts.count, profiles, stateDir: opts.stateDir && path.resolve(opts.stateDir) });
  }
  return [await startSimulatedRouter({ profile: opts.profile, port: opts.port, stateDir: opts.stateDir })];
}

function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`--port must be 0..65535, got "${value}"`);
  return n;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--count must be a positive whole number, got "${value}"`);
  return n;
}
