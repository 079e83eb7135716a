import * as fs from "fs";
import * as os from "os";
import * as path from "path";

interface Owner {
  pid: number;
  host: string;
  since: number;
}

const POLL_MS = 200;
/** Longer than any provisioning (a cold build takes about a minute): past it, a holder is taken as hung. */
const STALE_AFTER_MS = 60 * 60 * 1000;
const GIVE_UP_AFTER_MS = 30 * 60 * 1000;

/**
 * Runs `fn` holding a lock that other processes (jest workers, a CLI next to a test run) respect:
 * a directory, since mkdir is atomic on every filesystem. A lock whose holder died (same host, no
 * such pid) or that is older than any provisioning is broken, so a killed build never wedges the cache.
 * Synchronous, like its caller: waiting blocks the thread, which has nothing else to do meanwhile.
 */
export function withCacheLock<T>(lockDir: string, fn: () => T): T {
  const me: Owner = { pid: process.pid, host: os.hostname(), since: Date.now() };
  const started = Date.now();
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = readOwner(lockDir);
    if (owner && isStale(owner)) {
      breakLock(lockDir, owner);
      continue;
    }
    if (Date.now() - started > GIVE_UP_AFTER_MS) {
      throw new Error(`waited ${GIVE_UP_AFTER_MS / 60000} min for ${lockDir} (held by ${owner ? `pid ${owner.pid} on ${owner.host}` : "an unknown process"}); remove it if no build is running`);
    }
    sleepSync(POLL_MS);
  }
  try {
    fs.writeFileSync(path.join(lockDir, "owner"), JSON.stringify(me));
    return fn();
  } finally {
    // Only our own: if a peer wrongly broke this lock and took it, its lock is not ours to drop.
    if (sameOwner(readOwner(lockDir), me)) fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function readOwner(lockDir: string): Owner | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(lockDir, "owner"), "utf8")) as Owner;
  } catch {
    // Just created, owner not written yet; or a holder killed in between: age tells.
    try {
      const age = Date.now() - fs.statSync(lockDir).mtimeMs;
      return age > STALE_AFTER_MS ? { pid: -1, host: "", since: 0 } : undefined;
    } catch {
      return undefined;
    }
  }
}

function isStale(owner: Owner): boolean {
  if (Date.now() - owner.since > STALE_AFTER_MS) return true;
  if (owner.host !== os.hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Moves the stale lock aside before removing it: of two processes that both saw it stale, only
 * one rename succeeds, and the other cannot remove a lock taken afresh in the meantime.
 */
function breakLock(lockDir: string, stale: Owner): void {
  const aside = `${lockDir}.stale-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(lockDir, aside);
  } catch {
    return;
  }
  if (!sameOwner(readOwner(aside), stale)) {
    // A live lock was taken between our read and the rename: put it back.
    try {
      fs.renameSync(aside, lockDir);
      return;
    } catch {
      // Someone holds lockDir already; the holder we displaced will not remove it (owner differs).
    }
  }
  fs.rmSync(aside, { recursive: true, force: true });
}

function sameOwner(a: Owner | undefined, b: Owner): boolean {
  return a !== undefined && a.pid === b.pid && a.host === b.host && a.since === b.since;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
