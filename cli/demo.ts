import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { styleText } from "util";
import { simulatedRouterName, startSimulatedRouter, type SimulatedRouter } from "../sim";
import { getPool } from "../provider/transport";
import type { OperationSummary, ResourceResult } from "./engine";
import { automationDriver, engineDriver, findPulumiCli, type Driver } from "./demo-drivers";
import type { RouterSummary } from "../sdk/fleet";
import { Progress } from "./progress";
import { writeSimInventory } from "./sim-inventory";

/**
 * The project's main job on a fresh machine: a simulated fleet, audited, previewed, rolled out in
 * guarded waves, drifted, and summarised — with no hardware and no network.
 */
const FLEET = [
  "mt7621-23.05",
  "x86-64-23.05",
  "ipq40xx-22.03",
  "mt7621-24.10",
  "ath79-21.02",
  "filogic-25.12",
  "mt7621-unstable-hw",
];
const ROOT = path.resolve(__dirname, "../..");
const CLI = path.join(ROOT, "dist/cli/main.js");

const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (style: Parameters<typeof styleText>[0], text: string) => (colour ? styleText(style, text) : text);
/** While a rollout's bar is drawn, lines go above it. */
let progress: Progress | undefined;
const say = (text = "") => (progress ? progress.log(text) : process.stdout.write(`${text}\n`));
const step = (n: number, title: string) => say(`\n${paint(["bold", "cyan"], `━━ ${n}. ${title}`)}`);

export async function runDemo(keep: boolean): Promise<number> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "openwrt-offload-demo-"));
  const routers: SimulatedRouter[] = [];
  try {
    step(1, `A simulated fleet of ${FLEET.length} OpenWrt routers`);
    routers.push(...(await Promise.all(FLEET.map((profile) => startSimulatedRouter({ profile })))));
    for (const [i, r] of routers.entries()) say(`  ${nameOf(i)}  ${r.profile.summary}  (ssh root@${r.host}:${r.port})`);
    const inventory = writeInventory(work, routers);
    say(`  inventory: ${inventory}`);

    step(2, "Audit: what each router can do, runs, and should run");
    await cli(["audit", "--inventory", inventory, "--html", path.join(work, "audit.html")]);
    say(`  report: ${path.join(work, "audit.html")}`);

    const driver = await pickDriver(work, inventory);

    step(3, "Preview of examples/fleet: nothing is touched");
    const connectionsBefore = routers.reduce((n, r) => n + r.stats.connections, 0);
    const preview = await driver.preview();
    say(`  ${counts(preview)}; routers contacted: ${routers.reduce((n, r) => n + r.stats.connections, 0) - connectionsBefore} (on a first preview no Router exists yet, so there is no connection to read with; later previews read each router, read-only)`);

    step(4, "Guarded rollout in waves (canary first); the crash-prone router runs under load");
    const unstable = routers[FLEET.indexOf("mt7621-unstable-hw")];
    unstable.startLoad(100);
    unstable.once("crash", () => say(`  ${paint("red", `✗ ${nameOf(FLEET.indexOf("mt7621-unstable-hw"))}: kernel oops in the flow offload driver, rebooting`)}`));
    const up = await driver.up();
    await printOutcome(driver, up);

    step(5, "Drift: a LuCI edit on one router, a hardware-to-software fallback on another");
    const luci = routers[FLEET.indexOf("mt7621-23.05")];
    const fallback = routers[FLEET.indexOf("filogic-25.12")];
    await luci.console("uci delete firewall.@defaults[0].flow_offloading_hw; uci commit firewall; fw4 reload");
    say(`  ${nameOf(FLEET.indexOf("mt7621-23.05"))}: someone unticked hardware offload in LuCI`);
    await fallback.console(
      "for d in $(ls /sys/class/net); do ethtool -K $d hw-tc-offload off 2>/dev/null; done; fw4 reload 2>/dev/null",
    );
    say(`  ${nameOf(FLEET.indexOf("filogic-25.12"))}: the switch driver stopped accepting offload; fw4 fell back to software`);
    const refresh = await driver.refresh();
    const drifted = refresh.resources.filter((r) => r.drift).map((r) => r.name);
    say(`  pulumi refresh: drift on ${drifted.join(", ") || "nothing"}`);
    const driftReport = path.join(work, "drift.html");
    const drift = await cli(["drift", "--inventory", inventory, "--html", driftReport]);
    say(`  openwrt-offload drift exited ${drift} (0 none, 2 drift, 1 error); report: ${driftReport}`);

    step(6, "pulumi up again: repair what can be repaired, the guard keeps the rest safe");
    const repair = await driver.up();
    unstable.stopLoad();
    await printOutcome(driver, repair);
    // A report written before the repair would show a fleet that no longer exists.
    const before = modifiedAt(driftReport);
    await cli(["drift", "--inventory", inventory, "--html", driftReport], { quiet: true });
    say(modifiedAt(driftReport) > before ? `  report refreshed after the repair: ${driftReport}` : paint("red", `  the report could not be refreshed: ${driftReport} is missing or from before the repair`));
    say(`\n${paint(["bold", "green"], "Done.")} Everything ran on simulated routers on loopback; state and reports are in ${work}`);
    if (keep) {
      say("The fleet keeps running; press Ctrl-C to stop it.");
      await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
    }
    return 0;
  } catch (err) {
    process.stderr.write(`demo failed: ${(err as Error).stack ?? err}\n`);
    return 1;
  } finally {
    await getPool().closeAll();
    await Promise.all(routers.map((r) => r.stop()));
  }
}

/** 0 when the file is not there (the drift command failed before writing it). */
function modifiedAt(file: string): number {
  return fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0;
}

function nameOf(i: number): string {
  return simulatedRouterName(i, FLEET[i]);
}

function writeInventory(dir: string, routers: SimulatedRouter[]): string {
  const file = path.join(dir, "inventory.yaml");
  const entries = routers.map((router, i) => ({
    name: nameOf(i),
    router,
    // Declared, not left to the policy: when its switch later refuses offload, that is drift, not a new decision.
    ...(router.profile.id === "filogic-25.12" ? { mode: "hardware" as const } : {}),
  }));
  writeSimInventory(file, entries, "Simulated fleet for the demo");
  return file;
}

/**
 * Runs the real CLI, as an operator would, showing its output; returns its exit code. Asynchronously:
 * the simulated routers answer from this very process, which must keep serving them meanwhile.
 */
async function cli(args: string[], { quiet = false } = {}): Promise<number> {
  say(paint("dim", `  $ openwrt-offload ${args.map((a) => (a.includes(os.tmpdir()) ? path.basename(a) : a)).join(" ")}${quiet ? " (output not shown)" : ""}`));
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  if (!quiet) process.stdout.write(output.replace(/^(?=.)/gm, "  "));
  return code;
}

function counts(s: OperationSummary): string {
  const by = new Map<string, number>();
  for (const r of s.resources) by.set(r.op, (by.get(r.op) ?? 0) + 1);
  return [...by].map(([op, n]) => `${n} to ${op}`).join(", ");
}

/** An up's outcome as the stack's outputs hold it now: the gates' findings, then every router's row. */
async function printOutcome(driver: Driver, up: OperationSummary): Promise<void> {
  for (const note of await driver.waves()) {
    const passed = / passed/.test(note);
    say(`  ${paint(passed ? "green" : "red", `${passed ? "✓" : "✗"} ${note}`)}`);
  }
  const done = counts(up);
  say(`  ${up.ok ? paint("green", "pulumi up succeeded") : paint("red", `pulumi up failed: ${up.error ?? "see above"}`)}${done ? ` (${done})` : ""}`);
  printSummary(await driver.summary());
}

function printSummary(rows: RouterSummary[]): void {
  const header = ["router", "wave", "requested", "running", "guard", "drift"];
  const table = rows.map((r) => [r.name, String(r.wave), r.modeRequested, r.modeRunning, r.guard, r.drift.join(", ") || "none"]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i])).join("  ")}`;
  say(paint("bold", line(header)));
  for (const row of table) {
    const text = line(row);
    say(row[4] === "restored" || row[4] === "failed" || row[4] === "refused" ? paint("red", text) : row[5] !== "none" ? paint("yellow", text) : text);
  }
  for (const r of rows.filter((x) => x.detail)) say(paint("dim", `  ${r.name}: ${r.detail.split(". Checked:")[0]}`));
}

function fleetConfig(inventory: string): Record<string, string> {
  return { inventory, waveSize: "3", failureBudget: "1", soakSeconds: "3", confirmTimeoutSeconds: "60" };
}

/**
 * The real Pulumi CLI through the Automation API (tools/pulumi: a recent-enough `pulumi` on PATH, else the pinned
 * one, built with Go on first use, which it says in one line); cli/engine only when no CLI can be had, saying so.
 * Progress: on a terminal a progress bar with the wave results printed once it is done; elsewhere a line per step.
 */
async function pickDriver(work: string, inventory: string): Promise<Driver> {
  // On a terminal: a progress bar with each line printed above it; elsewhere (CI, logs): a line per step.
  const bar = new Progress(process.stdout, { format: "  {bar} {value}/{total} resources  {last}", enabled: process.stdout.isTTY === true });
  // What the last preview or up registered: the next up steps through the same resources.
  let resources = 0;
  let rollingOut = false;
  const onStep = (r: ResourceResult) => {
    if (!rollingOut) return;
    bar.increment({ last: r.name });
    if (r.type.endsWith("openwrt:FirewallDefaults") && r.op !== "same") say(`  ${r.op} ${r.name}${r.error ? ` — ${r.error}` : ""}`);
  };
  const options = { work, config: fleetConfig(inventory), onStep };
  const { cli, reason } = await findPulumiCli((line) => say(`  ${paint("dim", line)}`));
  const driver = cli ? await automationDriver({ ...options, cli }) : engineDriver(options);
  say(`\n  ${paint("dim", cli ? `Pulumi CLI found: ${driver.description}` : `Pulumi CLI not found (${reason}): ${driver.description}`)}`);
  const counted = (s: OperationSummary) => {
    resources = s.resources.length;
    return s;
  };
  const rollout = async (run: () => Promise<OperationSummary>) => {
    rollingOut = true;
    bar.start(resources, { last: "" });
    progress = bar;
    // The program's own warnings (pulumi.log.warn without an engine is console.warn) would land on the bar's line.
    const warn = console.warn;
    console.warn = (...args: unknown[]) => say(args.join(" "));
    try {
      return counted(await run());
    } finally {
      console.warn = warn;
      rollingOut = false;
      progress = undefined;
      bar.stop();
    }
  };
  return { ...driver, preview: async () => counted(await driver.preview()), up: () => rollout(() => driver.up()) };
}
