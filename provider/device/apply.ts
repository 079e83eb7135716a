import { touchedPackages, type ChangeSet } from "./changeset";
import type { RouterFacts } from "./facts";
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

export function refuseFullOverlay(router: string, facts: RouterFacts, minFreeKiB: number): void {
  if (facts.overlay && facts.overlay.availKiB < minFreeKiB) throw new OverlayFullError(router, facts.overlay.availKiB, minFreeKiB);
}

/**
 * Someone's staged (uncommitted) uci changes to a package this change commits, or to the firewall
 * when it reloads it, would be made live with it: refused before anything happens. The router
 * checks again under its lock; this is the early, read-only answer.
 */
export function refuseForeignChanges(router: string, facts: RouterFacts, cs: ChangeSet): void {
  for (const pkg of touchedPackages(cs)) {
    const staged = facts.stagedChanges[pkg] ?? [];
    if (staged.length > 0) throw new ForeignChangesError(router, pkg, staged);
  }
}
