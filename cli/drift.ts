import * as fs from "fs";
import { Command } from "commander";
import { classifyOffloadDrift, type Drift } from "../provider/device/drift";
import { requestedMode, runningMode } from "../provider/device/offload";
import type { InventoryRouter } from "../provider/fleet/inventory";
import { intentFor, type Mode } from "../provider/fleet/policy";
import { getPool } from "../provider/transport";
import { configuredMode, flowCounts, guardSummary, type FlowCounts, type GuardSummary } from "./audit-record";
import { declarationSource, decisionFor, readInventory, scanOptions, withFleetOptions, type FleetCliOptions } from "./fleet-options";
import { scanFleet, type ScanResult } from "./fleet-scan";
import { fixLines } from "./connect-failures";
import { jsonDocument } from "./json-output";
import { renderDriftHtml } from "./report-html";
import { readStackExport, type StackDeclaration } from "./stack-export";
import { colorFor, modeCell, paint, renderTable, type Cell } from "./table";

/** One router in `drift --json`; every key is always present. */
export interface DriftRecord {
  name: string;
  host: string;
  port: number;
  labels: Record<string, string>;
  /** not-in-stack: the inventory has it, the stack export does not manage it, so it was not checked. */
  status: "in-sync" | "drift" | "error" | "not-in-stack";
  declared: { mode: Mode; source: "inventory" | "policy" | "stack"; reason: string } | null;
  configuredMode: Mode | null;
  runningMode: Mode | null;
  drift: Drift[];
  guard: GuardSummary | null;
  flows: FlowCounts | null;
  error: string | null;
  /** For the failures an operator meets first: what happened in a sentence, and the fix. */
  fix: string | null;
}

const key = (host: string, port: number) => `${host.toLowerCase()}:${port}`;

function blank(name: string, host: string, port: number, labels: Record<string, string>, status: DriftRecord["status"], error: string | null, fix: string | null = null): DriftRecord {
  return { name, host, port, labels, status, declared: null, configuredMode: null, runningMode: null, drift: [], guard: null, flows: null, error, fix };
}

function driftRecord(result: ScanResult, declaration: StackDeclaration | undefined, opts: FleetCliOptions): DriftRecord {
  const { router } = result;
  if (result.failure) return blank(router.name, router.host, router.port, router.labels, "error", `${result.failure.kind}: ${result.failure.message}`, result.failure.fix);
  const { facts } = result;
  let declared: NonNullable<DriftRecord["declared"]>;
  if (declaration) {
    declared = { mode: requestedMode(declaration.declared), source: "stack", reason: `declared by ${declaration.name} in the stack` };
  } else {
    const decision = decisionFor(router, facts, opts);
    declared = { ...decision, source: declarationSource(router) };
  }
  // Without a stack, nothing says this project ever applied the inventory's mode: "not-applied" is possible.
  const drift = classifyOffloadDrift(facts, declaration?.declared ?? intentFor(declared.mode), { firmware: declaration?.firmware, managed: declaration !== undefined });
  return {
    name: router.name,
    host: router.host,
    port: router.port,
    labels: router.labels,
    status: drift.length > 0 ? "drift" : "in-sync",
    declared,
    configuredMode: configuredMode(facts),
    runningMode: runningMode(facts),
    drift,
    guard: guardSummary(facts),
    flows: flowCounts(facts),
    error: null,
    fix: null,
  };
}

/**
 * With a stack export, the stack decides which routers are checked: a fleet is often split into
 * several stacks, so inventory routers this stack does not manage are listed but not read. A
 * resource whose router is not in the inventory cannot be reached (no credentials): an error.
 */
async function collect(routers: InventoryRouter[], inventoryFile: string | undefined, opts: FleetCliOptions & { stackExport?: string }): Promise<DriftRecord[]> {
  const scan = (list: InventoryRouter[]) => scanFleet(list, inventoryFile, scanOptions(opts, "drift"));
  if (!opts.stackExport) return (await scan(routers)).map((r) => driftRecord(r, undefined, opts));

  const byRouter = new Map<string, StackDeclaration[]>();
  for (const d of readStackExport(opts.stackExport)) byRouter.set(key(d.host, d.port), [...(byRouter.get(key(d.host, d.port)) ?? []), d]);
  const inventoryKeys = new Set(routers.map((r) => key(r.host, r.port)));
  const managed = routers.filter((r) => byRouter.has(key(r.host, r.port)));
  const scanned = new Map((await scan(managed)).map((r) => [r.router.name, r]));
  const records = routers.map((router) => {
    const decls = byRouter.get(key(router.host, router.port));
    if (!decls) return blank(router.name, router.host, router.port, router.labels, "not-in-stack", null);
    if (decls.length > 1) return blank(router.name, router.host, router.port, router.labels, "error", `${decls.length} FirewallDefaults resources declare this router (${decls.map((d) => d.name).join(", ")}): the stack is inconsistent`);
    return driftRecord(scanned.get(router.name)!, decls[0], opts);
  });
  for (const [k, decls] of byRouter) {
    if (inventoryKeys.has(k)) continue;
    for (const d of decls) records.push(blank(d.name, d.host, d.port, {}, "error", `the stack manages ${d.host}:${d.port}, but the inventory has no router there (no credentials to check it)`));
  }
  return records;
}

function driftTable(records: DriftRecord[], color: boolean): string {
  const rows = records.map((r): (string | Cell)[] => [
    { text: r.name, style: "bold" },
    `${r.host}:${r.port}`,
    modeCell(r.declared?.mode ?? null, r.declared ? ` (${r.declared.source})` : ""),
    modeCell(r.configuredMode),
    modeCell(r.runningMode),
    r.status === "in-sync"
      ? { text: "none", style: "green" }
      : r.status === "drift"
        ? { text: r.drift.map((d) => d.class).join(", "), style: "yellow" }
        : r.status === "error"
          ? { text: "error", style: "red" }
          : { text: "not in the stack", style: "gray" },
  ]);
  const details = records
    .filter((r) => r.drift.length > 0 || r.error)
    .flatMap((r) => [
      paint(r.name, "bold", color),
      ...r.drift.map((d) => `  ${paint(d.class, "yellow", color)}: ${d.detail}`),
      ...(r.error ? [`  ${paint("error", "red", color)}: ${r.error}`] : []),
    ]);
  return renderTable(["ROUTER", "ADDRESS", "DECLARED", "CONFIG", "RUNNING", "DRIFT"], rows, color) + (details.length > 0 ? `\n${details.join("\n")}\n` : "");
}

function driftSummary(records: DriftRecord[]): string {
  const n = (s: DriftRecord["status"]) => records.filter((r) => r.status === s).length;
  const skipped = n("not-in-stack");
  const head = `${records.length} router${records.length === 1 ? "" : "s"}: ${n("in-sync")} in sync, ${n("drift")} drifted, ${n("error")} failed${skipped > 0 ? `, ${skipped} not in the stack (not checked)` : ""}`;
  return [head, ...fixLines(records)].join("\n") + "\n";
}

export function driftCommand(): Command {
  return withFleetOptions(new Command("drift"))
    .description(
      "compare what was declared (the inventory's mode, else the policy; or a stack export) with uci and the kernel on every router " +
        "(exit 0: no drift; 2: drift found; 1: a router could not be checked or the input is invalid, which wins over 2)",
    )
    .option("--stack-export <file>", "take what was declared from `pulumi stack export --show-secrets` (FirewallDefaults resources, matched by host and port)")
    .option("--json", "print a JSON document (schema openwrt-offload/drift, one object per router in `routers`) instead of a table")
    .option("--html <file>", "also write a self-contained HTML report to this file")
    .action(async (opts: FleetCliOptions & { stackExport?: string; json?: boolean; html?: string }) => {
      const inventory = readInventory(opts.inventory);
      let records: DriftRecord[];
      try {
        records = await collect(inventory.routers, inventory.file, opts);
      } finally {
        await getPool().closeAll();
      }
      const meta = { generatedAt: new Date(), inventory: opts.inventory, stackExport: opts.stackExport, policy: opts.policy, sqmPolicy: opts.sqmPolicy };
      if (opts.html) {
        fs.writeFileSync(opts.html, renderDriftHtml(records, meta));
        process.stderr.write(`wrote the HTML report to ${opts.html}\n`);
      }
      if (opts.json) {
        const { generatedAt, ...about } = meta;
        process.stdout.write(jsonDocument("drift", { ...about, stackExport: about.stackExport ?? null, routers: records }, generatedAt));
        // Scripts read stdout; a person reading a cron mail still learns why a router was not checked.
        const failed = records.filter((r) => r.status === "error");
        for (const r of failed) process.stderr.write(`not checked: ${r.name} (${r.host}:${r.port}): ${r.error}\n`);
        for (const line of fixLines(failed)) process.stderr.write(`${line}\n`);
      } else {
        process.stdout.write(`${driftTable(records, colorFor(process.stdout))}\n${driftSummary(records)}`);
      }
      process.exitCode = records.some((r) => r.status === "error") ? 1 : records.some((r) => r.status === "drift") ? 2 : 0;
    });
}
