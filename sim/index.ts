import * as path from "path";
import type { Faults } from "./faults";
import { PROFILES } from "./profiles";
import { SimulatedRouter, SimulatedRouterOptions } from "./router";

export { SimulatedRouter } from "./router";
export { prepareBaseImage } from "./base-image";
export type { RouterCounters, SimulatedRouterOptions, SimStats } from "./router";
export type { Faults } from "./faults";
export type { ConntrackEntry, Profile } from "./types";
export type { TrafficOptions } from "./traffic";

/**
 * Starts a simulated OpenWrt router on loopback and resolves once it has booted and accepts SSH.
 *
 * ```ts
 * const r = await startSimulatedRouter({ profile: "mt7621-23.05" });
 * // r.host, r.port, r.username, r.privateKey, r.password, r.hostKeyFingerprint, r.rootDir
 * await r.stop();
 * ```
 */
export async function startSimulatedRouter(options: SimulatedRouterOptions = {}): Promise<SimulatedRouter> {
  const router = new SimulatedRouter(options);
  try {
    return await router.start();
  } catch (err) {
    await router.stop().catch(() => undefined);
    throw err;
  }
}

export interface SimulatedFleetOptions {
  count: number;
  /** Profiles to cycle through (default: every profile). */
  profiles?: string[];
  faults?: Faults;
  /**
   * Keep each router's flash in a folder of its own under this directory, named as
   * `simulatedRouterName` names the router: starting the same fleet again restarts the same routers.
   */
  stateDir?: string;
}

/** A fleet router's name: its place in the fleet and its profile ("r3-ipq40xx-22.03"). */
export function simulatedRouterName(index: number, profile: string): string {
  return `r${index + 1}-${profile}`;
}

/** Starts `count` routers at once, cycling through the profiles. Stops them all if one fails to start. */
export async function startSimulatedFleet(options: SimulatedFleetOptions): Promise<SimulatedRouter[]> {
  const profiles = options.profiles ?? listProfiles();
  const results = await Promise.allSettled(
    Array.from({ length: options.count }, (_, i) => {
      const profile = profiles[i % profiles.length];
      const stateDir = options.stateDir === undefined ? undefined : path.join(options.stateDir, simulatedRouterName(i, profile));
      return startSimulatedRouter({ profile, faults: options.faults, stateDir });
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  if (failed) {
    await Promise.all(started.map((r) => r.stop()));
    throw failed.reason;
  }
  return started;
}

export function listProfiles(): string[] {
  return Object.keys(PROFILES);
}

/** The connection a client needs, as the CLI prints it. */
export function connectionOf(router: SimulatedRouter) {
  return {
    profile: router.profile.id,
    host: router.host,
    port: router.port,
    username: router.username,
    password: router.password,
    privateKey: router.privateKey,
    hostKeyFingerprint: router.hostKeyFingerprint,
    rootDir: router.rootDir,
  };
}
