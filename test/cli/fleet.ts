import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { run } from "../helpers/sim-client";

export const CLI = path.join(__dirname, "../../dist/cli/main.js");

export function requireBuiltCli(): void {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: npm test builds it first (npm run build)`);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI without blocking: the simulated routers live in this process, so a
 * synchronous spawn would starve their SSH servers and hang.
 */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export interface FleetEntry {
  name: string;
  router: SimulatedRouter;
  mode?: "auto" | "hardware" | "software" | "off";
  labels?: Record<string, string>;
  /** Pin this fingerprint instead of the router's own (to provoke a host-key mismatch). */
  hostKey?: string;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** An inventory of simulated routers; JSON is YAML, and keeps the multi-line keys simple. */
export function writeInventory(dir: string, entries: FleetEntry[], file = "inventory.yaml"): string {
  const routers = entries.map((e) => ({
    name: e.name,
    host: e.router.host,
    port: e.router.port,
    user: e.router.username,
    privateKey: e.router.privateKey,
    hostKey: e.hostKey ?? e.router.hostKeyFingerprint,
    ...(e.mode ? { mode: e.mode } : {}),
    ...(e.labels ? { labels: e.labels } : {}),
  }));
  const target = path.join(dir, file);
  fs.writeFileSync(target, JSON.stringify({ routers }, null, 2));
  return target;
}

/** A command on the router as an operator at its shell would type it; fails the test if it fails. */
export async function onRouter(router: SimulatedRouter, command: string): Promise<string> {
  const result = await run(router, command);
  if (result.code !== 0) throw new Error(`${command} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}
