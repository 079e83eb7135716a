import { touchedPackages, type ChangeSet } from "./changeset";
import type { RouterFacts } from "./facts";
import type { Refusal } from "./preflight";
import { ForeignChangesError } from "./uci";

/** uci commit rewrites whole files and, on a full overlay, can truncate them (openwrt-behaviour.md §1.7). */
export const DEFAULT_MIN_FREE_KIB = 64;

export class OverlayFullError extends Error {
  constructor(router: string, availKiB: number, minFreeKiB: number) {
    super(
      `${router}: only ${availKiB} KiB free on the overlay, below the ${minFreeKiB} KiB safety margin; a uci commit on a ` +
        `full overlay can truncate the config. Nothing was changed. Free some flash (e.g. remove unused packages) or ` +
        `lower minFreeKiB if you are sure.`,
    );
    this.name = "OverlayFullError";
  }
}

function fullOverlay(router: string, facts: RouterFacts, minFreeKiB: number): OverlayFullError | undefined {
  return facts.overlay && facts.overlay.availKiB < minFreeKiB ? new OverlayFullError(router, facts.overlay.availKiB, minFreeKiB) : undefined;
}

/**
 * Someone's staged (uncommitted) uci changes to a package this change commits, or to the firewall
 * when it reloads it, would be made live with it. The router checks again under its lock; this is
 * the early, read-only answer.
 */
function foreignChanges(router: string, facts: RouterFacts, cs: ChangeSet): ForeignChangesError | undefined {
  for (const pkg of touchedPackages(cs)) {
    const staged = facts.stagedChanges[pkg] ?? [];
    if (staged.length > 0) return new ForeignChangesError(router, pkg, staged);
  }
  return undefined;
}

/** What refuses a write of `cs` whatever it is: a nearly full overlay, someone's staged changes it would sweep in. */
export function writeRefusals(router: string, facts: RouterFacts, cs: ChangeSet, minFreeKiB: number): Refusal[] {
  const errors = [fullOverlay(router, facts, minFreeKiB), foreignChanges(router, facts, cs)].filter((e) => e !== undefined);
  return errors.map((e) => ({ property: e instanceof OverlayFullError ? "minFreeKiB" : "", message: e.message }));
}

/** The same refusals, thrown as their own errors at write time. */
export function refuseWrite(router: string, facts: RouterFacts, cs: ChangeSet, minFreeKiB: number): void {
  const error = fullOverlay(router, facts, minFreeKiB) ?? foreignChanges(router, facts, cs);
  if (error) throw error;
}
