import { Command } from "commander";
import { routerShell } from "../provider/device/shell";
import { getPool } from "../provider/transport";
import { listSnapshots, restoreSnapshot, type SnapshotInfo } from "../provider/guard";
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
    .description("break glass: put a kept snapshot back and reload the firewall (default: the newest change not already restored)")
    .option("--to <txid>", "the snapshot to restore (see `snapshots`)")
    .action(async (opts: RouterCliOptions & { to?: string }) => {
      try {
        const shell = routerShell(connectionFromCli(opts));
        const snaps = await listSnapshots(shell);
        const target = opts.to ? snaps.find((s) => s.txid === opts.to) : snaps.find((s) => !s.result.startsWith("restored"));
        if (!target) {
          throw new Error(opts.to ? `no snapshot ${opts.to} on ${shell.router} (see openwrt-offload snapshots)` : `nothing to roll back on ${shell.router}: no kept change that is not already restored`);
        }
        await restoreSnapshot(shell, target.txid);
        process.stdout.write(`restored ${target.txid} (${target.description}) on ${shell.router}; the firewall was reloaded\n`);
      } finally {
        await getPool().closeAll();
      }
    });
}
