export { DEFAULT_GUARD, guardedApply, type GuardOptions, type GuardedChange, type HealthCheck, type Verify } from "./guard";
export { GuardBusyError, GuardError } from "./errors";
export { listSnapshots, planRollback, rollback, type RollbackPlan, type SnapshotInfo } from "./snapshots";
