/** Parsers for `nft list` output (openwrt-behaviour.md §2.4). */

export interface LiveFlowtable {
  family: string;
  table: string;
  name: string;
  hook?: string;
  priority?: string;
  devices: string[];
  /** `flags offload`: only the text listing shows it (nft ≤ 1.0.x JSON has no flags). */
  hwOffload: boolean;
  counter: boolean;
}

/** `nft list flowtables` / `nft list ruleset` text. */
export function parseFlowtablesText(text: string): LiveFlowtable[] {
  const flowtables: LiveFlowtable[] = [];
  let table: { family: string; name: string } | undefined;
  let current: LiveFlowtable | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^table (\S+) (\S+) \{$/))) {
      table = { family: m[1], name: m[2] };
    } else if ((m = line.match(/^flowtable (\S+) \{$/)) && table) {
      current = { family: table.family, table: table.name, name: m[1], devices: [], hwOffload: false, counter: false };
      flowtables.push(current);
    } else if (current && (m = line.match(/^hook (\S+) priority (.+?);?$/))) {
      current.hook = m[1];
      current.priority = m[2];
    } else if (current && (m = line.match(/^devices = \{ (.*) \};?$/))) {
      current.devices = m[1].split(",").map((d) => d.trim().replace(/^"|"$/g, ""));
    } else if (current && /^flags .*\boffload\b/.test(line)) {
      current.hwOffload = true;
    } else if (current && /^counter;?$/.test(line)) {
      current.counter = true;
    } else if (line === "}") {
      if (current) current = undefined;
      else table = undefined;
    }
  }
  return flowtables;
}

/** `nft -j list flowtables`: `dev` is a string for one device and an array otherwise. */
export function parseFlowtablesJson(text: string): Omit<LiveFlowtable, "hwOffload" | "counter">[] {
  const doc = JSON.parse(text) as { nftables?: Record<string, unknown>[] };
  return (doc.nftables ?? []).flatMap((entry) => {
    const ft = entry.flowtable as
      | { family: string; table: string; name: string; hook?: string; prio?: number; dev?: string | string[] }
      | undefined;
    if (!ft) return [];
    const devices = ft.dev === undefined ? [] : Array.isArray(ft.dev) ? ft.dev : [ft.dev];
    return [{ family: ft.family, table: ft.table, name: ft.name, hook: ft.hook, priority: ft.prio?.toString(), devices }];
  });
}

/** Flowtable names that a listed rule sends flows to (`flow add @ft`; fw4's input spells it `flow offload @ft`). */
export function flowtablesReferencedByRules(text: string): string[] {
  return [...text.matchAll(/\bflow (?:add|offload) @(\S+?);?(?:\s|$)/g)].map((m) => m[1]);
}
