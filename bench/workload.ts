import type { FleetRouter } from "./fleet";
import type { WireCounts } from "./meter";

/**
 * The fw4 profiles the fleet cycles through, with the devices the benchmark's Flowtable takes. A
 * device can be in only one flowtable of a table, and FirewallDefaults (flowOffloading: true)
 * makes fw4 build its own `ft` over the zone devices: lan ports + wan on 23.05 DSA, br-lan + wan
 * on 24.10 and later, eth0 + eth1 on x86. The Flowtable takes what `ft` leaves free.
 */
export const FLOWTABLE_DEVICES: Readonly<Record<string, readonly string[]>> = {
  "mt7621-23.05": ["br-lan"],
  "mt7621-24.10": ["lan1", "lan2"],
  "filogic-25.12": ["lan2", "lan3"],
  "x86-64-23.05": ["br-lan"],
};

export const BENCH_PROFILES = Object.keys(FLOWTABLE_DEVICES);

export const FLOWTABLE_NAME = "bench";

export const OPERATIONS = ["firstApply", "preview", "refresh", "noopApply"] as const;
export type Operation = (typeof OPERATIONS)[number];

/**
 * A tool under test, acting on one router per call. `changed` is how many resources (ours) or
 * values (naive) the call found different from what is declared: creates on a first apply, and 0
 * for every later operation on a fleet nobody touched.
 */
export interface BenchTool {
  readonly counts: { reset(): void; read(): WireCounts };
  run(operation: Operation, router: FleetRouter, index: number): Promise<{ changed: number }>;
  /** After every router is done: what the end of the tool's process would do (close connections). */
  finish(): Promise<void>;
}

export function flowtableDevices(router: FleetRouter): string[] {
  const devices = FLOWTABLE_DEVICES[router.profile];
  if (!devices) throw new Error(`no Flowtable devices chosen for profile ${router.profile}; use one of ${BENCH_PROFILES.join(", ")}`);
  return [...devices];
}
