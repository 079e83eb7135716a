import { Command, Option } from "commander";
import { liveRuntime, readFacts } from "../provider/device/facts";
import { runningMode } from "../provider/device/offload";
import { routerShell } from "../provider/device/shell";
import { guardCommand } from "../provider/guard/transaction";
import { getPool } from "../provider/transport";
import { DEFAULT_GUARD, listSnapshots, planRollback, rollback, type RollbackPlan, type SnapshotInfo } from "../provider/guard";
import { jsonDocument } from "./json-output";
import { positiveInt } from "./fleet-options";
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
    .option("--json", "print a JSON document (schema openwrt-offload/snapshots)")
    .action(async (opts: RouterCliOptions & { json?: boolean }) => {
      try {
        const shell = routerShell(connectionFromCli(opts));
        const snaps = await listSnapshots(shell);
        if (opts.json) process.stdout.write(jsonDocument("snapshots", { router: shell.router, snapshots: snaps }, new Date()));
        else if (snaps.length === 0) process.stdout.write("no snapshots on this router\n");
        else for (const s of snaps) process.stdout.write(`${s.txid}  ${s.description}  [${describe(s)}]\n`);
      } finally {
        await getPool().closeAll();
      }
    });
}

const ENTRY_WORDS: Record<string, string> = { f: "restore", a: "remove", l: "relink", h: "reset hw-tc-offload on", p: "remove package", r: "finish removing package" };

/** The snapshot's manifest in words: what a rollback changes on the router. */
function planLines(plan: RollbackPlan): string[] {
  return plan.entries.map((e) => `  ${ENTRY_WORDS[e.kind] ?? e.kind} ${e.path}${e.kind === "h" && e.arg ? ` (back to ${e.arg})` : ""}`);
}

export function rollbackCommand(): Command {
  return withRouterOptions(new Command("rollback"))
    .description(
      "break glass: put back the snapshot of a confirmed change (default: the newest), as a guarded change of its own; " +
        "refused while another change's window is open",
    )
    .option("--to <txid>", "the change whose snapshot to put back (see `snapshots`)")
    .addOption(new Option("--dry-run", "say what would be put back, and change nothing").conflicts("breakStale"))
    .option("--break-stale", "first resolve a lock whose deadline has passed (its timer died): restore its change or release it")
    .option("--confirm-timeout <seconds>", "the rollback's own guard window", positiveInt("--confirm-timeout", 3600), DEFAULT_GUARD.confirmTimeoutSeconds)
    .option("--json", "print a JSON document (schema openwrt-offload/rollback) instead of a sentence")
    .action(async (opts: RouterCliOptions & { to?: string; dryRun?: boolean; breakStale?: boolean; confirmTimeout: number; json?: boolean }) => {
      try {
        const options = connectionFromCli(opts);
        const shell = routerShell(options);
        if (opts.breakStale) {
          const broke = await shell.run(guardCommand("break"), { purpose: "resolve a stale guard lock", okExitCodes: "any" });
          const said = broke.stdout.trim() || "free";
          if (said.startsWith("busy ")) throw new Error(`${shell.router}: the lock is not stale: ${said.slice(5)}; wait for its deadline`);
          // stdout holds only the JSON document under --json.
          if (said !== "free") (opts.json ? process.stderr : process.stdout).write(`${shell.router}: ${said}\n`);
        }
        const plan = await planRollback(shell, opts.to);
        const { target } = plan;
        const putsBack = target.restores || "the earlier state";
        const report = (body: object) =>
          jsonDocument(
            "rollback",
            { router: shell.router, dryRun: opts.dryRun === true, undoes: { txid: target.txid, description: target.description }, putsBack, entries: plan.entries, ...body },
            new Date(),
          );
        if (opts.dryRun) {
          const held = plan.heldBy;
          const heldLine = held
            ? [`but another change holds this router now (${held.txid}${held.description ? `: ${held.description}` : ""}, waiting for confirmation until ${new Date((held.pendingUntil ?? 0) * 1000).toISOString()}): a rollback now would be refused`]
            : [];
          process.stdout.write(
            opts.json
              ? report({ runningMode: null, heldBy: held ? { txid: held.txid, description: held.description, pendingUntil: new Date((held.pendingUntil ?? 0) * 1000).toISOString() } : null })
              : [`${shell.router}: would put back ${putsBack} (from before ${target.txid}: ${target.description}), then reload the firewall:`, ...planLines(plan), ...heldLine, "nothing was changed (--dry-run)", ""].join("\n"),
          );
          return;
        }
        const facts = await readFacts(shell);
        const after = await rollback(shell, options, plan, { ...DEFAULT_GUARD, confirmTimeoutSeconds: opts.confirmTimeout }, facts);
        process.stdout.write(
          opts.json
            ? report({ runningMode: runningMode(liveRuntime(after)) })
            : `${shell.router}: put back ${putsBack} (from before ${target.txid}: ${target.description}); the firewall was reloaded\n`,
        );
      } finally {
        await getPool().closeAll();
      }
    });
}
