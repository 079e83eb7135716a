import { readFacts, type RouterFacts } from "./facts";
import { planOffload, runtimeMismatches, type OffloadIntent } from "./offload";
import type { RouterShell } from "./shell";
import { commitScript, validateUciChanges } from "./uci";

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

/** Shell that reloads the firewall from its committed config (fw3 or fw4; the init script knows which). */
export const RELOAD_FIREWALL = "/etc/init.d/firewall reload";

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
  const changes = planOffload(facts, intent);
  if (changes.length === 0) return { changed: false, facts };
  refuseFullOverlay(shell.router, facts, minFreeKiB);
  await validateUciChanges(shell, "firewall", changes, { fw4Check: facts.firewall === "fw4" });
  await shell.run(`${commitScript("firewall", changes)}\n${RELOAD_FIREWALL}`, { purpose: "commit firewall defaults and reload the firewall" });
  const after = await readFacts(shell);
  const problems = runtimeMismatches(after, intent);
  if (problems.length > 0) throw new RuntimeVerificationError(shell.router, problems);
  return { changed: true, facts: after };
}
