import { refuseFullOverlay } from "../device/apply";
import { validateChangeSet } from "../device/changeset";
import type { RouterFacts } from "../device/facts";
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
 * flash), validate without leaving anything behind, then apply inside a guard window.
 */
export async function write(shell: RouterShell, facts: RouterFacts, inputs: GuardInputs, minFreeKiB: number, change: GuardedChange): Promise<RouterFacts> {
  refuseFullOverlay(shell.router, facts, minFreeKiB);
  await validateChangeSet(shell, change.changes, { fw4: facts.firewall === "fw4" });
  return guardedApply(shell, toConnectionOptions(inputs.connection), change, guardOptionsOf(inputs));
}
