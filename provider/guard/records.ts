/**
 * The guard's records as the router keeps them (tx/TXID/{meta,restores,subject,sets,result,deadline} under
 * /etc/offload-guard, the lock /etc/rc.d/S11offload-guard naming the owner), read in one command and
 * parsed here: snapshots lists them, and drift tells the guard's restores and operators' rollbacks
 * from other edits. A leaf module: the device layer's facts probe reads them too.
 */
export const GUARD_DIR = "/etc/offload-guard";
export const GUARD_HOOK = "/etc/rc.d/S11offload-guard";

const FIELDS = ["meta", "result", "restores", "subject", "sets", "deadline"] as const;

/**
 * Every record as `FILE:LINE` and the lock's owner, by shell builtins alone (no process): the
 * fields are one line each, and the lock is the transaction whose hook the symlink resolves to.
 */
export const GUARD_RECORDS_PROBE = [
  `for _g in ${FIELDS.map((f) => `${GUARD_DIR}/tx/*/${f}`).join(" ")}; do _l=; [ -f "$_g" ] && read -r _l <"$_g"; [ -n "$_l" ] && echo "$_g:$_l"; done`,
  `for _g in ${GUARD_DIR}/tx/*; do [ ${GUARD_HOOK} -ef "$_g/hook" ] && echo "owner:$_g/hook"; done`,
  "true",
].join("; ");

export interface GuardRecord {
  txid: string;
  description: string;
  /** "confirmed <epoch>", "restored <reason> <epoch>", "completed <reason> <epoch>", "aborted <reason> <epoch>", or "" while open. */
  result: string;
  /** What the snapshot holds, in words: what a restore (or a rollback) puts back. */
  restores: string;
  /** What the change was about ("firewallDefaults", "flowtable:NAME"; "rollback SUBJECT" for an operator's rollback). */
  subject: string;
  /** What the change put in place, in the same words as `restores` (a rollback: what it put back). */
  sets: string;
  /** Epoch seconds when the open transaction holding the router is restored unless confirmed. */
  pendingUntil?: number;
}

/** Newest first (transaction ids sort by time). */
export function parseGuardRecords(out: string): GuardRecord[] {
  const byTx = new Map<string, Record<string, string>>();
  let owner = "";
  for (const line of out.split("\n")) {
    if (line.startsWith("owner:")) {
      owner = line.slice("owner:".length).replace(/\/hook$/, "").split("/").pop() ?? "";
      continue;
    }
    const m = /^.*\/tx\/([^/]+)\/(\w+):(.*)$/.exec(line);
    if (!m) continue;
    const [, txid, field, value] = m;
    if (!byTx.has(txid)) byTx.set(txid, {});
    byTx.get(txid)![field] = value;
  }
  return [...byTx]
    .sort(([a], [b]) => (a < b ? 1 : -1))
    .map(([txid, f]) => ({
      txid,
      description: f.meta ?? "",
      result: f.result ?? "",
      restores: f.restores ?? "",
      subject: f.subject ?? "",
      sets: f.sets ?? "",
      ...(txid === owner && f.deadline ? { pendingUntil: Number(f.deadline) } : {}),
    }));
}

/** When a result happened, from its epoch. */
export function resultTime(result: string): string {
  const epoch = Number(result.split(" ").pop());
  return Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000).toISOString() : "";
}
