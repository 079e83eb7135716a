import { refuseWrite } from "../device/apply";
import type { RouterFacts } from "../device/facts";
import type { ProbeResult } from "../device/probe";
import type { RouterShell } from "../device/shell";
import { DEFAULT_GUARD, guardedApply, type GuardedChange, type GuardOptions, type HealthCheck } from "../guard";
import { toConnectionOptions, type RouterConnection } from "./common";

/** The guard fields every writing resource has (see sdk/schemas.ts). */
export interface GuardInputs {
  connection: RouterConnection;
  guard?: boolean;
  confirmTimeoutSeconds?: number;
  soakSeconds?: number;
  healthChecks?: HealthCheck[];
}

/** What `check` fills in when a program leaves the guard fields out (`.get()` skips check). */
export const GUARD_INPUT_DEFAULTS = { guard: true, confirmTimeoutSeconds: DEFAULT_GUARD.confirmTimeoutSeconds, soakSeconds: 0, healthChecks: [] as HealthCheck[] };

export function guardOptionsOf(inputs: GuardInputs): GuardOptions {
  return {
    ...DEFAULT_GUARD,
    enabled: inputs.guard ?? DEFAULT_GUARD.enabled,
    confirmTimeoutSeconds: inputs.confirmTimeoutSeconds ?? DEFAULT_GUARD.confirmTimeoutSeconds,
    soakSeconds: inputs.soakSeconds ?? DEFAULT_GUARD.soakSeconds,
    healthChecks: inputs.healthChecks ?? [],
  };
}

/**
 * The one write path of every resource: refuse on a full overlay (snapshots and uci commits need
 * flash) or when someone's staged uci changes would go live with it, then apply inside a guard
 * window (which checks, under the router's lock, everything before it goes live). Returns what the
 * change's last verification read (its `reads`).
 */
export async function write(shell: RouterShell, facts: RouterFacts, inputs: GuardInputs, minFreeKiB: number, change: GuardedChange): Promise<ProbeResult> {
  refuseWrite(shell.router, facts, change.changes, minFreeKiB);
  return guardedApply(shell, toConnectionOptions(inputs.connection), change, guardOptionsOf(inputs), { firewall: facts.firewall });
}
