/**
 * Reads the demo's output back: its steps, the fleet tables it prints, and every statement made before a table that
 * the table must agree with (issue: a table from the last *successful* outputs contradicted the messages above it).
 */

export interface FleetRow {
  router: string;
  wave: number;
  requested: string;
  running: string;
  guard: string;
  drift: string;
}

export interface DriftRow {
  router: string;
  config: string;
  running: string;
  drift: string;
}

/** The demo's steps by number: the lines under each `━━ N. …` heading. */
export function steps(out: string): Map<number, string[]> {
  const result = new Map<number, string[]>();
  let current: string[] | undefined;
  for (const line of out.split("\n")) {
    const heading = /^━━ (\d+)\. /.exec(line);
    if (heading) result.set(Number(heading[1]), (current = []));
    else current?.push(line);
  }
  return result;
}

function tableAfter<T>(lines: string[], header: RegExp, row: RegExp, make: (m: RegExpExecArray) => T): T[] {
  const start = lines.findIndex((l) => header.test(l));
  if (start < 0) return [];
  const rows: T[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = row.exec(line);
    if (!m) break;
    rows.push(make(m));
  }
  return rows;
}

export function fleetTable(lines: string[]): FleetRow[] {
  return tableAfter(lines, /^\s+router\s+wave\s+requested\s+running\s+guard\s+drift/, /^\s+(r\d-\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.*?)\s*$/, (m) => ({
    router: m[1],
    wave: Number(m[2]),
    requested: m[3],
    running: m[4],
    guard: m[5],
    drift: m[6],
  }));
}

export function driftTable(lines: string[]): DriftRow[] {
  return tableAfter(lines, /^\s+ROUTER\s+ADDRESS\s+DECLARED\s+CONFIG\s+RUNNING\s+DRIFT/, /^\s+(r\d-\S+)\s+\S+\s+\S+ \(\w+\)\s+(\S+)\s+(\S+)\s+(\S+)\s*$/, (m) => ({
    router: m[1],
    config: m[2],
    running: m[3],
    drift: m[4],
  }));
}

const FAILED_GUARDS = new Set(["restored", "refused", "failed"]);

/** What an up's step says (wave notes, crashes, the verdict, per-router details) that its table contradicts. */
export function upDisagreements(lines: string[]): string[] {
  const rows = fleetTable(lines);
  if (rows.length === 0) return ["no fleet table"];
  const row = (router: string) => rows.find((r) => r.router === router);
  const problems: string[] = [];
  const waveFailed: boolean[] = [];
  for (const line of lines) {
    const note = /wave (\d+) (passed|failed)(?:: (\d+) of (\d+) routers?)?/.exec(line);
    if (note) {
      const wave = Number(note[1]);
      const inWave = rows.filter((r) => r.wave === wave);
      const failed = inWave.filter((r) => FAILED_GUARDS.has(r.guard)).length;
      if (note[3] !== undefined && (Number(note[3]) !== failed || Number(note[4]) !== inWave.length)) {
        problems.push(`"${line.trim()}" but the table has ${failed} of ${inWave.length} failed in wave ${wave}`);
      }
      if (note[3] === undefined && failed > 0) problems.push(`"${line.trim()}" but the table has ${failed} failed router(s) in wave ${wave}`);
      waveFailed[wave] = note[2] === "failed";
    }
    const crash = /✗ (r\d-\S+): kernel oops/.exec(line);
    if (crash && row(crash[1])?.guard !== "restored") problems.push(`${crash[1]} crashed in its window but its row says guard ${row(crash[1])?.guard}`);
    const verdict = /pulumi up (succeeded|failed)/.exec(line);
    if (verdict && (verdict[1] === "failed") !== waveFailed.some(Boolean)) problems.push(`"${verdict[0]}" but the wave notes say ${waveFailed.some(Boolean) ? "a wave failed" : "every wave passed"}`);
    if (verdict?.[1] === "failed") {
      for (const [, router, status] of line.matchAll(/(r\d-[\w.-]+) \((refused|restored|failed)\)/g)) {
        if (row(router)?.guard !== status) problems.push(`the up's error says ${router} ${status}, its row says ${row(router)?.guard}`);
      }
    }
    const detail = /^\s+(r\d-\S+): .*(restored the previous config|refusing to change anything)/.exec(line);
    if (detail) {
      const expected = detail[2] === "refusing to change anything" ? "refused" : "restored";
      if (row(detail[1])?.guard !== expected) problems.push(`${detail[1]}'s detail says ${expected}, its row says ${row(detail[1])?.guard}`);
    }
  }
  for (const r of rows) {
    if (r.guard === "confirmed" && (r.running !== r.requested || r.drift !== "none")) problems.push(`${r.router} confirmed but runs ${r.running} for ${r.requested} with drift ${r.drift}`);
    if (FAILED_GUARDS.has(r.guard) && r.drift === "none" && r.running !== r.requested) problems.push(`${r.router} ${r.guard} and runs ${r.running} for ${r.requested}, yet no drift`);
  }
  return problems;
}

/** What the drift step says (the edits made, refresh's drifted resources, the drift command's count) against its table. */
export function driftDisagreements(lines: string[]): string[] {
  const rows = driftTable(lines);
  if (rows.length === 0) return ["no drift table"];
  const problems: string[] = [];
  const drifted = rows.filter((r) => r.drift !== "none").map((r) => r.router);
  for (const line of lines) {
    const refreshed = /pulumi refresh: drift on (.*)$/.exec(line);
    if (refreshed) {
      const routers = [...new Set([...refreshed[1].matchAll(/edge-(r\d-[\w.-]+?)-(?:offload|pkgs)\b/g)].map((m) => m[1]))].sort();
      if (routers.join() !== [...drifted].sort().join()) problems.push(`refresh found drift on ${routers.join(", ") || "nothing"}, the drift table on ${drifted.join(", ")}`);
    }
    const edited = /^\s+(r\d-\S+): someone unticked hardware offload/.exec(line);
    const edit = edited && rows.find((r) => r.router === edited[1]);
    if (edited && (edit?.config !== "software" || edit.drift !== "local-edit")) problems.push(`${edited[1]} was edited in LuCI, its row says config ${edit?.config}, drift ${edit?.drift}`);
    const fell = /^\s+(r\d-\S+): .*fw4 fell back to software/.exec(line);
    const fallback = fell && rows.find((r) => r.router === fell[1]);
    if (fell && (fallback?.running !== "software" || fallback.drift !== "runtime-fallback")) problems.push(`${fell[1]} fell back to software, its row says running ${fallback?.running}, drift ${fallback?.drift}`);
    const count = /(\d+) routers: (\d+) in sync, (\d+) drifted/.exec(line);
    if (count && (Number(count[1]) !== rows.length || Number(count[3]) !== drifted.length)) problems.push(`"${count[0]}" but the table has ${rows.length} routers, ${drifted.length} drifted`);
  }
  return problems;
}
