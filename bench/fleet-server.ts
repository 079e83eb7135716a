/**
 * Hosts the simulated fleet in its own process, so the benchmarked client's CPU and RSS are the
 * client's alone (the simulator's SSH servers and emulated programs would otherwise share them).
 *
 * Started by bench/fleet.ts with `--count N --profiles a,b --latency MS --start-concurrency C`. It
 * prints one JSON line with the routers, then answers JSON-line requests on stdin (`{"id", "cmd"}`
 * with cmd `stats` or `digest`) and stops every router when stdin closes.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { startSimulatedRouter, type SimulatedRouter } from "../sim";
import { mapLimit } from "./limit";
import type { CpuTotals, FleetRequest, FleetRouter, SimTotals } from "./fleet";

/** Everything a write by either tool changes: uci configs, include files, the guard's snapshots, package databases, init scripts. */
const WATCHED = ["etc/config", "etc/nftables.d", "usr/share/nftables.d", "etc/offload-guard", "usr/lib/opkg/status", "lib/apk/db/installed", "etc/init.d", "etc/rc.d"];

function flag(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`fleet-server: --${name} is required`);
  return process.argv[i + 1];
}

/**
 * A fingerprint of the router's persistent state, mtimes included, so that rewriting a file with
 * the same content still counts as a write.
 */
function digest(router: SimulatedRouter): string {
  const hash = createHash("sha256");
  const walk = (rel: string): void => {
    const abs = path.join(router.rootDir, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const entry of fs.readdirSync(abs).sort()) walk(path.join(rel, entry));
      return;
    }
    const body = st.isSymbolicLink() ? fs.readlinkSync(abs) : fs.readFileSync(abs);
    hash.update(`${rel}\0${st.mtimeMs}\0`).update(body).update("\0");
  };
  WATCHED.forEach(walk);
  return hash.digest("hex");
}

/** Clock ticks per second of /proc's times (USER_HZ, 100 on every Linux the simulator runs on). */
const USER_HZ = 100;

/**
 * CPU the routers used: the exited processes this one waited for (each exec's nsenter, the router's
 * shell, its applets and the RPC shim's helpers), and this process itself (SSH servers, emulated
 * programs).
 */
function cpu(): CpuTotals {
  const fields = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  const [cutime, cstime] = [fields[13], fields[14]].map(Number);
  const own = process.cpuUsage();
  return { routerProcessesMs: ((cutime + cstime) * 1000) / USER_HZ, simulatorMs: (own.user + own.system) / 1000 };
}

async function answer(request: FleetRequest, routers: SimulatedRouter[]): Promise<unknown> {
  switch (request.cmd) {
    case "stats": {
      // Reading the routers' counters starts a process per router: CPU is read on both sides of it, so the caller can leave it out.
      const before = cpu();
      const counters = await Promise.all(routers.map((r) => r.counters()));
      const stats: SimTotals = {
        cpu: { before, after: cpu() },
        connections: routers.reduce((sum, r) => sum + r.stats.connections, 0),
        execs: routers.reduce((sum, r) => sum + r.stats.execs, 0),
        processStarts: counters.reduce((sum, c) => sum + c.processStarts, 0),
        shimProcessStarts: counters.reduce((sum, c) => sum + c.shimProcessStarts, 0),
      };
      return stats;
    }
    case "digest":
      return routers.map(digest);
  }
}

async function main(): Promise<void> {
  const count = Number(flag("count"));
  const profiles = flag("profiles").split(",");
  const latencyMs = Number(flag("latency"));
  const concurrency = Number(flag("start-concurrency"));
  const started: SimulatedRouter[] = [];
  const stopAll = () => Promise.all(started.map((r) => r.stop()));
  // Each start forks a namespace and boots busybox; an unbounded burst of 200 of them on two cores
  // times out SSH listeners and boot scripts.
  const routers = await mapLimit(
    Array.from({ length: count }, (_, i) => profiles[i % profiles.length]),
    concurrency,
    async (profile) => {
      const router = await startSimulatedRouter({ profile, faults: { latencyMs } });
      started.push(router);
      return router;
    },
  ).catch(async (error: unknown) => {
    await stopAll();
    throw error;
  });
  const info: FleetRouter[] = routers.map((r) => ({
    profile: r.profile.id,
    packageManager: r.profile.packageManager,
    host: r.host,
    port: r.port,
    user: r.username,
    privateKey: r.privateKey,
    hostKeyFingerprint: r.hostKeyFingerprint,
  }));
  process.stdout.write(`${JSON.stringify({ routers: info })}\n`);

  const lines = readline.createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    const request = JSON.parse(line) as FleetRequest;
    void answer(request, routers).then((result) => process.stdout.write(`${JSON.stringify({ id: request.id, result })}\n`));
  });
  await new Promise<void>((resolve) => lines.once("close", resolve));
  await stopAll();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`fleet-server: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
