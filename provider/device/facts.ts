import { hwOffloadCapability, kernelAtLeast } from "./hardware";
import { flowtablesReferencedByRules, LiveFlowtable, parseFlowtablesText } from "./parse/nft";
import { parseConntrackCounts, parseDf, parseInstalledPackages, OverlaySpace } from "./parse/system";
import { optionList, optionString, parseUciChanges, parseUciShow, UciShowSection } from "./parse/uci";
import { parseProbe, probeScript, type ProbeResult } from "./probe";
import type { RouterShell } from "./shell";

export const OFFLOAD_PACKAGES = ["kmod-nft-offload", "kmod-nf-flow", "kmod-ipt-offload"] as const;
const OTHER_PACKAGES = ["sqm-scripts", "ethtool", "ethtool-full", "firewall4", "firewall"] as const;
const FLOW_MODULES = ["nf_flow_table", "nf_flow_table_inet", "nft_flow_offload", "xt_FLOWOFFLOAD"];

/**
 * Every installed package. opkg locks even its reads and gives up at once when another opkg runs
 * (an install, LuCI's package page, a second reader): a locked read is retried for a few seconds,
 * and one that still fails exits non-zero so it is never mistaken for "not installed".
 */
export const LIST_INSTALLED =
  "if command -v apk >/dev/null; then apk list --installed; exit; fi; n=0; " +
  'while out=$(opkg list-installed 2>&1); rc=$?; [ $rc -ne 0 ] && [ $n -lt 5 ] && case "$out" in *"Could not lock"*) true ;; *) false ;; esac; ' +
  'do n=$((n + 1)); sleep 1; done; printf "%s\n" "$out"; exit $rc';

/**
 * What one facts probe reads. Each section is plain OpenWrt tooling, so the same script works on
 * fw3 and fw4, opkg and apk images; a section that does not apply just fails and is ignored.
 */
export const FACT_SECTIONS = {
  board: "ubus -S call system board",
  release: "cat /etc/openwrt_release",
  uname: "uname -r",
  firewall: "if [ -x /sbin/fw4 ]; then echo fw4; elif [ -x /sbin/fw3 ]; then echo fw3; else echo none; fi",
  packageManager: "if command -v apk >/dev/null; then echo apk; else echo opkg; fi",
  packages: LIST_INSTALLED,
  firewallConfig: "uci show firewall",
  // uci replays staged changes on every read; a copy under another package name shows what is committed.
  firewallCommitted:
    "[ -s /tmp/.uci/firewall ] && d=/tmp/.offload-committed && mkdir -p $d && cp /etc/config/firewall $d/firewall_committed && uci -c $d show firewall_committed; rm -rf /tmp/.offload-committed",
  sqmConfig: "uci -q show sqm",
  staged: "uci changes",
  interfaces: "ubus -S call network.interface dump",
  devices: "ubus -S call network.device status",
  overlay: "df -Pk /overlay 2>/dev/null || df -Pk /",
  tables: "nft list tables",
  flowtables: "nft list flowtables",
  forwardRules: 'nft list chain inet fw4 forward | grep -E "flow (add|offload) @"',
  iptables: "iptables -S FORWARD",
  modules: `ls /sys/module | grep -xE "${FLOW_MODULES.join("|")}"`,
  conntrack:
    'grep -c "\\[OFFLOAD\\]" /proc/net/nf_conntrack; grep -c "\\[HW_OFFLOAD\\]" /proc/net/nf_conntrack; wc -l < /proc/net/nf_conntrack',
} as const;

export interface DeviceFact {
  name: string;
  devtype: string;
  hwTcOffload: boolean;
  bridgeMembers: string[];
}

export interface ZoneFact {
  name: string;
  networks: string[];
  /** Devices of the zone's networks as netifd reports them (what fw4 puts in its flowtable). */
  devices: string[];
}

export interface SqmFact {
  name: string;
  enabled: boolean;
  interface: string;
}

/** The three layers of offload state: what uci holds (committed: staged changes are in `stagedChanges`), and what the kernel runs. */
export interface OffloadState {
  config: {
    flowOffloading: boolean;
    flowOffloadingHw: boolean;
    /** Raw option values (absent = undefined), so a restore puts back exactly what was there. */
    raw: { flow_offloading?: string; flow_offloading_hw?: string };
  };
  runtime: {
    firewallRunning: boolean;
    flowtables: LiveFlowtable[];
    /** A forward rule sends flows to a flowtable (fw4) or the FLOWOFFLOAD target is in FORWARD (fw3). */
    offloadRule: boolean;
    /** Hardware offload is what the kernel runs: `flags offload` (fw4) or `--hw` (fw3). */
    hardware: boolean;
    /** Flowtables that fw4's forward chain sends flows to. */
    forwardTargets: string[];
    modules: string[];
  };
  conntrack: { offloaded: number; hwOffloaded: number; total: number };
}

export interface RouterFacts {
  hostname: string;
  model: string;
  boardName: string;
  release: { distribution: string; version: string; revision: string; target: string; description: string };
  target: string;
  kernel: string;
  /** Kernels older than 5.4 are risky for flow offloading. */
  kernelSupported: boolean;
  firewall: "fw3" | "fw4";
  packageManager: "opkg" | "apk";
  /** Installed offload-related packages and their versions. */
  packages: Record<string, string>;
  /** What the package manager listed as installed (parse with installedVersions). */
  packageList: string;
  /** Set when the installed packages could not be read (opkg stayed locked): nothing may then be judged missing. */
  packagesError?: string;
  hwOffloadCapable: boolean;
  hwOffloadReason: string;
  devices: DeviceFact[];
  zones: ZoneFact[];
  sqm: SqmFact[];
  overlay?: OverlaySpace;
  /** `uci changes` by package: someone else's staged work that a commit would sweep in. */
  stagedChanges: Record<string, string[]>;
  offload: OffloadState;
}

type Json = Record<string, unknown>;

export function factsFromProbe(probe: ProbeResult): RouterFacts {
  const board = jsonOr<Json>(probe.board.out, {});
  const releaseFile = parseShellAssignments(probe.release.out);
  const rel = (board.release ?? {}) as Record<string, string>;
  const release = {
    distribution: rel.distribution ?? releaseFile.DISTRIB_ID ?? "OpenWrt",
    version: rel.version ?? releaseFile.DISTRIB_RELEASE ?? "unknown",
    revision: rel.revision ?? releaseFile.DISTRIB_REVISION ?? "unknown",
    target: rel.target ?? releaseFile.DISTRIB_TARGET ?? "unknown",
    description: rel.description ?? releaseFile.DISTRIB_DESCRIPTION ?? "",
  };
  const kernel = (board.kernel as string | undefined) ?? probe.uname.out.trim();
  const firewall = probe.firewall.out.trim();
  if (firewall !== "fw3" && firewall !== "fw4") {
    throw new Error("neither firewall4 (/sbin/fw4) nor firewall3 (/sbin/fw3) is installed: flow offloading needs one of them");
  }
  const devices = deviceFacts(jsonOr<Json>(probe.devices.out, {}));
  const firewallSections = probe.firewallConfig.rc === 0 ? parseUciShow(probe.firewallConfig.out, "firewall") : [];
  const committedSections = probe.firewallCommitted.out.trim() ? parseUciShow(probe.firewallCommitted.out, "firewall_committed") : firewallSections;
  const capability = hwOffloadCapability(
    release.target,
    devices.filter((d) => d.hwTcOffload).map((d) => d.name),
  );
  return {
    hostname: (board.hostname as string | undefined) ?? "OpenWrt",
    model: (board.model as string | undefined) ?? "unknown",
    boardName: (board.board_name as string | undefined) ?? "unknown",
    release,
    target: release.target,
    kernel,
    kernelSupported: kernelAtLeast(kernel, 5, 4),
    firewall,
    packageManager: probe.packageManager.out.trim() === "apk" ? "apk" : "opkg",
    packages: parseInstalledPackages(probe.packages.out, [...OFFLOAD_PACKAGES, ...OTHER_PACKAGES]),
    packageList: probe.packages.out,
    ...(probe.packages.rc !== 0 ? { packagesError: `${probe.packageManager.out.trim()} failed (exit ${probe.packages.rc}): ${probe.packages.out.trim().slice(-300)}` } : {}),
    hwOffloadCapable: capability.capable,
    hwOffloadReason: capability.reason,
    devices,
    zones: zoneFacts(firewallSections, jsonOr<Json>(probe.interfaces.out, {})),
    sqm: probe.sqmConfig.rc === 0 ? sqmFacts(parseUciShow(probe.sqmConfig.out, "sqm")) : [],
    overlay: parseDf(probe.overlay.out),
    stagedChanges: parseUciChanges(probe.staged.out),
    offload: offloadState(probe, firewall, committedSections),
  };
}

function offloadState(probe: ProbeResult, firewall: "fw3" | "fw4", sections: UciShowSection[]): OffloadState {
  const defaults = sections.find((s) => s.type === "defaults");
  const raw = {
    flow_offloading: optionString(defaults, "flow_offloading"),
    flow_offloading_hw: optionString(defaults, "flow_offloading_hw"),
  };
  const flowtables = probe.flowtables.rc === 0 ? parseFlowtablesText(probe.flowtables.out) : [];
  const referenced = new Set(flowtablesReferencedByRules(probe.forwardRules.out));
  const fw3Rule = probe.iptables.out.split("\n").find((l) => l.includes("-j FLOWOFFLOAD"));
  // fw4's own offloading is its flowtable `ft`; a Flowtable of the user's (with its own forward rule) is not it.
  const fw4Table = flowtables.find((ft) => ft.family === "inet" && ft.table === "fw4" && ft.name === "ft" && referenced.has(ft.name));
  return {
    config: {
      flowOffloading: isTrue(raw.flow_offloading, firewall),
      flowOffloadingHw: isTrue(raw.flow_offloading_hw, firewall),
      raw,
    },
    runtime: {
      firewallRunning: firewall === "fw4" ? /table inet fw4\b/.test(probe.tables.out) : probe.iptables.out.includes("!fw3"),
      flowtables,
      offloadRule: firewall === "fw4" ? fw4Table !== undefined : fw3Rule !== undefined,
      hardware: firewall === "fw4" ? fw4Table?.hwOffload === true : fw3Rule?.includes("--hw") === true,
      forwardTargets: [...referenced],
      modules: probe.modules.out.split("\n").filter(Boolean),
    },
    conntrack: parseConntrackCounts(probe.conntrack.out),
  };
}

/** fw4 accepts 1/on/true/yes; fw3 only 1/yes/true (openwrt-behaviour.md §2.1). */
function isTrue(value: string | undefined, firewall: "fw3" | "fw4"): boolean {
  if (value === undefined) return false;
  return (firewall === "fw4" ? ["1", "on", "true", "yes"] : ["1", "yes", "true"]).includes(value);
}

function deviceFacts(status: Json): DeviceFact[] {
  return Object.entries(status)
    .filter(([name]) => name !== "lo")
    .map(([name, raw]) => {
      const d = raw as Json;
      return {
        name,
        devtype: (d.devtype as string | undefined) ?? (d.type as string | undefined) ?? "unknown",
        hwTcOffload: d["hw-tc-offload"] === true,
        bridgeMembers: (d["bridge-members"] as string[] | undefined) ?? [],
      };
    });
}

function zoneFacts(sections: UciShowSection[], dump: Json): ZoneFact[] {
  const interfaces = ((dump.interface as Json[] | undefined) ?? []).map((i) => ({
    name: i.interface as string,
    device: (i.device as string | undefined) ?? (i.l3_device as string | undefined),
  }));
  return sections
    .filter((s) => s.type === "zone" && optionString(s, "enabled") !== "0")
    .map((zone) => {
      const networks = optionList(zone, "network");
      const devices = networks.flatMap((n) => interfaces.filter((i) => i.name === n && i.device).map((i) => i.device!));
      return { name: optionString(zone, "name") ?? zone.ref, networks, devices: [...new Set(devices)].sort() };
    });
}

function sqmFacts(sections: UciShowSection[]): SqmFact[] {
  return sections
    .filter((s) => s.type === "queue")
    .map((q) => ({ name: q.ref, enabled: optionString(q, "enabled") === "1", interface: optionString(q, "interface") ?? "" }));
}

function jsonOr<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** `KEY='value'` lines of a shell-sourceable file such as /etc/openwrt_release. */
function parseShellAssignments(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^([A-Z_]+)='(.*)'$/);
    if (m) out[m[1]] = m[2].replace(/'\\''/g, "'");
  }
  return out;
}

/** Versions of the named packages among what the router listed as installed. */
export function installedVersions(facts: RouterFacts, names: readonly string[]): Record<string, string> {
  return parseInstalledPackages(facts.packageList, names);
}

/** The installed packages could not be read: say so rather than call anything missing. */
export class PackagesUnreadableError extends Error {
  constructor(router: string, detail: string) {
    super(`${router}: could not read the installed packages (${detail}); nothing was changed. Another package operation may be running: run again in a moment.`);
    this.name = "PackagesUnreadableError";
  }
}

/** Reads every fact in one exec (a read: retried once on a dropped connection). */
export async function readFacts(shell: RouterShell): Promise<RouterFacts> {
  return (await readFactsWith(shell, {})).facts;
}

/**
 * The facts plus a resource's own sections (its files, its packages), still in one exec, so that
 * reading any resource costs one round trip.
 */
export async function readFactsWith(shell: RouterShell, extra: Record<string, string>): Promise<{ facts: RouterFacts; extra: ProbeResult }> {
  const clash = Object.keys(extra).find((name) => name in FACT_SECTIONS);
  if (clash) throw new Error(`probe section ${clash} is already a fact section`);
  const sections = { ...FACT_SECTIONS, ...extra };
  const result = await shell.run(probeScript(sections), { purpose: "read router facts", retry: "safe" });
  const probe = parseProbe(result.stdout, Object.keys(sections));
  return { facts: factsFromProbe(probe), extra: Object.fromEntries(Object.keys(extra).map((k) => [k, probe[k]])) };
}
