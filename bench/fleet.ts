import { spawn, type ChildProcess } from "child_process";
import * as readline from "readline";

/** One simulated router as the fleet server reports it: what a Pulumi program (or an inventory) would hold. */
export interface FleetRouter {
  profile: string;
  packageManager: "opkg" | "apk";
  host: string;
  port: number;
  user: string;
  privateKey: string;
  hostKeyFingerprint: string;
}

export type FleetRequest = { id: number; cmd: "stats" | "digest" };

export interface CpuTotals {
  /** The routers' processes (each exec's shell, applets, the RPC shim's helpers, nsenter), once exited. */
  routerProcessesMs: number;
  /** The simulator process: SSH servers, emulated programs (uci, nft, ubus, …), the RPC shim's other end. */
  simulatorMs: number;
}

export interface SimTotals {
  /** SSH connections the routers accepted: handshakes as the server side saw them. */
  connections: number;
  execs: number;
  /** CPU used so far, read before and after the routers' counters (whose reading costs some). */
  cpu: { before: CpuTotals; after: CpuTotals };
  /** Processes the routers started (since they booted), the RPC shim's own included. */
  processStarts: number;
  /** Of those, the ones the simulator's RPC shim adds to emulated-program calls. */
  shimProcessStarts: number;
}

export interface FleetOptions {
  count: number;
  profiles: readonly string[];
  latencyMs: number;
  /** How to start bench/fleet-server: compiled JS under the bench build, or the TypeScript source through a transpile hook (tests). */
  command: readonly string[];
  /** Routers booted at once, over all servers. */
  startConcurrency: number;
  /** Routers per fleet-server process (see Fleet). */
  routersPerServer: number;
}

/** One fleet-server child process and its request/response channel. */
class FleetServer {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly routers: FleetRouter[],
    lines: readline.Interface,
    stderr: () => string,
  ) {
    lines.on("line", (line) => {
      const { id, result } = JSON.parse(line) as { id: number; result: unknown };
      this.waiting.get(id)?.resolve(result);
      this.waiting.delete(id);
    });
    this.exited = new Promise((resolve) =>
      child.once("exit", (code) => {
        for (const { reject } of this.waiting.values()) reject(new Error(`a fleet server exited (${code}): ${stderr().trim()}`));
        this.waiting.clear();
        resolve();
      }),
    );
  }

  static async start(command: readonly string[], flags: Record<string, string | number>): Promise<FleetServer> {
    const [program, ...args] = command;
    const child = spawn(program, [...args, ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)])], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    // Only the tail matters (why it died); a long run must not hoard it.
    child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const lines = readline.createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`a fleet server exited (${code}) before its routers were up: ${stderr.trim()}`));
      child.once("exit", onExit);
      lines.once("line", (line) => {
        child.off("exit", onExit);
        resolve(line);
      });
    });
    return new FleetServer(child, (JSON.parse(first) as { routers: FleetRouter[] }).routers, lines, () => stderr);
  }

  request(cmd: FleetRequest["cmd"]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null) {
        reject(new Error("a fleet server is gone"));
        return;
      }
      this.waiting.set(id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, cmd } satisfies FleetRequest)}\n`);
    });
  }

  /** Closing stdin tells the server to stop its routers and exit. */
  async stop(): Promise<void> {
    this.child.stdin!.end();
    await this.exited;
  }
}

/**
 * Simulated routers in child processes, a few dozen per process. The simulator serves every
 * router of a process on one thread (SSH, emulated programs, synchronous file work, a fork per
 * exec), so a large fleet is split over several processes to let that work use more than one core.
 */
export class Fleet {
  private constructor(private readonly servers: FleetServer[]) {}

  get routers(): FleetRouter[] {
    return this.servers.flatMap((s) => s.routers);
  }

  static async start(options: FleetOptions): Promise<Fleet> {
    const count = Math.ceil(options.count / options.routersPerServer);
    const perServer = Math.max(1, Math.ceil(options.startConcurrency / count));
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, i) => {
        const offset = i * options.routersPerServer;
        return FleetServer.start(options.command, {
          count: Math.min(options.routersPerServer, options.count - offset),
          // Router i of the fleet gets profile i mod P, however the fleet is split.
          profiles: options.profiles.map((_, k) => options.profiles[(offset + k) % options.profiles.length]).join(","),
          latency: options.latencyMs,
          "start-concurrency": perServer,
        });
      }),
    );
    const servers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) {
      await Promise.all(servers.map((s) => s.stop()));
      throw failed.reason;
    }
    return new Fleet(servers);
  }

  async simTotals(): Promise<SimTotals> {
    const totals = (await Promise.all(this.servers.map((s) => s.request("stats")))) as SimTotals[];
    const addCpu = (a: CpuTotals, b: CpuTotals) => ({ routerProcessesMs: a.routerProcessesMs + b.routerProcessesMs, simulatorMs: a.simulatorMs + b.simulatorMs });
    return totals.reduce((sum, t) => ({
      connections: sum.connections + t.connections,
      execs: sum.execs + t.execs,
      cpu: { before: addCpu(sum.cpu.before, t.cpu.before), after: addCpu(sum.cpu.after, t.cpu.after) },
      processStarts: sum.processStarts + t.processStarts,
      shimProcessStarts: sum.shimProcessStarts + t.shimProcessStarts,
    }));
  }

  /** One fingerprint per router of its persistent files; a changed one means something was written. */
  async digests(): Promise<string[]> {
    return ((await Promise.all(this.servers.map((s) => s.request("digest")))) as string[][]).flat();
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
