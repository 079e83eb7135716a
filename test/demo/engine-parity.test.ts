import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as readline from "readline";
import { startSimulatedRouter, type SimulatedRouter } from "pulumi-openwrt-offload/sim";
import type { OperationSummary } from "../../cli/engine";
import type { RouterSummary } from "../../sdk/fleet";
import { pulumiCliAvailability } from "../../tools/pulumi/index.cjs";
import { describeIf } from "../helpers/requirements";
import { run } from "../helpers/sim-client";
import { routerState, writeInventory, type RouterState } from "../pulumi/harness";

/**
 * cli/engine is the demo's fallback when no Pulumi CLI can be had, so it must tell the same story as the real engine.
 * The same steps on the same simulated fleet through both of the demo's drivers (cli/demo-drivers.ts): preview, up,
 * a LuCI edit and a hardware-to-software fallback, refresh, up, destroy. They must agree on the operation per
 * resource, the fleet summary (modes requested and running, guard results, drift classes), and the routers' state
 * after each step.
 *
 * Where they differ, by construction of the drivers' common report (recorded here, not hidden):
 * - the real engine also reports the stack and its default provider (`pulumi:providers:pulumi-nodejs`); both drivers
 *   leave them out;
 * - a refresh step is an "update" (drift) or "same" in the engine's events, a "read" with a drift flag in cli/engine;
 *   the CLI driver maps the former onto the latter;
 * - the order of resources within a wave (steps that run in parallel) differs; compared per resource name;
 * - URNs of the fleet's grandchildren differ (cli/engine's are what the mock monitor computes); compared by name.
 */
const PROFILES = ["mt7621-23.05", "x86-64-23.05", "filogic-25.12"];
const FIXTURE = path.join(__dirname, "../fixtures/demo/parity-driver.js");
const STEPS = ["preview", "up", "refresh", "up", "destroy"] as const;

interface Reply {
  ready?: string;
  result?: unknown;
  error?: string;
}

class ParityDriver {
  private readonly waiting: ((r: Reply) => void)[] = [];
  readonly output: string[] = [];
  private readonly child: ChildProcess;

  constructor(kind: "cli" | "engine", work: string, config: Record<string, string>) {
    this.child = spawn(process.execPath, [FIXTURE, kind, work, JSON.stringify(config)], { stdio: ["pipe", "pipe", "pipe"] });
    readline.createInterface({ input: this.child.stdout! }).on("line", (line) => {
      if (line.startsWith("@@parity ")) this.waiting.shift()?.(JSON.parse(line.slice(9)) as Reply);
      else this.output.push(line);
    });
    readline.createInterface({ input: this.child.stderr! }).on("line", (line) => this.output.push(line));
    this.child.on("close", () => {
      for (const w of this.waiting.splice(0)) w({ error: `driver exited: ${this.output.slice(-30).join("\n")}` });
    });
  }

  private next(): Promise<Reply> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async ready(): Promise<string> {
    const r = await this.next();
    if (r.error) throw new Error(r.error);
    return r.ready!;
  }

  async send<T>(op: string): Promise<T> {
    const reply = this.next();
    this.child.stdin!.write(`${op}\n`);
    const r = await reply;
    if (r.error) throw new Error(`${op}: ${r.error}`);
    return r.result as T;
  }

  async stop(): Promise<void> {
    const closed = new Promise((resolve) => this.child.once("close", resolve));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await closed;
    clearTimeout(timer);
  }
}

interface Run {
  description: string;
  /** Per step: resource name -> operation (and drift for refresh). */
  ops: Record<string, string>[];
  /** The CLI driver only: the operation as the engine's events named it. */
  engineOps: Record<string, string>[];
  ok: boolean[];
  summaries: { afterUp: unknown[]; afterRepair: unknown[] };
  states: RouterState[][];
}

const rows = (s: RouterSummary[]) => s.map((r) => ({ name: r.name, wave: r.wave, requested: r.modeRequested, running: r.modeRunning, guard: r.guard, drift: r.drift }));

async function drift(routers: SimulatedRouter[]): Promise<void> {
  // r1: someone unticks hardware offload in LuCI; r3: the switch driver stops accepting offload, fw4 falls back.
  await run(routers[0], "uci delete firewall.@defaults[0].flow_offloading_hw; uci commit firewall; fw4 reload");
  await run(routers[2], "for d in $(ls /sys/class/net); do ethtool -K $d hw-tc-offload off 2>/dev/null; done; fw4 reload 2>/dev/null");
}

async function runThrough(kind: "cli" | "engine", routers: SimulatedRouter[], inventory: string, work: string): Promise<Run> {
  const config = { inventory, waveSize: "2", failureBudget: "1", soakSeconds: "0", confirmTimeoutSeconds: "30" };
  fs.mkdirSync(work, { recursive: true });
  const driver = new ParityDriver(kind, work, config);
  try {
    const result: Run = { description: await driver.ready(), ops: [], engineOps: [], ok: [], summaries: { afterUp: [], afterRepair: [] }, states: [] };
    for (const [i, step] of STEPS.entries()) {
      if (step === "refresh") await drift(routers);
      const summary = await driver.send<OperationSummary>(step);
      result.ok.push(summary.ok);
      if (kind === "cli") result.engineOps.push(Object.fromEntries(summary.resources.map((r) => [r.name, r.note ?? ""])));
      result.ops.push(Object.fromEntries(summary.resources.map((r) => [r.name, step === "refresh" ? `${r.op}${r.drift ? " (drift)" : ""}` : r.op])));
      if (i === 1) result.summaries.afterUp = rows(await driver.send<RouterSummary[]>("summary"));
      if (i === 3) result.summaries.afterRepair = rows(await driver.send<RouterSummary[]>("summary"));
      result.states.push(await Promise.all(routers.map((r) => routerState(r))));
    }
    return result;
  } finally {
    await driver.stop();
  }
}

describeIf(pulumiCliAvailability(), "cli/engine and the real Pulumi CLI tell the same story (the demo's two drivers)", () => {
  let routers: SimulatedRouter[] = [];
  let work: string;

  beforeAll(async () => {
    if (!fs.existsSync(path.join(__dirname, "../../dist/cli/demo-drivers.js"))) throw new Error("run `npm run build` first (npm test does)");
    work = fs.mkdtempSync(path.join(os.tmpdir(), "engine-parity-"));
    routers = await Promise.all(PROFILES.map((profile) => startSimulatedRouter({ profile })));
  });

  afterAll(async () => {
    await Promise.all(routers.map((r) => r.stop()));
    fs.rmSync(work, { recursive: true, force: true });
  });

  test("preview, up, refresh after drift, up, destroy: same operations, summaries and router states", async () => {
    // filogic's mode is declared: when its switch later refuses offload, that is drift, not a new decision.
    const inventory = writeInventory(path.join(work, "inventory"), routers, { 2: "hardware" });
    const before = await Promise.all(routers.map((r) => routerState(r)));
    const engine = await runThrough("engine", routers, inventory, path.join(work, "engine"));
    expect(engine.description).toMatch(/cli\/engine/);
    // Back where it started: destroy undid the offload settings; the switch driver's state was the hand-made drift.
    await run(routers[2], "for d in $(ls /sys/class/net); do ethtool -K $d hw-tc-offload on 2>/dev/null; done; true");
    expect(await Promise.all(routers.map((r) => routerState(r)))).toEqual(before);
    const cli = await runThrough("cli", routers, inventory, path.join(work, "cli"));
    expect(cli.description).toMatch(/Automation API on the Pulumi CLI v\d/);

    expect(cli.ok).toEqual(engine.ok);
    expect(cli.ops).toEqual(engine.ops);
    expect(cli.summaries).toEqual(engine.summaries);
    expect(cli.states).toEqual(engine.states);
    // The documented naming difference: the engine's refresh events say "update" for drift and "same" otherwise.
    expect(cli.engineOps[2]).toMatchObject({ "edge-r1-mt7621-23.05-offload": "engine: update", "edge-r2-x86-64-23.05-offload": "engine: same", edge: "engine: same" });
    // And the story itself: drift found where it was made, repaired (r1) or refused and reported (r3), then undone.
    expect(engine.ops[2]).toMatchObject({ "edge-r1-mt7621-23.05-offload": "read (drift)", "edge-r3-filogic-25.12-offload": "read (drift)" });
    expect(engine.summaries.afterRepair).toEqual([
      { name: "r1-mt7621-23.05", wave: 1, requested: "hardware", running: "hardware", guard: "confirmed", drift: [] },
      { name: "r2-x86-64-23.05", wave: 2, requested: "software", running: "software", guard: "confirmed", drift: [] },
      { name: "r3-filogic-25.12", wave: 2, requested: "hardware", running: "software", guard: "refused", drift: ["runtime-fallback"] },
    ]);
  }, 600_000);
});
