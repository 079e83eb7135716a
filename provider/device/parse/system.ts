/** Parsers for busybox and opkg/apk output (openwrt-behaviour.md §3). */

export interface OverlaySpace {
  mount: string;
  totalKiB: number;
  usedKiB: number;
  availKiB: number;
}

/** `df -Pk PATH`: header, then `device 1K-blocks used available use% mountpoint`. */
export function parseDf(text: string): OverlaySpace | undefined {
  const row = text
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .find((cols) => cols.length >= 6);
  if (!row) return undefined;
  const [, total, used, avail] = row;
  return { mount: row[5], totalKiB: Number(total), usedKiB: Number(used), availKiB: Number(avail) };
}

/**
 * Installed packages with versions. opkg prints `name - version`; apk prints
 * `name-version-rN arch {origin} (license) [installed]`, where only the known name tells where the
 * version starts.
 */
export function parseInstalledPackages(text: string, wanted: readonly string[]): Record<string, string> {
  const found: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const opkg = line.match(/^(\S+) - (\S+)/);
    if (opkg && wanted.includes(opkg[1])) {
      found[opkg[1]] = opkg[2];
      continue;
    }
    const word = line.split(" ")[0];
    for (const name of wanted) {
      if (word.startsWith(`${name}-`) && /^\d/.test(word.slice(name.length + 1))) found[name] = word.slice(name.length + 1);
    }
  }
  return found;
}

/** Counts of `[OFFLOAD]` and `[HW_OFFLOAD]` entries and all entries, as the probe prints them. */
export function parseConntrackCounts(text: string): { offloaded: number; hwOffloaded: number; total: number } {
  const [offloaded, hwOffloaded, total] = text.split("\n").map((n) => Number(n.trim()) || 0);
  return { offloaded: offloaded ?? 0, hwOffloaded: hwOffloaded ?? 0, total: total ?? 0 };
}
