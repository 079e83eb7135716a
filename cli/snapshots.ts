import { Command } from "commander";
import { readFacts } from "../provider/device/facts";
import { routerShell } from "../provider/device/shell";
import { guardCommand } from "../provider/guard/transaction";
import { getPool } from "../provider/transport";
import { DEFAULT_GUARD, listSnapshots, planRollback, rollback, type SnapshotInfo } from "../provider/guard";
import { connectionFromCli, withRouterOptions, type RouterCliOptions } from "./router-options";

function describe(s: SnapshotInfo): string {
  if (s.pendingUntil !== undefined) return `pending, restored automatically at ${new Date(s.pendingUntil * 1000).toISOString()}`;
  const [what, ...rest] = s.result.split(" ");
  const epoch = Number(rest[rest.length - 1]);
  const when = Number.isFinite(epoch) ? new Date(epoch * 1000).toISOString() : "";
  return what === "restored" ? `restored (${rest[0]}) ${when}` : `${what} ${when}`;
}

export function snapshotsCommand(): Command {
  return withRouterOptions(new Command("snapshots"))
    .description("list the guard's snapshots kept on a router (newest first)")
    .option("--json", "print JSON")
    .action(async (opts: RouterCliOptions & { json?: boolean }) => {
      try {
        const snaps = await listSnapshots(routerShell(connectionFromCli(opts)));
        if (opts.json) process.stdout.write(`${JSON.stringify(snaps, null, 2)}\n`);
        else if (snaps.length === 0) process.stdout.write("no snapshots on this router\n");
        else for (const s of snaps) process.stdout.write(`${s.txid}  ${s.description}  [${describe(s)}]\n`);
      } finally {
        await getPool().closeAll();
      }
    });
}

export function rollbackCommand(): Command {
  return withRouterOptions(new Command("rollback"))
    .description(
      "break glass: put back the snapshot of a confirmed change (default: the newest), as a guarded change of its own; " +
        "refused while another change's window is open",
    )
    .option("--to <txid>", "the change whose snapshot to put back (see `snapshots`)")
    .option("--break-stale", "first resolve a lock whose deadline has passed (its timer died): restore its change or release it")
    .option("--confirm-timeout <seconds>", "the rollback's own guard window", String(DEFAULT_GUARD.confirmTimeoutSeconds))
    .action(async (opts: RouterCliOptions & { to?: string; breakStale?: boolean; confirmTimeout: string }) => {
      try {
        const options = connectionFromCli(opts);
        const shell = routerShell(options);
        if (opts.breakStale) {
          const broke = await shell.run(guardCommand("break"), { purpose: "resolve a stale guard lock", okExitCodes: "any" });
          const said = broke.stdout.trim() || "free";
          if (said.startsWith("busy ")) throw new Error(`${shell.router}: the lock is not stale: ${said.slice(5)}; wait for its deadline`);
          if (said !== "free") process.stdout.write(`${shell.router}: ${said}\n`);
        }
        const plan = await planRollback(shell, opts.to);
        const facts = await readFacts(shell);
        await rollback(shell, options, plan, { ...DEFAULT_GUARD, confirmTimeoutSeconds: Number(opts.confirmTimeout) }, facts);
        process.stdout.write(
          `${shell.router}: put back ${plan.target.restores || "the earlier state"} (from before ${plan.target.txid}: ${plan.target.description}); the firewall was reloaded\n`,
        );
      } finally {
        await getPool().closeAll();
      }
    });
}
