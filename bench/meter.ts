import * as os from "os";
import type { Fleet } from "./fleet";

/** What a tool counted on its side of the wire during one operation. */
export interface WireCounts {
  handshakes: number;
  execs: number;
  bytesSent: number;
  bytesReceived: number;
}

/** One run of one operation over the whole fleet. */
export interface RunSample extends WireCounts {
  wallMs: number;
  /** User + system CPU of this (client) process. */
  cpuMs: number;
  /** Highest RSS sampled while the operation ran. */
  peakRssMiB: number;
  /** The process's lifetime maximum RSS (getrusage) when the operation ended. */
  maxRssMiB: number;
  /** The routers' own count of accepted SSH connections and execs: a check on the client's counters. */
  simConnections: number;
  simExecs: number;
  /**
   * CPU the simulated routers' processes spent (each exec's shell, applets, the shim's helpers).
   * Here they share this machine's cores with the client, so it bounds wall time; real routers
   * spend it each on their own (slower) CPU.
   */
  routerCpuMs: number;
  /** CPU the simulator process spent for the routers: SSH servers and emulated programs (on a router: dropbear, uci, nft, …). */
  simulatorCpuMs: number;
  /** Processes the routers started, the simulator's RPC shim's own helpers not counted. */
  routerProcessStarts: number;
  /** Processes the simulator's RPC shim added (a real router does not start them). */
  shimProcessStarts: number;
  /** The machine's 1-minute load average when the operation began. */
  loadAverage: number;
  /** Routers whose persistent files (content or mtime) changed. */
  routersWritten: number;
}

const RSS_SAMPLE_MS = 10;
const MiB = 1024 * 1024;

/**
 * Runs `operation` once and measures it. The fleet's counters and file fingerprints are read
 * before and after, outside the timed window, so that bookkeeping is not charged to the tool.
 */
export async function measure(fleet: Fleet, counts: { reset(): void; read(): WireCounts }, operation: () => Promise<void>): Promise<RunSample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  // Fingerprints first and counters last before, the other way round after: neither is charged to the operation.
  const digestsBefore = await fleet.digests();
  const simBefore = await fleet.simTotals();
  const loadAverage = os.loadavg()[0];
  counts.reset();
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  try {
    await operation();
  } finally {
    clearInterval(sampler);
  }
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpuBefore);
  peak = Math.max(peak, process.memoryUsage.rss());
  const wire = counts.read();
  const simAfter = await fleet.simTotals();
  const digestsAfter = await fleet.digests();
  return {
    ...wire,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMiB: peak / MiB,
    // ru_maxrss is in KiB on Linux.
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    simConnections: simAfter.connections - simBefore.connections,
    simExecs: simAfter.execs - simBefore.execs,
    routerCpuMs: simAfter.cpu.before.routerProcessesMs - simBefore.cpu.after.routerProcessesMs,
    simulatorCpuMs: simAfter.cpu.before.simulatorMs - simBefore.cpu.after.simulatorMs,
    routerProcessStarts: simAfter.processStarts - simAfter.shimProcessStarts - (simBefore.processStarts - simBefore.shimProcessStarts),
    shimProcessStarts: simAfter.shimProcessStarts - simBefore.shimProcessStarts,
    loadAverage,
    routersWritten: digestsAfter.filter((d, i) => d !== digestsBefore[i]).length,
  };
}
