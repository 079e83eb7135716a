import * as fs from "fs";
import { Command } from "commander";
import { getPool } from "../provider/transport";
import { auditRecord, type AuditRecord } from "./audit-record";
import { readInventory, scanOptions, withFleetOptions, type FleetCliOptions } from "./fleet-options";
import { scanFleet } from "./fleet-scan";
import { fixLines } from "./connect-failures";
import { jsonDocument } from "./json-output";
import { renderAuditHtml } from "./report-html";
import { colorFor, modeCell, paint, renderTable, type Cell } from "./table";

function auditTable(records: AuditRecord[], color: boolean): string {
  const rows = records.map((r): (string | Cell)[] => [
    { text: r.name, style: "bold" },
    `${r.host}:${r.port}`,
    r.release ? `${r.release} ${r.firewall}` : "-",
    r.capability ? { text: r.capability.hardware ? "hardware" : "software-only", style: r.capability.hardware ? "magenta" : "cyan" } : { text: "-", style: "gray" },
    modeCell(r.configuredMode),
    modeCell(r.runningMode),
    modeCell(r.recommendation?.mode ?? null, r.recommendation?.change ? " (change)" : ""),
    r.conflicts.length === 0 ? { text: "none", style: "green" } : { text: r.conflicts.map((c) => c.kind).join(", "), style: r.status === "ok" ? "yellow" : "red" },
  ]);
  const table = renderTable(["ROUTER", "ADDRESS", "RELEASE", "CAPABILITY", "CONFIG", "RUNNING", "RECOMMEND", "CONFLICTS"], rows, color);
  const details = records.flatMap((r) => {
    const lines: string[] = [];
    if (r.recommendation) lines.push(`recommend ${r.recommendation.mode}: ${r.recommendation.reason}`);
    if (r.capability && !r.capability.hardware) lines.push(`capability: ${r.capability.reason}`);
    for (const c of r.conflicts) lines.push(`${paint(c.kind, r.status === "ok" ? "yellow" : "red", color)}: ${c.detail}`);
    return [`${paint(r.name, "bold", color)}`, ...lines.map((l) => `  ${l}`)];
  });
  return `${table}\n${details.join("\n")}\n`;
}

/** The last lines: counts, then every router that failed (with why, unless the table already said it). */
function auditSummary(records: AuditRecord[], withMessages: boolean): string {
  const failed = records.filter((r) => r.status !== "ok");
  const conflicted = records.filter((r) => r.status === "ok" && r.conflicts.length > 0);
  const changes = records.filter((r) => r.recommendation?.change);
  const head = `${records.length} router${records.length === 1 ? "" : "s"}: ${records.length - failed.length} audited, ${failed.length} failed, ${conflicted.length} with conflicts, ${changes.length} with a recommended change`;
  return [head, ...failed.map((r) => `  failed: ${r.name} (${r.host}:${r.port}): ${r.status}${withMessages ? `: ${r.error}` : ""}`), ...fixLines(failed)].join("\n") + "\n";
}

export function auditCommand(): Command {
  return withFleetOptions(new Command("audit"))
    .description(
      "read every router of an inventory and report offload capability, configured and running mode, conflicts and the policy's recommendation " +
        "(exit 0: every router audited; 1: some could not be reached or read, the rest is still reported)",
    )
    .option("--json", "print a JSON document (schema openwrt-offload/audit, one object per router in `routers`) instead of a table")
    .option("--html <file>", "also write a self-contained HTML report to this file")
    .action(async (opts: FleetCliOptions & { json?: boolean; html?: string }) => {
      const inventory = readInventory(opts.inventory);
      let records: AuditRecord[];
      try {
        records = (await scanFleet(inventory.routers, inventory.file, scanOptions(opts, "audit"))).map((r) => auditRecord(r, opts));
      } finally {
        await getPool().closeAll();
      }
      const meta = { generatedAt: new Date(), inventory: opts.inventory, policy: opts.policy, sqmPolicy: opts.sqmPolicy };
      if (opts.html) {
        fs.writeFileSync(opts.html, renderAuditHtml(records, meta));
        process.stderr.write(`wrote the HTML report to ${opts.html}\n`);
      }
      if (opts.json) {
        process.stdout.write(jsonDocument("audit", { inventory: meta.inventory, policy: meta.policy, sqmPolicy: meta.sqmPolicy, routers: records }, meta.generatedAt));
        if (records.some((r) => r.status !== "ok")) process.stderr.write(auditSummary(records, true));
      } else {
        process.stdout.write(`${auditTable(records, colorFor(process.stdout))}\n${auditSummary(records, false)}`);
      }
      process.exitCode = records.some((r) => r.status !== "ok") ? 1 : 0;
    });
}
