import { Command, InvalidArgumentError, Option } from "commander";
import type { RouterFacts } from "../provider/device/facts";
import { loadInventory, type Inventory, type InventoryRouter } from "../provider/fleet/inventory";
import { decideMode, type Decision, type FleetSqmPolicy } from "../provider/fleet/policy";
import type { ScanOptions } from "./fleet-scan";

/** The options every command that works on a whole inventory takes. */
export interface FleetCliOptions {
  inventory: string;
  concurrency: number;
  policy: "auto" | "software" | "off";
  sqmPolicy: FleetSqmPolicy;
  /** undefined: a bar only when stderr is a terminal. */
  progress?: boolean;
  connectTimeout: number;
}

export function positiveInt(flag: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > max) throw new InvalidArgumentError(`${flag} must be a whole number from 1 to ${max}, got "${value}"`);
    return n;
  };
}

export function withFleetOptions(command: Command): Command {
  return command
    .requiredOption("--inventory <file>", "the fleet's inventory (YAML or JSON)")
    .option("--concurrency <n>", "routers read at the same time", positiveInt("--concurrency", 1024), 16)
    .addOption(new Option("--policy <policy>", "what the fleet should run where the inventory sets no mode").choices(["auto", "software", "off"]).default("auto"))
    .addOption(
      new Option("--sqm-policy <policy>", "where SQM shapes a zone's interface: software offload, none, or ignore SQM").choices(["software", "off", "ignore"]).default("software"),
    )
    .option("--progress", "show a progress bar on stderr even when it is not a terminal")
    .option("--no-progress", "never show the progress bar")
    .option("--connect-timeout <seconds>", "per connect attempt (3 attempts for unreachable routers)", positiveInt("--connect-timeout", 3600), 15);
}

export function scanOptions(opts: FleetCliOptions, label: string): ScanOptions {
  return {
    concurrency: opts.concurrency,
    progress: opts.progress === undefined ? "tty" : opts.progress ? "force" : "off",
    label,
    connectTimeoutMs: opts.connectTimeout * 1000,
  };
}

/** What the policy wants for one router, from its facts (a mode set in the inventory wins). */
export function decisionFor(router: InventoryRouter, facts: RouterFacts, opts: Pick<FleetCliOptions, "policy" | "sqmPolicy">): Decision {
  const { target, firewall, kernel, kernelSupported, hwOffloadCapable, sqm, zones } = facts;
  return decideMode(opts.policy, { name: router.name, labels: router.labels, target, firewall, kernel, kernelSupported, hwOffloadCapable, sqm, zones }, router.mode, opts.sqmPolicy);
}

/** Whether a router's mode comes from its inventory entry or from the policy. */
export function declarationSource(router: InventoryRouter): "inventory" | "policy" {
  return router.mode && router.mode !== "auto" ? "inventory" : "policy";
}

/** loadInventory, with a one-line message when the file itself cannot be read. */
export function readInventory(file: string): Inventory {
  try {
    return loadInventory(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`cannot read the inventory ${file}: no such file`);
    if (code !== undefined) throw new Error(`cannot read the inventory ${file}: ${(err as Error).message}`);
    throw err;
  }
}
