import { changeSetScript, emptyChangeSet, isEmpty, validateChangeSet, type ChangeSet } from "./changeset";
import { readFacts, type RouterFacts } from "./facts";
import { planOffload, runtimeMismatches, type OffloadIntent } from "./offload";
import type { RouterShell } from "./shell";

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

export class RuntimeVerificationError extends Error {
  constructor(
    router: string,
    readonly problems: string[],
  ) {
    super(`${router}: the config was committed and the firewall reloaded, but the kernel does not match: ${problems.join("; ")}`);
    this.name = "RuntimeVerificationError";
  }
}

export function refuseFullOverlay(router: string, facts: RouterFacts, minFreeKiB: number): void {
  if (facts.overlay && facts.overlay.availKiB < minFreeKiB) throw new OverlayFullError(router, facts.overlay.availKiB, minFreeKiB);
}

/**
 * Applies a change set without a guard: refuses on a full overlay, validates (uci staging and
 * `fw4 check`, leaving nothing behind), then commits, writes and reloads in one exec.
 */
export async function applyChangeSet(shell: RouterShell, facts: RouterFacts, cs: ChangeSet, purpose: string, minFreeKiB: number): Promise<void> {
  refuseFullOverlay(shell.router, facts, minFreeKiB);
  await validateChangeSet(shell, cs, { fw4: facts.firewall === "fw4" });
  await shell.run(changeSetScript(cs), { purpose });
}

/**
 * Brings the firewall defaults to `intent` without a guard: read (1 exec), and only when something
 * differs, validate (1 exec), commit + reload (1 exec) and read back the kernel (1 exec).
 */
export async function applyOffload(
  shell: RouterShell,
  intent: OffloadIntent,
  { minFreeKiB = DEFAULT_MIN_FREE_KIB }: { minFreeKiB?: number } = {},
): Promise<{ changed: boolean; facts: RouterFacts }> {
  const facts = await readFacts(shell);
  const cs: ChangeSet = { ...emptyChangeSet(), uci: [{ pkg: "firewall", changes: planOffload(facts, intent) }], reloadFirewall: true };
  if (isEmpty(cs)) return { changed: false, facts };
  await applyChangeSet(shell, facts, cs, "commit firewall defaults and reload the firewall", minFreeKiB);
  const after = await readFacts(shell);
  const problems = runtimeMismatches(after, intent);
  if (problems.length > 0) throw new RuntimeVerificationError(shell.router, problems);
  return { changed: true, facts: after };
}
