import { randomBytes } from "crypto";
import { APPLY_MARK, applyScripts, fileWriteScript, touchedDevices, touchedPackages, touchedPaths, type ChangeSet } from "../device/changeset";
import { shellCommand, shellQuote } from "../transport";
import { GUARD_DIR, GUARD_FLOCK, GUARD_HOOK, GUARD_SCRIPT, GUARD_SCRIPT_PATH, GUARD_SCRIPT_VERSION } from "./router-script";

/**
 * One guarded change as the router runs it, in one exec: take the router (lock = boot hook),
 * snapshot what the change touches, refuse foreign staged uci changes, arm (timer proven alive,
 * everything synced), then apply in two parts, restoring at once if a part fails. Verification and
 * confirmation follow from the client (guard.ts). The exec holds the guard's flock throughout, so
 * the router-side timer can never restore in the middle of it.
 */
export interface Transaction {
  txid: string;
  /** What the change does ("FirewallDefaults: hardware offload"). */
  description: string;
  /** What the snapshot holds, in the same words ("software offload"): what a restore puts back. */
  restores: string;
  /** What the change is about, for drift: "firewallDefaults", "flowtable:NAME", …; "rollback SUBJECT" for a rollback. */
  subject: string;
  /** What it puts in place, in the words of `restores` ("hardware offload"). */
  sets: string;
  changes: ChangeSet;
  /** Packages this change installs: a restore removes them again. */
  installsPackages: string[];
  /** Packages this change removes: it only rolls forward (a restore finishes the removal). */
  removesPackages: string[];
  firewall: "fw3" | "fw4";
  /** undefined: unguarded (the lock still keeps other writers out, nothing restores). */
  confirmTimeoutSeconds: number | undefined;
}

export const MARK = "--offload-guard--";

/** Transaction ids sort by time (to the millisecond): the router lists and prunes its snapshots by name. */
export function newTxid(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, "")}-${randomBytes(3).toString("hex")}`;
}

export const TXID_PATTERN = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$/;

export function isTxid(value: string): boolean {
  return TXID_PATTERN.test(value);
}

const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;
const SAFE_WORD = /^[A-Za-z0-9._@:+-]+$/;

/** The snapshot's items; the router-side manifest is line-based, so anything it could misread is refused here. */
function snapshotItems(tx: Transaction): string[] {
  const paths = touchedPaths(tx.changes);
  const devices = touchedDevices(tx.changes);
  for (const p of paths) if (!SAFE_PATH.test(p)) throw new Error(`guard: refusing to snapshot unusual path ${JSON.stringify(p)}`);
  for (const w of [...devices, ...tx.installsPackages, ...tx.removesPackages]) if (!SAFE_WORD.test(w)) throw new Error(`guard: refusing unusual name ${JSON.stringify(w)}`);
  return [
    ...paths.map((p) => `f:${p}`),
    ...devices.map((d) => `h:${d}`),
    ...tx.installsPackages.map((p) => `p:${p}`),
    ...tx.removesPackages.map((p) => `r:${p}`),
  ];
}

/** Writes the router-side script unless the router already holds this version. */
export function installGuardScript(): string {
  return `grep -qx '# guard-version: ${GUARD_SCRIPT_VERSION}' ${GUARD_SCRIPT_PATH} 2>/dev/null || { ${fileWriteScript(GUARD_SCRIPT_PATH, GUARD_SCRIPT)}; }`;
}

const guardSh = (...words: string[]) => `sh ${GUARD_SCRIPT_PATH} ${shellCommand(words)}`;

export function beginScript(tx: Transaction): string {
  const { txid } = tx;
  const from = tx.changes.putBack?.txid;
  const { config, runtime } = applyScripts(tx.changes, {
    fw4: tx.firewall === "fw4",
    saveDir: `/var/run/offload-guard.${txid}.uci`,
    putBack: from ? { files: guardSh("put-back", from, "files"), kernel: guardSh("put-back", from, "kernel") } : undefined,
  });
  const guarded = tx.confirmTimeoutSeconds !== undefined;
  const foreign = touchedPackages(tx.changes).map(
    (pkg) => `if [ -s ${shellQuote(`/tmp/.uci/${pkg}`)} ]; then echo ${shellQuote(`${MARK}foreign ${pkg}`)}; uci changes ${shellQuote(pkg)}; ${guardSh("abort", txid, "foreign-changes")}; exit 0; fi`,
  );
  const undo = (how: "files" | "kernel") => (guarded ? guardSh("restore", txid, "apply-failed", how) : guardSh("release", txid));
  return [
    "trap '' HUP PIPE",
    `mkdir -p ${GUARD_DIR} /var/run`,
    installGuardScript(),
    // One writer at a time, and no timer or confirm in the middle of this script.
    `exec 9>${GUARD_FLOCK} && flock 9 || { echo "${MARK}failed lock"; exit 0; }`,
    "export GUARD_LOCKED=1",
    `out=$(${guardSh("lock", txid, String(tx.confirmTimeoutSeconds ?? 0), tx.description, tx.restores, tx.subject, tx.sets)}) || { echo "${MARK}$out"; exit 0; }`,
    ...(guarded
      ? [`out=$(${guardSh("snapshot", txid, ...snapshotItems(tx))} 2>&1) || { ${guardSh("abort", txid, "snapshot-failed")}; echo "${MARK}snapshot-failed"; echo "$out"; exit 0; }`]
      : []),
    ...foreign,
    guarded ? `out=$(${guardSh("arm", txid)} 2>&1) || { echo "${MARK}arm-failed"; echo "$out"; exit 0; }` : guardSh("unguarded", txid),
    `(\n${config}\n); rc=$?`,
    `if [ $rc -ne 0 ]; then echo "${MARK}failed config $rc"; ${undo("files")}; exit 0; fi`,
    `(\n${runtime}\n); rc=$?`,
    `if [ $rc -ne 0 ]; then echo "${MARK}failed runtime $rc"; ${undo("kernel")}; exit 0; fi`,
    guarded ? "" : guardSh("release", txid),
    `echo "${MARK}applied"`,
  ]
    .filter(Boolean)
    .join("\n");
}

export type BeginOutcome =
  | { kind: "applied"; output: string }
  | { kind: "busy"; other: string; deadline?: number; description: string }
  | { kind: "foreign"; pkg: string; lines: string[] }
  | { kind: "not-armed"; detail: string }
  | { kind: "failed"; part: "config" | "runtime"; exit: number; detail: string; staging?: string; check?: string; foreignPkg?: string };

/** Reads what the begin script printed (its markers and what the router's tools said around them). */
export function parseBegin(stdout: string, stderr: string): BeginOutcome | undefined {
  const lines = stdout.split("\n");
  const markerAt = (name: string) => lines.findIndex((l) => l.startsWith(`${MARK}${name}`));
  const after = (i: number) => lines.slice(i + 1).filter((l) => !l.startsWith(MARK) && l !== "");
  const words = (i: number) => lines[i].slice(MARK.length).split(" ");

  if (markerAt("applied") >= 0) return { kind: "applied", output: `${lines.filter((l) => !l.startsWith(MARK)).join("\n")}${stderr}`.trim() };
  const busy = markerAt("busy");
  if (busy >= 0) {
    const [, other, deadline, ...description] = words(busy);
    return { kind: "busy", other, deadline: Number(deadline) || undefined, description: description.join(" ") };
  }
  const foreign = markerAt("foreign");
  if (foreign >= 0) return { kind: "foreign", pkg: words(foreign)[1], lines: after(foreign) };
  for (const name of ["arm-failed", "snapshot-failed", "failed lock"]) {
    const i = markerAt(name);
    if (i >= 0) return { kind: "not-armed", detail: `${name.replace("-", " ")}: ${[...after(i), stderr.trim()].filter(Boolean).join("; ") || "no output"}` };
  }
  const failed = markerAt("failed ");
  if (failed >= 0) {
    const [, part, code] = words(failed);
    const applyLine = (name: string) => lines.findIndex((l) => l.startsWith(`${APPLY_MARK}${name}`));
    const block = (i: number) => (i < 0 ? undefined : [lines[i].slice(APPLY_MARK.length).split(" ").slice(1).join(" "), ...lines.slice(i + 1, failed)].join("\n").trim());
    const foreignAt = applyLine("foreign");
    return {
      kind: "failed",
      part: part === "runtime" ? "runtime" : "config",
      exit: Number(code),
      detail: `${lines.slice(0, failed).filter((l) => !l.startsWith(APPLY_MARK)).join("\n")}\n${stderr}`.trim(),
      staging: block(applyLine("staging")),
      check: block(applyLine("check")),
      foreignPkg: foreignAt >= 0 ? lines[foreignAt].slice(`${APPLY_MARK}foreign `.length) : undefined,
    };
  }
  return undefined;
}

export interface TxStatus {
  /** "confirmed EPOCH", "restored REASON EPOCH", "completed REASON EPOCH" (rolled forward), "aborted REASON EPOCH", or "" while open. */
  result: string;
  phase: string;
  owner: boolean;
  deadline?: number;
  now: number;
  /** A guard script holds the router's flock (the apply, a restore) right now. */
  running: boolean;
}

/**
 * The router's record of a transaction, as a probe section (shell builtins, a flock and a date):
 * `result|phase|owner?|deadline|now|running?`. A router without the record (a crash lost it, or it
 * never got that far) answers with empty fields.
 */
export function statusSection(txid: string): string {
  const d = shellQuote(`${GUARD_DIR}/tx/${txid}`);
  return [
    "_s=; _p=; _t=; _o=; _b=",
    `[ -f ${d}/result ] && read -r _s <${d}/result`,
    `[ -f ${d}/phase ] && read -r _p <${d}/phase`,
    `[ -f ${d}/deadline ] && read -r _t <${d}/deadline`,
    `[ ${GUARD_HOOK} -ef ${d}/hook ] && _o=owner`,
    // A script holding the guard's flock (an apply, a restore) is running.
    `{ flock -n 8 || _b=running; } 2>/dev/null 8>>${GUARD_FLOCK}`,
    'echo "$_s|$_p|$_o|$_t|$(date +%s)|$_b"',
  ].join("\n");
}

export function parseStatus(out: string): TxStatus | undefined {
  const fields = (out.trim().split("\n").pop() ?? "").split("|");
  if (fields.length < 6) return undefined;
  const [result, phase, owner, deadline, now, running] = fields;
  return { result, phase, owner: owner === "owner", deadline: Number(deadline) || undefined, now: Number(now), running: running === "running" };
}

/** What the client answers a verification with: the router acts on it in the same exec. */
export type Answer = "confirm" | "restore" | "abort" | "";

/**
 * What a verification does once its sections are printed: wait for the client's answer on stdin
 * (at most the window's length) and confirm, restore or abort the transaction accordingly, or do
 * nothing. Only these fixed words are read; the transaction and its settings are in the script.
 */
export function answerScript(txid: string, { confirmTimeoutSeconds, keepSnapshots }: { confirmTimeoutSeconds: number; keepSnapshots: number }): string {
  return [
    `read -t ${shellQuote(String(Math.ceil(confirmTimeoutSeconds)))} _a || _a=`,
    'case "$_a" in',
    `confirm) ${guardSh("confirm", txid, String(keepSnapshots))} ;;`,
    `restore) ${guardSh("restore", txid, "verify-failed", "kernel")} ;;`,
    `abort) ${guardCommand("abort", txid, "interrupted")} ;;`,
    "esac",
  ].join("\n");
}

export function guardCommand(...words: string[]): string {
  return `[ -f ${GUARD_SCRIPT_PATH} ] && ${guardSh(...words)}`;
}
