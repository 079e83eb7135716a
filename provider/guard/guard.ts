import { randomBytes } from "crypto";
import { changeSetScript, fileWriteScript, type ChangeSet } from "../device/changeset";
import { readFactsWith, type RouterFacts } from "../device/facts";
import type { RouterShell } from "../device/shell";
import { ConnectionLostError, getPool, shellCommand, shellQuote, TransportError, type ConnectionOptions } from "../transport";
import { GUARD_DIR, GUARD_SCRIPT, GUARD_SCRIPT_PATH } from "./router-script";
import { withRouterLock } from "./lock";

export interface HealthCheck {
  name: string;
  /** Runs on the router with sh -c; exit 0 means healthy (e.g. `ping -c 1 -W 2 192.168.1.10`). */
  command: string;
}

export interface GuardOptions {
  /** false: apply without a safety net (unsafe: a bad change stays until someone fixes it by hand). */
  enabled: boolean;
  /** The router restores the change by itself unless it is confirmed within this time (LuCI uses 90 s). */
  confirmTimeoutSeconds: number;
  /** Wait this long after a good verification and verify again before confirming (crash-prone drivers). */
  soakSeconds: number;
  healthChecks: HealthCheck[];
  /** Snapshots kept on the router for `openwrt-offload rollback`. */
  keepSnapshots: number;
}

export const DEFAULT_GUARD: GuardOptions = { enabled: true, confirmTimeoutSeconds: 90, soakSeconds: 0, healthChecks: [], keepSnapshots: 5 };

/** Resource-specific proof that the kernel runs what was asked: one sentence per failed check. */
export type Verify = (facts: RouterFacts, extra: Record<string, { rc: number; out: string }>) => string[];

export interface GuardedChange {
  /** What the change is, for the snapshot list and messages ("FirewallDefaults: hardware offload"). */
  description: string;
  changes: ChangeSet;
  /** Packages this change installs: a restore removes them again. */
  installsPackages?: string[];
  /** Extra probe sections the verification needs (one exec with the facts). */
  verifySections?: Record<string, string>;
  verify: Verify;
  /** What was checked, for the error message (e.g. "flowtable ft live with flags offload"). */
  checks: string[];
}

export class GuardError extends Error {
  constructor(
    message: string,
    readonly txid: string,
    readonly restored: boolean,
  ) {
    super(message);
    this.name = "GuardError";
  }
}

export class GuardBusyError extends Error {
  constructor(router: string, other: string, deadline: string) {
    const when = Number(deadline) ? ` until ${new Date(Number(deadline) * 1000).toISOString()}` : "";
    super(
      `${router}: another guarded change (${other}) is waiting for confirmation${when}; one change at a time per ` +
        "router. Nothing was changed. Run again once it is confirmed or restored (openwrt-offload snapshots --router ...).",
    );
    this.name = "GuardBusyError";
  }
}

const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;
const SAFE_WORD = /^[A-Za-z0-9._@:+-]+$/;

export function newTxid(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${randomBytes(3).toString("hex")}`;
}

/** Every path and device the change set touches, which the snapshot must cover. */
function touched(cs: ChangeSet): { paths: string[]; devices: string[] } {
  const paths = [
    ...cs.uci.filter((u) => u.changes.length > 0).map((u) => `/etc/config/${u.pkg}`),
    ...cs.files.map((f) => f.path),
    ...cs.links.map((l) => l.path),
  ];
  const devices = cs.hwTc.map((h) => h.device);
  // The router-side script keeps manifests line-based and unquoted: refuse anything it could misread.
  for (const p of paths) if (!SAFE_PATH.test(p)) throw new Error(`guard: refusing to snapshot unusual path ${JSON.stringify(p)}`);
  for (const d of devices) if (!SAFE_WORD.test(d)) throw new Error(`guard: refusing unusual device name ${JSON.stringify(d)}`);
  return { paths: [...new Set(paths)], devices: [...new Set(devices)] };
}

/** Shell that records the current state of everything the change touches into the transaction's snapshot. */
export function snapshotScript(txid: string, cs: ChangeSet, description: string, installsPackages: string[] = []): string {
  const { paths, devices } = touched(cs);
  const d = `${GUARD_DIR}/tx/${txid}`;
  const lines = [`mkdir -p ${d}/files`, `: > ${d}/manifest`, `echo ${shellQuote(description)} > ${d}/meta`];
  for (const p of paths) {
    lines.push(
      `if [ -L ${p} ]; then echo "l ${p} $(readlink ${p})" >> ${d}/manifest; ` +
        `elif [ -e ${p} ]; then mkdir -p ${d}/files${p.replace(/\/[^/]*$/, "")} && cp -p ${p} ${d}/files${p} && echo "f ${p}" >> ${d}/manifest; ` +
        `else echo "a ${p}" >> ${d}/manifest; fi`,
    );
  }
  for (const dev of devices) {
    lines.push(`echo "h ${dev} $(ethtool -k ${dev} | sed -n 's/^hw-tc-offload: \\([a-z]*\\).*/\\1/p')" >> ${d}/manifest`);
  }
  for (const pkg of installsPackages) {
    if (!SAFE_WORD.test(pkg)) throw new Error(`guard: refusing unusual package name ${JSON.stringify(pkg)}`);
    lines.push(`echo "p ${pkg}" >> ${d}/manifest`);
  }
  return lines.join("\n");
}

/** Installs (or refreshes) the router-side script; `arm` writes and enables the boot hook, confirm and restore remove it. */
export function installScript(): string {
  return fileWriteScript(GUARD_SCRIPT_PATH, GUARD_SCRIPT);
}

const MARK = "--offload-guard--";

/**
 * Applies a change set inside a guard window (DESIGN §5): snapshot, arm (timer + boot hook), apply,
 * verify over a fresh connection (runtime, health checks, optional soak), then confirm — or restore
 * at once and fail with what was checked and what failed. If the link dies, the router restores
 * itself when the window ends, and also if it reboots first.
 */
export async function guardedApply(shell: RouterShell, options: ConnectionOptions, change: GuardedChange, guard: GuardOptions): Promise<RouterFacts> {
  return withRouterLock(options.router, async () => {
    if (!guard.enabled) {
      await shell.run(changeSetScript(change.changes), { purpose: `${change.description} (unguarded)` });
      return verifyOrThrow(shell, change);
    }
    const txid = newTxid();
    const script = [
      installScript(),
      snapshotScript(txid, change.changes, change.description, change.installsPackages),
      `out=$(sh ${GUARD_SCRIPT_PATH} arm ${txid} ${guard.confirmTimeoutSeconds}); rc=$?`,
      `if [ $rc -ne 0 ]; then rm -rf ${GUARD_DIR}/tx/${txid}; echo "${MARK}busy $out"; exit 0; fi`,
      `if ( set -e\n${changeSetScript(change.changes)}\n ); then echo "${MARK}applied"; else`,
      `  rc=$?; echo "${MARK}failed $rc"; sh ${GUARD_SCRIPT_PATH} restore ${txid} apply-failed; fi`,
    ].join("\n");
    let applied: { stdout: string; stderr: string };
    try {
      applied = await shell.run(script, { purpose: `${change.description} (guarded, ${txid})` });
    } catch (err) {
      if (err instanceof ConnectionLostError) {
        throw new GuardError(
          `${shell.router}: lost the connection while applying ${change.description} (transaction ${txid}); the change is ` +
            `not confirmed, so the router restores the previous config by itself within ${guard.confirmTimeoutSeconds} s ` +
            `(or at its next boot). Run again afterwards.`,
          txid,
          false,
        );
      }
      throw err;
    }
    const out = applied.stdout;
    const busy = out.split(MARK).find((p) => p.startsWith("busy "));
    if (busy) {
      const [, , other, deadline] = busy.trim().split(/\s+/);
      throw new GuardBusyError(shell.router, other ?? "unknown", deadline ?? "");
    }
    const failed = out.split(MARK).find((p) => p.startsWith("failed "));
    if (failed) {
      const said = `${out.slice(0, out.indexOf(`${MARK}failed`))}${applied.stderr}`.trim().slice(-600);
      throw new GuardError(
        `${shell.router}: applying ${change.description} failed on the router (exit ${failed.split(/\s+/)[1]}): ` +
          `${said || "no output"}; it was restored to its previous config at once (transaction ${txid}).`,
        txid,
        true,
      );
    }
    return verifyAndConfirm(shell, options, change, guard, txid, applied.stderr);
  });
}

async function verifyAndConfirm(
  shell: RouterShell,
  options: ConnectionOptions,
  change: GuardedChange,
  guard: GuardOptions,
  txid: string,
  applyStderr: string,
): Promise<RouterFacts> {
  let problems: string[];
  let facts: RouterFacts | undefined;
  try {
    // A fresh connection: what is verified is that the router can still be reached, not an old session.
    await getPool().connect(options, { fresh: true });
    ({ facts, problems } = await verifyOnce(shell, change, guard, txid));
    if (problems.length === 0 && guard.soakSeconds > 0) {
      await new Promise((r) => setTimeout(r, guard.soakSeconds * 1000));
      await getPool().connect(options, { fresh: true });
      ({ facts, problems } = await verifyOnce(shell, change, guard, txid));
      problems = problems.map((p) => `after ${guard.soakSeconds} s of soak: ${p}`);
    }
  } catch (err) {
    if (err instanceof RestoredMeanwhile) throw restoredByRouter(shell, change, txid, err.result, "the router restarted meanwhile");
    if (!(err instanceof TransportError)) throw err;
    throw await afterLostRouter(shell, options, change, guard, txid, err);
  }
  if (problems.length === 0) {
    const confirm = await shell.run(`sh ${GUARD_SCRIPT_PATH} confirm ${txid} ${guard.keepSnapshots}`, { purpose: `confirm ${txid}`, okExitCodes: "any" });
    if (confirm.code === 0) return facts!;
    throw await afterLostRouter(shell, options, change, guard, txid, new Error(confirm.stdout.trim()));
  }
  const restore = await shell.run(`sh ${GUARD_SCRIPT_PATH} restore ${txid} verify-failed`, { purpose: `restore ${txid}`, okExitCodes: "any" });
  const back = restore.code === 0 ? "it was restored to its previous config (files verified identical to the snapshot)" : `restoring it reported: ${restore.stdout.trim()}`;
  throw new GuardError(
    `${shell.router}: ${change.description} was applied but did not pass verification, so ${back} (transaction ${txid}). ` +
      `Checked: ${change.checks.concat(guard.healthChecks.map((h) => `health check "${h.name}"`)).join("; ")}. Failed: ${problems.join("; ")}.` +
      (applyStderr.trim() ? ` While applying, the router said: ${applyStderr.trim().slice(-400)}` : ""),
    txid,
    restore.code === 0,
  );
}

/** The router restored the transaction by itself (rebooted, or the timer ran out) while we were verifying. */
class RestoredMeanwhile extends Error {
  constructor(readonly result: string) {
    super(result);
  }
}

async function verifyOnce(shell: RouterShell, change: GuardedChange, guard: GuardOptions, txid: string): Promise<{ facts: RouterFacts; problems: string[] }> {
  const health = Object.fromEntries(guard.healthChecks.map((h, i) => [`health${i}`, h.command]));
  const { facts, extra } = await readFactsWith(shell, {
    ...(change.verifySections ?? {}),
    ...health,
    guardResult: `cat ${GUARD_DIR}/tx/${txid}/result`,
  });
  if (extra.guardResult.out.startsWith("restored")) throw new RestoredMeanwhile(extra.guardResult.out);
  const problems = change.verify(facts, extra);
  guard.healthChecks.forEach((h, i) => {
    const r = extra[`health${i}`];
    if (r.rc !== 0) problems.push(`health check "${h.name}" failed (exit ${r.rc}${r.out ? `: ${r.out.slice(-200)}` : ""})`);
  });
  return { facts, problems };
}

/** Without a guard, verification still runs; a failure is reported as is (nothing restores it). */
async function verifyOrThrow(shell: RouterShell, change: GuardedChange): Promise<RouterFacts> {
  const { facts, extra } = await readFactsWith(shell, change.verifySections ?? {});
  const problems = change.verify(facts, extra);
  if (problems.length > 0) {
    throw new Error(`${shell.router}: ${change.description} was applied without a guard and does not verify: ${problems.join("; ")}. Nothing restores it.`);
  }
  return facts;
}

/**
 * The router stopped answering during the window (a crash, a lost link). Wait for it within the
 * window and report what it did: a crash-reboot restores at boot, otherwise the timer will.
 */
async function afterLostRouter(shell: RouterShell, options: ConnectionOptions, change: GuardedChange, guard: GuardOptions, txid: string, cause: Error): Promise<GuardError> {
  const deadline = Date.now() + (guard.confirmTimeoutSeconds + 30) * 1000;
  while (Date.now() < deadline) {
    try {
      await getPool().connect(options, { fresh: true });
      const list = await shell.run(`sh ${GUARD_SCRIPT_PATH} list`, { purpose: "read the guard's transactions", retry: "safe" });
      const line = list.stdout.split("\n").find((l) => l.startsWith(`${txid}|`)) ?? "";
      const result = line.split("|")[2] ?? "";
      if (result.startsWith("restored")) return restoredByRouter(shell, change, txid, result, cause.message);
    } catch {
      // still down or rebooting
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return new GuardError(
    `${shell.router}: the router stopped answering after ${change.description} (${cause.message}); it was not confirmed, so it ` +
      `restores the previous config by itself when the ${guard.confirmTimeoutSeconds} s window ends or at its next boot (transaction ${txid}).`,
    txid,
    false,
  );
}

function restoredByRouter(shell: RouterShell, change: GuardedChange, txid: string, result: string, what: string): GuardError {
  const how = result.startsWith("restored boot") ? "it rebooted during the guard window and its boot hook restored" : "its timer restored";
  return new GuardError(`${shell.router}: ${change.description} did not survive verification (${what}); ${how} the previous config (transaction ${txid}).`, txid, true);
}

/** `openwrt-offload rollback`: put a kept snapshot back (the pending one, or any earlier confirmed one). */
export async function restoreSnapshot(shell: RouterShell, txid: string): Promise<string> {
  if (!/^[0-9TZ]+-[0-9a-f]+$/.test(txid)) throw new Error(`not a transaction id: ${JSON.stringify(txid)} (see openwrt-offload snapshots)`);
  const r = await shell.run(shellCommand(["sh", GUARD_SCRIPT_PATH, "restore", txid, "manual"]), { purpose: `restore ${txid}`, okExitCodes: "any" });
  if (r.code !== 0) throw new Error(`${shell.router}: restoring ${txid} failed: ${(r.stdout + r.stderr).trim()}`);
  return r.stdout.trim();
}

export interface SnapshotInfo {
  txid: string;
  description: string;
  /** "confirmed <epoch>", "restored <reason> <epoch>", or "" while pending. */
  result: string;
  /** Epoch seconds when a pending change is restored unless confirmed. */
  pendingUntil?: number;
}

export async function listSnapshots(shell: RouterShell): Promise<SnapshotInfo[]> {
  const r = await shell.run(`[ -f ${GUARD_SCRIPT_PATH} ] && sh ${GUARD_SCRIPT_PATH} list`, { purpose: "list guard snapshots", retry: "safe", okExitCodes: "any" });
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [txid, description, result, deadline] = line.split("|");
      return { txid, description, result, ...(deadline ? { pendingUntil: Number(deadline) } : {}) };
    });
}
