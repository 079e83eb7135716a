import { liveRuntime, RUNTIME_SECTIONS, type RouterFacts } from "../device/facts";
import type { ProbeResult } from "../device/probe";
import type { RouterShell } from "../device/shell";
import type { ConnectionOptions } from "../transport";
import { emptyChangeSet } from "../device/changeset";
import { guardedApply, type GuardOptions } from "./guard";
import { GUARD_RECORDS_PROBE, parseGuardRecords, type GuardRecord } from "./records";
import { guardCommand, isTxid } from "./transaction";

export type SnapshotInfo = GuardRecord;

export async function listSnapshots(shell: RouterShell): Promise<SnapshotInfo[]> {
  const r = await shell.run(GUARD_RECORDS_PROBE, { purpose: "list guard snapshots", retry: "safe", okExitCodes: "any" });
  return parseGuardRecords(r.stdout);
}

/** What `rollback` would put back, before it does (also `--dry-run`). */
export interface RollbackPlan {
  target: SnapshotInfo;
  /** The snapshot's manifest: paths restored (`f`), removed (`a`), links (`l`), devices (`h`), packages removed (`p`). */
  entries: { kind: string; path: string; arg?: string }[];
  /** The open transaction holding the router now, if any: the rollback itself would be refused until it ends. */
  heldBy?: SnapshotInfo;
}

export async function planRollback(shell: RouterShell, to: string | undefined): Promise<RollbackPlan> {
  if (to !== undefined && !isTxid(to)) throw new Error(`--to ${JSON.stringify(to)} is not a transaction id: take one from \`openwrt-offload snapshots\` (like 20260101T120000.000Z-1a2b3c)`);
  const snaps = await listSnapshots(shell);
  const target = to ? snaps.find((s) => s.txid === to) : snaps.find((s) => s.result.startsWith("confirmed"));
  if (!target) {
    throw new Error(to ? `--to ${to}: ${shell.router} keeps no snapshot of that transaction; \`openwrt-offload snapshots\` lists those it keeps` : `nothing to roll back on ${shell.router}: no confirmed change is kept`);
  }
  if (target.result === "") throw new Error(`${target.txid} on ${shell.router} is still waiting for confirmation; it is restored by itself if it is not confirmed`);
  if (!target.result.startsWith("confirmed")) throw new Error(`${target.txid} on ${shell.router} was never applied or is already undone (${target.result.split(" ")[0]}); nothing to roll back`);
  const manifest = await shell.run(guardCommand("manifest", target.txid), { purpose: `read the snapshot of ${target.txid}`, retry: "safe" });
  const entries = manifest.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [kind, path, ...rest] = line.split(" ");
      return { kind, path, ...(rest.length ? { arg: rest.join(" ") } : {}) };
    })
    .filter((e) => e.kind !== "t");
  const heldBy = snaps.find((s) => s.pendingUntil !== undefined);
  return { target, entries, ...(heldBy ? { heldBy } : {}) };
}

/**
 * `openwrt-offload rollback`: puts a confirmed change's snapshot back, as a guarded transaction of
 * its own — under the router's lock (refused while another window is open), snapshotted, armed and
 * verified like any change, so a rollback that cuts the link is itself undone, and it shows up in the
 * router's history as what it is. A rollback does not reinstall packages a restore of it would need.
 */
export async function rollback(shell: RouterShell, options: ConnectionOptions, plan: RollbackPlan, guard: GuardOptions, facts: RouterFacts): Promise<ProbeResult> {
  const { target, entries } = plan;
  const putBack = {
    txid: target.txid,
    paths: entries.filter((e) => e.kind === "f" || e.kind === "a" || e.kind === "l").map((e) => e.path),
    devices: entries.filter((e) => e.kind === "h").map((e) => e.path),
  };
  return guardedApply(
    shell,
    options,
    {
      description: `rollback: put back ${target.restores || "the state"} from before ${target.txid} (${target.description})`,
      restores: "the state before this rollback",
      subject: `rollback ${target.subject.replace(/^rollback /, "")}`,
      sets: target.restores,
      changes: { ...emptyChangeSet(), putBack },
      reads: RUNTIME_SECTIONS,
      verify: (read) => (liveRuntime(read).offload.runtime.firewallRunning ? [] : ["the firewall is not running after the rollback"]),
      checks: ["the firewall runs from the restored config"],
    },
    guard,
    { firewall: facts.firewall },
  );
}
