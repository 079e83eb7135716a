import { factSections, packagesLocked, runProbe, type FactSection } from "../device/facts";
import type { ChangeSet } from "../device/changeset";
import { Probe, type ProbeResult, type SectionSpec } from "../device/probe";
import type { RouterShell } from "../device/shell";
import { FirewallCheckError, ForeignChangesError, StagingVerificationError } from "../device/uci";
import { getPool, TransportError, type ConnectionOptions } from "../transport";
import { GuardBusyError, GuardError } from "./errors";
import { withRouterLock } from "./lock";
import { answerScript, beginScript, newTxid, parseBegin, parseStatus, statusSection, type Answer, type Transaction, type TxStatus } from "./transaction";

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

/** Resource-specific proof that the kernel runs what was asked, from the sections it reads: one sentence per failed check. */
export type Verify = (read: ProbeResult) => string[];

export interface GuardedChange {
  /** What the change does, for the snapshot list and messages ("FirewallDefaults: hardware offload"). */
  description: string;
  /** What the router holds before it, in the same words ("software offload"): what a restore puts back. */
  restores: string;
  /** What the change is about, so drift can tell the guard's and operators' restores from other edits: "firewallDefaults", "flowtable:NAME", … */
  subject: string;
  /** What it puts in place, in the words of `restores` ("hardware offload"). */
  sets: string;
  changes: ChangeSet;
  /** Packages this change installs: a restore removes them again. */
  installsPackages?: string[];
  /**
   * Packages this change removes. A half-removed package cannot be put back without its feed (at
   * boot there is no network), so such a change only rolls forward: a restore finishes the removal.
   */
  removesPackages?: string[];
  /** The fact sections the verification reads; only they are read, and the caller gets them back. */
  reads: readonly FactSection[];
  verify: Verify;
  /** What was checked, for the error message (e.g. "flowtable ft live with flags offload"). */
  checks: string[];
}

/** After a lost link or a reboot, how long past the deadline the client keeps asking the router what happened. */
const SETTLE_GRACE_MS = 30_000;
const RETRY_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Applies a change inside a guard window (DESIGN §5): the router takes its lock, snapshots, arms a
 * timer and its boot hook and syncs, applies (restoring at once if that fails), then the client
 * verifies over a fresh connection (runtime, health checks, optional soak) and confirms — or
 * restores and fails with what was checked and what failed. Whatever happens to the link or the
 * router meanwhile, the client drives the transaction to its end or learns from the router's own
 * record how it ended before it reports. Returns the sections `change.reads` as the last
 * verification read them.
 */
export async function guardedApply(
  shell: RouterShell,
  options: ConnectionOptions,
  change: GuardedChange,
  guard: GuardOptions,
  { firewall }: { firewall: "fw3" | "fw4" },
): Promise<ProbeResult> {
  return withRouterLock(options.router, async () => {
    const tx: Transaction = {
      txid: newTxid(),
      description: change.description,
      restores: change.restores,
      subject: change.subject,
      sets: change.sets,
      changes: change.changes,
      installsPackages: change.installsPackages ?? [],
      removesPackages: change.removesPackages ?? [],
      firewall,
      confirmTimeoutSeconds: guard.enabled ? guard.confirmTimeoutSeconds : undefined,
    };
    const window = new Window(shell, options, change, guard, tx.txid);
    let begin: { stdout: string; stderr: string };
    try {
      begin = await shell.run(beginScript(tx), { purpose: `${change.description} (${guard.enabled ? "guarded" : "unguarded"}, ${tx.txid})`, okExitCodes: "any" });
    } catch (err) {
      if (!(err instanceof TransportError) || !guard.enabled) throw err;
      return window.settle(`the link was lost while applying (${err.message})`);
    }
    const outcome = parseBegin(begin.stdout, begin.stderr);
    const router = shell.router;
    switch (outcome?.kind) {
      case "applied":
        return guard.enabled ? window.settle(undefined, outcome.output) : verifyUnguarded(shell, change);
      case "busy":
        throw new GuardBusyError(router, outcome.other, outcome.deadline, outcome.description);
      case "foreign":
        throw new ForeignChangesError(router, outcome.pkg, outcome.lines);
      case "not-armed":
        throw new GuardError(`${router}: ${change.description} was not applied: the guard could not be armed (${outcome.detail}). Nothing was changed.`, tx.txid, true);
      case "failed": {
        const restored = begin.stdout.includes(`restored ${tx.txid}`);
        if (outcome.staging) throw new StagingVerificationError(router, outcome.staging.split(" ")[0], outcome.staging);
        if (outcome.check !== undefined) throw new FirewallCheckError(router, outcome.check);
        if (outcome.foreignPkg) {
          throw new ForeignChangesError(router, outcome.foreignPkg, outcome.detail.split("\n").filter((l) => l.startsWith(`${outcome.foreignPkg}.`)));
        }
        const back = !guard.enabled ? "nothing restores it (unguarded)" : restored ? `it was restored to ${change.restores} at once` : `restoring it reported: ${outcome.detail.slice(-300)}`;
        throw new GuardError(
          `${router}: applying ${change.description} failed on the router (exit ${outcome.exit}): ${outcome.detail.slice(-600) || "no output"}; ${back} (transaction ${tx.txid}).`,
          tx.txid,
          restored,
        );
      }
      default:
        if (!guard.enabled) throw new Error(`${router}: ${change.description}: the router's answer was not understood: ${(begin.stdout + begin.stderr).slice(-400)}`);
        return window.settle("the router's answer to the apply was not understood");
    }
  });
}

/**
 * What the client does with one verification, decided from what it read: the answer it sends the
 * router in the same exec (confirm, restore, abort, or nothing), and what comes next.
 */
type Step =
  | { next: "ended"; status: TxStatus }
  | { next: "wait" }
  | { next: "retry"; answer: Answer }
  | { next: "restored"; problems: string[] }
  | { next: "soak" }
  | { next: "confirmed" }
  | { next: "stray"; phase: string };

const answerOf = (step: Step): Answer =>
  step.next === "restored" ? "restore" : step.next === "confirmed" ? "confirm" : step.next === "retry" ? step.answer : "";

/** The client's side of one open guard window, from the apply to its end. */
class Window {
  /** What the router's tools said while applying (fw4's warnings, nft's errors): part of any failure message. */
  private applyOutput = "";
  /** What the router's restore said went wrong (one problem a line); empty when it put everything back. */
  private restoreReport = "";

  constructor(
    private readonly shell: RouterShell,
    private readonly options: ConnectionOptions,
    private readonly change: GuardedChange,
    private readonly guard: GuardOptions,
    private readonly txid: string,
  ) {}

  /**
   * Drives the transaction to a final state and returns what its last verification read. Each
   * round is one exec over a fresh connection (what is verified is that the router can still be
   * reached, not an old session): the router prints the verification's sections and the
   * transaction's status, the client judges them and answers in the same exec — confirm, restore
   * or nothing (a soak, a running script) — and the router acts on the answer. Any transport
   * failure on the way (a lost link, a reboot) only sends it round again: the router's status says
   * what happened meanwhile.
   */
  async settle(interruption?: string, applyOutput = ""): Promise<ProbeResult> {
    this.applyOutput = applyOutput;
    const { shell, change, guard, txid } = this;
    let giveUpAt = Date.now() + guard.confirmTimeoutSeconds * 1000 + SETTLE_GRACE_MS;
    let soaked = guard.soakSeconds === 0;
    let failure: string[] | undefined;
    let cause = interruption;
    while (Date.now() < giveUpAt) {
      try {
        await getPool().connect(this.options, { fresh: true });
        const health: Record<string, SectionSpec> = Object.fromEntries(guard.healthChecks.map((h, i) => [`health${i}`, { body: h.command, isolated: true }]));
        const probe = new Probe({ ...factSections(change.reads), ...health, guardStatus: statusSection(txid) });
        let judged: { read: ProbeResult; status: TxStatus; step: Step } | undefined;
        const result = await shell.run(probe.script(answerScript(txid, guard)), {
          purpose: `verify ${change.description} (${txid})`,
          okExitCodes: "any",
          respond: (stdout) => {
            if (probe.endOf(stdout) < 0) return undefined;
            const { results } = probe.parse(stdout);
            const status = parseStatus(results.guardStatus.out);
            if (!status) throw new Error(`${shell.router}: the guard's status of ${txid} is unreadable: ${results.guardStatus.out.slice(0, 200)}`);
            judged = { read: results, status, step: this.judge(results, status, soaked) };
            return `${answerOf(judged.step)}\n`;
          },
        });
        if (!judged) throw new Error(`${shell.router}: the verification of ${txid} ended before it was read: ${(result.stdout + result.stderr).slice(-300)}`);
        const { read, status, step } = judged;
        if (status.deadline) giveUpAt = Date.now() + (status.deadline - status.now) * 1000 + SETTLE_GRACE_MS;
        switch (step.next) {
          case "ended":
            return this.ended(step.status, read, failure, cause);
          case "wait":
            await sleep(RETRY_MS);
            break;
          case "retry":
            break;
          case "stray":
            throw new GuardError(`${shell.router}: transaction ${txid} of ${change.description} is in phase ${step.phase} without holding the router; check it with \`openwrt-offload snapshots\`.`, txid, false);
          case "restored":
            failure = soaked && guard.soakSeconds > 0 ? step.problems.map((p) => `after ${guard.soakSeconds} s of soak: ${p}`) : step.problems;
            // The restore ran in this exec, after the sections: what it printed there is what it could not put back.
            this.restoreReport = result.stdout.slice(Math.max(0, probe.endOf(result.stdout))).split("\n").filter((l) => l.trim() && !l.startsWith("restored ")).join("\n");
            break;
          case "soak":
            soaked = true;
            await sleep(guard.soakSeconds * 1000);
            break;
          case "confirmed":
            if (result.code === 0) return read;
            // The deadline beat the confirmation: read what the router did.
            cause ??= "the confirmation came after the deadline";
            break;
        }
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        cause ??= `the router stopped answering (${err.message})`;
        await sleep(RETRY_MS);
      }
    }
    throw new GuardError(
      `${shell.router}: the router stopped answering after ${change.description} (${cause ?? "no answer"}) and still does not answer; ` +
        `the change was not confirmed, so the router restores ${change.restores} by itself when its window ends or at its next boot ` +
        `(transaction ${txid}). Check it with \`openwrt-offload snapshots\` once it is back.`,
      txid,
      false,
    );
  }

  /** What the router's record and the verification's reading call for. */
  private judge(read: ProbeResult, status: TxStatus, soaked: boolean): Step {
    const { change, guard } = this;
    if (status.result) return { next: "ended", status };
    if (status.running) return { next: "wait" };
    if (!status.owner) {
      // Never locked, or the lock lost in a crash before anything was synced: nothing was applied.
      if (!status.phase || status.phase === "locked") return { next: "ended", status: { ...status, result: "aborted lost-before-armed" } };
      return { next: "stray", phase: status.phase };
    }
    // Taken but never armed, and nobody is working on it any more: nothing was applied.
    if (status.phase !== "applying") return { next: "retry", answer: "abort" };
    // The package manager was busy: nothing can be judged from this reading; the next one may do.
    if (change.reads.includes("packages") && packagesLocked(read)) return { next: "wait" };
    const problems = change.verify(read);
    guard.healthChecks.forEach((h, i) => {
      const r = read[`health${i}`];
      if (r.rc !== 0) problems.push(`health check "${h.name}" failed (exit ${r.rc}${r.out ? `: ${r.out.trim().slice(-200)}` : ""})`);
    });
    if (problems.length > 0) return { next: "restored", problems };
    return soaked ? { next: "confirmed" } : { next: "soak" };
  }

  /** The transaction has a result: confirmed is success; anything else says what the router holds now, and why. */
  private ended(status: TxStatus, read: ProbeResult, failure: string[] | undefined, cause: string | undefined): ProbeResult {
    const { shell, change, guard, txid } = this;
    const [what, reason, epoch] = status.result.split(" ");
    if (what === "confirmed") return read;
    if (what === "completed") {
      // Rolled forward (a removal finished by the router): done, if the router shows it.
      const problems = change.verify(read);
      if (problems.length === 0) return read;
      throw new GuardError(
        `${shell.router}: ${change.description} was finished by the router (${reason}${cause ? ` after ${cause}` : ""}) but it still does not verify: ${problems.join("; ")} (transaction ${txid}). Run it again.`,
        txid,
        false,
      );
    }
    const at = Number(epoch) ? ` at ${new Date(Number(epoch) * 1000).toISOString()}` : "";
    const holds = `the router holds ${change.restores} again`;
    let message: string;
    if (what === "aborted") {
      message = `${change.description} was not applied (${reason}${cause ? `: ${cause}` : ""}); nothing was changed`;
    } else if (reason === "verify-failed" && failure) {
      message =
        `${change.description} was applied but did not pass verification, so it was restored${at}: ` +
        (this.restoreReport ? `${holds}, but the restore reported: ${this.restoreReport.split("\n").join("; ")}. ` : `${holds} (files verified identical to the snapshot). `) +
        `Checked: ${change.checks.concat(guard.healthChecks.map((h) => `health check "${h.name}"`)).join("; ")}. Failed: ${failure.join("; ")}.` +
        (this.applyOutput ? ` While applying, the router said: ${this.applyOutput.slice(-400)}` : "");
    } else if (reason === "boot") {
      message = `${change.description} did not survive: the router rebooted during the guard window${cause ? ` (${cause})` : ""} and its boot hook restored the previous config before the firewall started: ${holds}`;
    } else if (reason === "timeout") {
      message = `${change.description} was not confirmed in time${cause ? ` (${cause})` : ""}; the router's timer restored the previous config${at}: ${holds}`;
    } else {
      message = `${change.description} was restored (${reason})${at}${cause ? ` after ${cause}` : ""}: ${holds}`;
    }
    throw new GuardError(`${shell.router}: ${message} (transaction ${txid}).`, txid, true);
  }
}

/** Without a guard, verification still runs; a failure is reported as is (nothing restores it). */
async function verifyUnguarded(shell: RouterShell, change: GuardedChange): Promise<ProbeResult> {
  const read = await runProbe(shell.run, factSections(change.reads), `verify ${change.description}`);
  const problems = change.verify(read);
  if (problems.length > 0) {
    throw new Error(`${shell.router}: ${change.description} was applied without a guard and does not verify: ${problems.join("; ")}. Nothing restores it.`);
  }
  return read;
}
