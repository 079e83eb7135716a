import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startSimulatedRouter, type SimulatedRouter } from "../../sim";
import type { Faults } from "../../sim/faults";
import { GuardError } from "../../provider/guard";
import { snapshotFiles } from "../helpers/router-files";
import { run } from "../helpers/sim-client";

/**
 * The crash-point sweep: run one write operation cleanly to learn its steps, then, for every step,
 * run it again on a fresh router with the link cut or the power cut right after that step, let the
 * router resolve by itself (deadline, boot hook), and check that it holds exactly the old or the new
 * state, is not locked, that what the client reported is true, and that running the operation again
 * converges on the new state.
 */
export interface Operation<C> {
  name: string;
  /**
   * The routers it runs on: the first is the one the faults strike; the others (a fleet wave's other
   * routers) run alongside it and must reach the new state whatever happens to the first.
   */
  profiles: string[];
  /** Brings fresh routers to the old state; returns what `run` needs. */
  setup(sims: SimulatedRouter[]): Promise<C>;
  /** The write operation (resource create/update/delete, a rollback, a fleet wave), its changes guarded with `window`. */
  run(sims: SimulatedRouter[], context: C, window: Window): Promise<unknown>;
}

export interface Window {
  confirmTimeoutSeconds: number;
}

/** The guard's window at a sweep point: short, so each point resolves quickly. */
export const SWEEP_TIMEOUT_SECONDS = 4;
const SWEEP_WINDOW: Window = { confirmTimeoutSeconds: SWEEP_TIMEOUT_SECONDS };
/**
 * Where the window is not what is tested (setting up, the clean run that learns the steps, the re-run that must
 * converge): long enough that a loaded machine cannot make it lapse.
 */
export const RELAXED_WINDOW: Window = { confirmTimeoutSeconds: 60 };

const HOOK = "/etc/rc.d/S11offload-guard";

/** Everything a change can touch: files (config, includes, init scripts, the lock) and what runs. */
export async function stateOf(sim: SimulatedRouter): Promise<string> {
  const files = snapshotFiles(sim);
  for (const rel of ["usr/share/nftables.d"]) {
    const walk = (r: string) => {
      const abs = path.join(sim.rootDir, r);
      if (!fs.existsSync(abs)) return;
      if (fs.statSync(abs).isDirectory()) for (const e of fs.readdirSync(abs).sort()) walk(path.join(r, e));
      else files[`/${r}`] = fs.readFileSync(abs, "utf8");
    };
    walk(rel);
  }
  const devices = sim.profile.devices.map((d) => d.name).join(" ");
  const runtime = await run(
    sim,
    `nft list ruleset 2>/dev/null || iptables -S; echo; uci changes; echo; ` +
      `for d in ${devices}; do echo "$d $(ethtool -k $d 2>/dev/null | grep hw-tc-offload)"; done; echo; ` +
      "if command -v apk >/dev/null; then apk list --installed; else opkg list-installed; fi",
  );
  return JSON.stringify({ files, runtime: runtime.stdout }, null, 1);
}

export interface PointResult {
  point: string;
  ms?: number;
  /** "old" or "new"; anything else is a failure description. */
  outcome: string;
  reported: string;
}

/**
 * Waits until the router is up, reachable (a link that was taken down is back) and holds no lock, or
 * fails after the window could have ended many times over.
 */
async function settled(sim: SimulatedRouter): Promise<boolean> {
  const until = Date.now() + (SWEEP_TIMEOUT_SECONDS + 20) * 1000;
  while (Date.now() < until) {
    await sim.waitForBoot();
    const reachable = await run(sim, "true").then(
      () => true,
      () => false,
    );
    if (reachable && !isSymlink(path.join(sim.rootDir, HOOK))) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function describeReport(result: PromiseSettledResult<unknown>): { text: string; claims: "new" | "old" | "unknown" } {
  if (result.status === "fulfilled") return { text: "succeeded", claims: "new" };
  const err = result.reason as Error;
  if (err instanceof GuardError) return { text: `${err.name}: ${err.message}`, claims: err.restored ? "old" : "unknown" };
  // Refusals before anything was written (busy, foreign changes, preflight) and transport failures leave the router as it was.
  return { text: `${err.name}: ${err.message}`, claims: "unknown" };
}

interface Template<C> {
  routers: { stateDir: string; port: number }[];
  context: C;
}

/**
 * The routers a point runs on: copies of the template's flash (the old state, set up once), booted
 * afresh. Their ports differ from the template's, so the operation's context is rebound to them.
 */
async function fromTemplate<C>(template: Template<C>): Promise<{ sims: SimulatedRouter[]; context: C; dirs: string[] }> {
  const dirs: string[] = [];
  const sims: SimulatedRouter[] = [];
  let context = JSON.stringify(template.context);
  for (const router of template.routers) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sweep-point-"));
    dirs.push(dir);
    // The simulator's RPC FIFOs are recreated at start; they are not flash.
    fs.cpSync(router.stateDir, dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes("/lib/sim/rpc") });
    const sim = await startSimulatedRouter({ stateDir: dir });
    sims.push(sim);
    context = context.replaceAll(`"port":${router.port}`, `"port":${sim.port}`).replaceAll(`:${router.port}/`, `:${sim.port}/`);
  }
  return { sims, context: JSON.parse(context) as C, dirs };
}

async function discard(point: { sims: SimulatedRouter[]; dirs: string[] }): Promise<void> {
  await Promise.all(point.sims.map((sim) => sim.stop()));
  for (const dir of point.dirs) fs.rmSync(dir, { recursive: true, force: true });
}

interface States {
  old: string;
  new: string;
  /** The other routers' new states. */
  companions: string[];
}

/** One sweep point: routers in the old state, the fault armed on the first, the operation run, the router left to resolve. */
async function runPoint<C>(op: Operation<C>, template: Template<C>, faults: Faults, label: string, states: States): Promise<PointResult> {
  const point = await fromTemplate(template);
  const { sims, context } = point;
  const [sim, ...companions] = sims;
  try {
    sim.setFaults(faults);
    const [result] = await Promise.allSettled([op.run(sims, context, SWEEP_WINDOW)]);
    sim.setFaults({});
    const report = describeReport(result);
    if (!(await settled(sim))) return { point: label, outcome: "stuck: the router is still locked", reported: report.text };
    for (const [i, other] of companions.entries()) {
      if ((await stateOf(other)) !== states.companions[i]) return { point: label, outcome: `another router of the wave is not in its new state`, reported: report.text };
    }
    const now = await stateOf(sim);
    const outcome = now === states.old ? "old" : now === states.new ? "new" : `mixed: ${firstDifference(now, states)}`;
    if ((outcome === "old" || outcome === "new") && report.claims !== "unknown" && report.claims !== outcome) {
      return { point: label, outcome: `untrue: the client reported ${report.claims} but the router holds ${outcome}`, reported: report.text };
    }
    // Converges: running the operation again reaches the new state.
    if (outcome === "old" || outcome === "new") {
      const rerun = await op.run(sims, context, RELAXED_WINDOW).then(
        () => "",
        (e: Error) => ` (the re-run failed: ${e.message})`,
      );
      const again = await stateOf(sim);
      if (again !== states.new) return { point: label, outcome: `does not converge${rerun}: ${firstDifference(again, states)}`, reported: report.text };
    }
    return { point: label, outcome, reported: report.text };
  } finally {
    await discard(point);
  }
}

function firstDifference(now: string, states: { old: string; new: string }): string {
  const lines = now.split("\n");
  const oldLines = states.old.split("\n");
  const newLines = states.new.split("\n");
  const i = lines.findIndex((l, k) => l !== oldLines[k] && l !== newLines[k]);
  return i < 0 ? "differs in length" : `line ${i}: ${lines[i].slice(0, 160)}`;
}

/** An exec that changes the router: the guard's transaction (its flock), confirm, restore, abort, release, break. */
const WRITES = /flock 9|'(confirm|restore|abort|release|break)'/;

export interface SweepReport {
  operation: string;
  steps: { execs: number; writeExecs: number; toolCalls: number; writeCalls: number };
  results: PointResult[];
}

/**
 * Sets the old state up once (a template router's flash), learns the new state and the operation's
 * steps from a clean run, then runs every point with `parallel` routers at a time:
 *  - a power cut after every emulated-program call of every exec that writes (losing all unsynced
 *    writes, and again keeping a seeded random part of them), and once inside each read-only exec
 *    (nothing changes on the router until a write begins, so every call there is the same point);
 *  - the link cut after every exec, once for a moment and once for longer than the guard's window.
 */
export async function sweep<C>(op: Operation<C>, { parallel = 6 }: { parallel?: number } = {}): Promise<SweepReport> {
  const stateDirs = op.profiles.map(() => fs.mkdtempSync(path.join(os.tmpdir(), "sweep-template-")));
  try {
    const seeds = await Promise.all(op.profiles.map((profile, i) => startSimulatedRouter({ profile, stateDir: stateDirs[i] })));
    const template: Template<C> = { routers: seeds.map((seed, i) => ({ stateDir: stateDirs[i], port: seed.port })), context: await op.setup(seeds) };
    await Promise.all(seeds.map((seed) => seed.stop()));

    const reference = await fromTemplate(template);
    const [main] = reference.sims;
    const execs: { command: string; firstCall: number }[] = [];
    let states: States;
    let calls: number;
    try {
      const old = await stateOf(main);
      const start = main.stats.toolCalls;
      main.on("exec", (command: string) => execs.push({ command, firstCall: main.stats.toolCalls - start }));
      await op.run(reference.sims, reference.context, RELAXED_WINDOW);
      calls = main.stats.toolCalls - start;
      main.removeAllListeners("exec");
      states = { old, new: await stateOf(main), companions: await Promise.all(reference.sims.slice(1).map(stateOf)) };
    } finally {
      await discard(reference);
    }
    if (states.old === states.new) throw new Error(`${op.name}: the operation changes nothing; the sweep would prove nothing`);

    const points: { faults: Faults; label: string }[] = [];
    let writeCalls = 0;
    execs.forEach((exec, i) => {
      const end = i + 1 < execs.length ? execs[i + 1].firstCall : calls;
      const what = WRITES.test(exec.command) ? "write" : "read";
      for (let n = exec.firstCall; n < end; n++) {
        const at = `exec ${i + 1} (${what}), call ${n + 1}`;
        points.push({ faults: { crash: { afterCalls: n } }, label: `power cut in ${at}` });
        if (what === "read") break;
        writeCalls++;
        points.push({ faults: { crash: { afterCalls: n, lose: "some-unsynced", seed: n + 1 } }, label: `power cut in ${at}, some unsynced writes kept` });
      }
      points.push({ faults: { dropConnection: { afterExecs: i } }, label: `link cut after exec ${i + 1} (${what})` });
      points.push({ faults: { dropConnection: { afterExecs: i, downForMs: (SWEEP_TIMEOUT_SECONDS + 2) * 1000 } }, label: `link down after exec ${i + 1} (${what}), past the window` });
    });
    const results: PointResult[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < points.length) {
          const { faults, label } = points[next++];
          const started = Date.now();
          results.push({ ...(await runPoint(op, template, faults, label, states)), ms: Date.now() - started });
        }
      }),
    );
    const writeExecs = execs.filter((e) => WRITES.test(e.command)).length;
    return { operation: op.name, steps: { execs: execs.length, writeExecs, toolCalls: calls, writeCalls }, results };
  } finally {
    for (const dir of stateDirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}
