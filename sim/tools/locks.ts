import type { RouterHandle, ToolContext } from "../types";

/**
 * Exclusive, non-blocking file locks as opkg (lockf F_TLOCK on /var/lock/opkg.lock) and apk (on
 * /lib/apk/db/lock) take them. The programs run in the simulator process, so the lock table lives
 * here, per router; the lock file is still created on the router, as the real tools leave it.
 *
 * A lock is held for at least `holdMs`: the emulators finish in microseconds, a router's package
 * manager takes a good part of a second to load its database, and a second caller that arrives
 * meanwhile must see the lock as it would on a router.
 */
const held = new WeakMap<RouterHandle, Set<string>>();

export async function withExclusiveLock<T>(
  ctx: ToolContext,
  lockPath: string,
  holdMs: number,
  work: () => T,
): Promise<{ locked: true; value: T } | { locked: false }> {
  let locks = held.get(ctx.router);
  if (!locks) held.set(ctx.router, (locks = new Set()));
  if (locks.has(lockPath)) return { locked: false };
  locks.add(lockPath);
  try {
    ctx.fs.mkdirp(lockPath.replace(/\/[^/]*$/, ""));
    if (!ctx.fs.exists(lockPath)) ctx.fs.writeAtomic(lockPath, "");
    const started = Date.now();
    const value = work();
    const left = holdMs - (Date.now() - started);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    return { locked: true, value };
  } finally {
    locks.delete(lockPath);
  }
}
