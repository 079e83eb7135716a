import { hwOffloadCapability, kernelAtLeast } from "./hardware";
import type { LiveOffload } from "./offload";
import { flowtablesReferencedByRules, LiveFlowtable, parseFlowtablesText } from "./parse/nft";
import { parseConntrackCounts, parseDf, parseInstalledPackages, OverlaySpace } from "./parse/system";
import { optionList, optionString, parseUciChanges, parseUciShow, UciShowSection } from "./parse/uci";
import { GUARD_RECORDS_PROBE, parseGuardRecords, type GuardRecord } from "../guard/records";
import { Probe, type ProbeResult, type SectionResult } from "./probe";
import type { RouterShell } from "./shell";

export const OFFLOAD_PACKAGES = ["kmod-nft-offload", "kmod-nf-flow", "kmod-ipt-offload"] as const;
const OTHER_PACKAGES = ["sqm-scripts", "ethtool", "ethtool-full", "firewall4", "firewall"] as const;
const FLOW_MODULES = ["nf_flow_table", "nf_flow_table_inet", "nft_flow_offload", "xt_FLOWOFFLOAD"];
/** firewall4's own flowtable, which its flow_offloading options control. */
export const FW4_FLOWTABLE = "ft";

/**
 * Files this library writes on routers: Flowtable's include files and DeviceOffload's boot scripts
 * (their paths are built in provider/resources; a unit test keeps them inside these patterns). Every
 * probe reads them all, by shell builtins, so that one probe serves every resource of a router.
 */
export const MANAGED_FILES = ["/etc/nftables.d/60-offload-*.nft", "/usr/share/nftables.d/chain-pre/forward/60-offload-*.nft", "/etc/init.d/offload-hwtc-*"] as const;

/** opkg locks even its reads and gives up at once when another opkg runs (an install, LuCI's package page). */
const PACKAGES_LOCKED = /Could not lock/;
const PACKAGES_ATTEMPTS = 6;
const PACKAGES_RETRY_MS = 1000;

/**
 * What one facts probe reads. Each section is plain OpenWrt tooling, so the same probe works on
 * fw3 and fw4, opkg and apk images; a section that does not apply fails and is ignored. Sections
 * start a process only where no shell builtin can do the work: 10 on a stock fw4 router (the
 * probe's own shell, ubus ×3, the package list, uci, df, nft ×2, awk).
 */
export const FACT_SECTIONS = {
  board: "ubus -S call system board",
  release: "_r /etc/openwrt_release",
  kernel: "_r /proc/sys/kernel/osrelease",
  firewall: "if [ -x /sbin/fw4 ]; then echo fw4; elif [ -x /sbin/fw3 ]; then echo fw3; else echo none; fi",
  packageManager: "if command -v apk >/dev/null; then echo apk; else echo opkg; fi",
  packages: "if command -v apk >/dev/null; then apk list --installed; else opkg list-installed; fi",
  firewallConfig: "uci show firewall",
  // uci replays staged changes on every read; a copy under another package name shows what is committed.
  firewallCommitted:
    "if [ -s /tmp/.uci/firewall ]; then _d=/tmp/.offload-committed; mkdir -p $_d && cp /etc/config/firewall $_d/firewall_committed && uci -c $_d show firewall_committed; rm -rf $_d; fi",
  sqmConfig: "[ -e /etc/config/sqm ] && uci -q show sqm",
  // `uci changes` only reports the delta files in /tmp/.uci: when there are none, it has nothing to say.
  staged: 'for _u in /tmp/.uci/*; do [ -s "$_u" ] && { uci changes; break; }; done',
  interfaces: "ubus -S call network.interface dump",
  devices: "ubus -S call network.device status",
  overlay: "df -Pk /overlay 2>/dev/null || df -Pk /",
  flowtables: "nft list flowtables",
  // Fails when fw4's table is not loaded: that is how the probe learns the firewall is down.
  forwardChain: "nft list chain inet fw4 forward",
  iptables: "[ -x /sbin/fw4 ] || iptables -S FORWARD",
  modules: `for _k in ${FLOW_MODULES.join(" ")}; do [ -d /sys/module/$_k ] && echo $_k; done; true`,
  // The one process here that a builtin could replace: a `read` loop costs the router a syscall per
  // byte of the table (2.5 s of CPU for 16k flows on an x86 host, against 4 ms for awk).
  conntrack: "awk '/\\[OFFLOAD\\]/ { o++ } /\\[HW_OFFLOAD\\]/ { h++ } END { print o + 0; print h + 0; print NR }' /proc/net/nf_conntrack",
  guard: GUARD_RECORDS_PROBE,
  files: `for _p in ${MANAGED_FILES.join(" ")}; do [ -f "$_p" ] || continue; printf '%s' "$_p"; _m @path 0; _r "$_p"; _m @file $?; done; true`,
  ethtool: "command -v ethtool",
} as const;

export type FactSection = keyof typeof FACT_SECTIONS;

export interface DeviceFact {
  name: string;
  devtype: string;
  hwTcOffload: boolean;
  bridgeMembers: string[];
}

export interface ZoneFact {
  name: string;
  networks: string[];
  /**
   * What fw4 puts in its flowtable for the zone: the devices of its networks, a bridge resolved to
   * its ports (a flowtable takes the devices packets arrive on; a real router's `ft` lists the ports,
   * not br-lan).
   */
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
  /** The guard's transactions kept on the router, newest first: drift tells its restores and rollbacks from other edits. */
  guardRecords: GuardRecord[];
  /** The files this library manages (MANAGED_FILES) that the router has, by path, exactly as they are. */
  files: Record<string, string>;
  /** ethtool is installed (OpenWrt images do not ship it). */
  ethtool: boolean;
}

type Json = Record<string, unknown>;

export function factsFromProbe(probe: ProbeResult): RouterFacts {
  need(probe, Object.keys(FACT_SECTIONS) as FactSection[]);
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
  const kernel = (board.kernel as string | undefined) ?? probe.kernel.out.trim();
  const { firewall, offload: { runtime } } = liveRuntime(probe);
  const devices = liveDevices(probe);
  const firewallSections = probe.firewallConfig.rc === 0 ? parseUciShow(probe.firewallConfig.out, "firewall") : [];
  const committedSections = probe.firewallCommitted.out.trim() ? parseUciShow(probe.firewallCommitted.out, "firewall_committed") : firewallSections;
  const capability = hwOffloadCapability(
    release.target,
    devices.filter((d) => d.hwTcOffload).map((d) => d.name),
  );
  const packages = livePackages(probe);
  return {
    hostname: (board.hostname as string | undefined) ?? "OpenWrt",
    model: (board.model as string | undefined) ?? "unknown",
    boardName: (board.board_name as string | undefined) ?? "unknown",
    release,
    target: release.target,
    kernel,
    kernelSupported: kernelAtLeast(kernel, 5, 4),
    firewall,
    packageManager: packages.packageManager,
    packages: parseInstalledPackages(packages.list, [...OFFLOAD_PACKAGES, ...OTHER_PACKAGES]),
    packageList: packages.list,
    ...(packages.error !== undefined ? { packagesError: packages.error } : {}),
    hwOffloadCapable: capability.capable,
    hwOffloadReason: capability.reason,
    devices,
    zones: zoneFacts(firewallSections, jsonOr<Json>(probe.interfaces.out, {}), devices),
    sqm: probe.sqmConfig.rc === 0 ? sqmFacts(parseUciShow(probe.sqmConfig.out, "sqm")) : [],
    overlay: parseDf(probe.overlay.out),
    stagedChanges: parseUciChanges(probe.staged.out),
    offload: { config: offloadConfig(firewall, committedSections), runtime, conntrack: parseConntrackCounts(probe.conntrack.out) },
    guardRecords: parseGuardRecords(probe.guard.out),
    files: managedFiles(probe.files),
    ethtool: probe.ethtool.rc === 0,
  };
}

/** What a check of the live offload state reads (the guard's verification of most changes). */
export const RUNTIME_SECTIONS = ["firewall", "flowtables", "forwardChain", "iptables", "modules"] as const satisfies readonly FactSection[];
/** What the loaded flow-offload modules read (shell builtins). */
export const MODULE_SECTIONS = ["modules"] as const satisfies readonly FactSection[];
/** What a check of the devices' hw-tc-offload reads. */
export const DEVICE_SECTIONS = ["devices"] as const satisfies readonly FactSection[];
/** What a check of the installed packages reads. */
export const PACKAGE_SECTIONS = ["packageManager", "packages"] as const satisfies readonly FactSection[];

/** The fact sections named, for a probe that reads only them. */
export function factSections(names: readonly FactSection[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, FACT_SECTIONS[name]]));
}

/** A probe read fewer sections than a parser needs: a bug here, never a fact about the router. */
function need(probe: ProbeResult, names: readonly FactSection[]): void {
  const missing = names.filter((name) => !(name in probe));
  if (missing.length > 0) throw new Error(`internal error: the probe did not read ${missing.join(", ")}`);
}

function firewallOf(probe: ProbeResult): "fw3" | "fw4" {
  const firewall = probe.firewall.out.trim();
  if (firewall !== "fw3" && firewall !== "fw4") {
    throw new Error("neither firewall4 (/sbin/fw4) nor firewall3 (/sbin/fw3) is installed: flow offloading needs one of them");
  }
  return firewall;
}

/** What the kernel runs (RUNTIME_SECTIONS). */
export function liveRuntime(probe: ProbeResult): LiveOffload {
  need(probe, RUNTIME_SECTIONS);
  const firewall = firewallOf(probe);
  const flowtables = probe.flowtables.rc === 0 ? parseFlowtablesText(probe.flowtables.out) : [];
  const referenced = new Set(flowtablesReferencedByRules(probe.forwardChain.out));
  const fw3Rule = probe.iptables.out.split("\n").find((l) => l.includes("-j FLOWOFFLOAD"));
  // fw4's own flowtable `ft` (FirewallDefaults' runtime); flowtables of one's own (Flowtable) are not offloading's state.
  const fw4Table = flowtables.find((ft) => ft.family === "inet" && ft.table === "fw4" && ft.name === FW4_FLOWTABLE && referenced.has(ft.name));
  return {
    firewall,
    offload: { runtime: {
      firewallRunning: firewall === "fw4" ? probe.forwardChain.rc === 0 : probe.iptables.out.includes("!fw3"),
      flowtables,
      offloadRule: firewall === "fw4" ? fw4Table !== undefined : fw3Rule !== undefined,
      hardware: firewall === "fw4" ? fw4Table?.hwOffload === true : fw3Rule?.includes("--hw") === true,
      forwardTargets: [...referenced],
      modules: liveModules(probe),
    } },
  };
}

/** The network devices (DEVICE_SECTIONS). */
export function liveDevices(probe: ProbeResult): DeviceFact[] {
  need(probe, DEVICE_SECTIONS);
  return deviceFacts(jsonOr<Json>(probe.devices.out, {}));
}

/** The loaded flow-offload kernel modules (MODULE_SECTIONS). */
export function liveModules(probe: ProbeResult): string[] {
  need(probe, MODULE_SECTIONS);
  return probe.modules.out.split("\n").filter(Boolean);
}

/** The installed packages (PACKAGE_SECTIONS): the listing, or why it could not be read. */
export function livePackages(probe: ProbeResult): { packageManager: "opkg" | "apk"; list: string; error?: string } {
  need(probe, PACKAGE_SECTIONS);
  const packageManager = probe.packageManager.out.trim() === "apk" ? "apk" : "opkg";
  const { rc, out } = probe.packages;
  return { packageManager, list: out, ...(rc !== 0 ? { error: `${packageManager} failed (exit ${rc}): ${out.trim().slice(-300)}` } : {}) };
}

/** The package manager was busy (locked) when the probe ran: another read may find it free. */
export function packagesLocked(probe: ProbeResult): boolean {
  return probe.packages.rc !== 0 && PACKAGES_LOCKED.test(probe.packages.out);
}

function managedFiles(section: SectionResult): Record<string, string> {
  const files: Record<string, string> = {};
  const parts = section.parts ?? [];
  parts.forEach((part, i) => {
    const content = parts[i + 1];
    if (part.id === "path" && content?.id === "file" && content.rc === 0) files[part.out] = content.out;
  });
  return files;
}

function offloadConfig(firewall: "fw3" | "fw4", sections: UciShowSection[]): OffloadState["config"] {
  const defaults = sections.find((s) => s.type === "defaults");
  const raw = {
    flow_offloading: optionString(defaults, "flow_offloading"),
    flow_offloading_hw: optionString(defaults, "flow_offloading_hw"),
  };
  return { flowOffloading: isTrue(raw.flow_offloading, firewall), flowOffloadingHw: isTrue(raw.flow_offloading_hw, firewall), raw };
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

function zoneFacts(sections: UciShowSection[], dump: Json, devices: DeviceFact[]): ZoneFact[] {
  const ports = (name: string) => devices.find((d) => d.name === name && d.bridgeMembers.length > 0)?.bridgeMembers ?? [name];
  const interfaces = ((dump.interface as Json[] | undefined) ?? []).map((i) => ({
    name: i.interface as string,
    device: (i.device as string | undefined) ?? (i.l3_device as string | undefined),
  }));
  return sections
    .filter((s) => s.type === "zone" && optionString(s, "enabled") !== "0")
    .map((zone) => {
      const networks = optionList(zone, "network");
      const zoneDevices = networks.flatMap((n) => interfaces.filter((i) => i.name === n && i.device).flatMap((i) => ports(i.device!)));
      return { name: optionString(zone, "name") ?? zone.ref, networks, devices: [...new Set(zoneDevices)].sort() };
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

/** Versions of the named packages among what the router listed as installed (the facts' packageList, or livePackages' list). */
export function installedVersions(listing: string, names: readonly string[]): Record<string, string> {
  return parseInstalledPackages(listing, names);
}

/** The installed packages could not be read: say so rather than call anything missing. */
export class PackagesUnreadableError extends Error {
  constructor(router: string, detail: string) {
    super(`${router}: could not read the installed packages (${detail}); nothing was changed. Another package operation may be running: run again in a moment.`);
    this.name = "PackagesUnreadableError";
  }
}

/**
 * Every fact in one probe, shared by the reads of this router that overlap it in this process (see
 * RouterShell.read). `recent`: a probe that finished at most that long ago, with nothing written to
 * the router since, answers too (a preview's checks, which come one after another).
 */
export function readFacts(shell: RouterShell, { recent = 0 }: { recent?: number } = {}): Promise<RouterFacts> {
  return shell.read("facts", { recent }, async (run) => {
    let probe = await runProbe(run, FACT_SECTIONS, "read router facts");
    for (let attempt = 1; attempt < PACKAGES_ATTEMPTS && packagesLocked(probe); attempt++) {
      await new Promise((r) => setTimeout(r, PACKAGES_RETRY_MS));
      probe = { ...probe, ...(await runProbe(run, factSections(PACKAGE_SECTIONS), "read the installed packages")) };
    }
    return factsFromProbe(probe);
  });
}

/** Runs a probe of `sections` in one exec (a read: retried once on a dropped connection). */
export async function runProbe(run: RouterShell["run"], sections: Record<string, string>, purpose: string): Promise<ProbeResult> {
  const probe = new Probe(sections);
  const result = await run(probe.script(), { purpose, retry: "safe" });
  return probe.parse(result.stdout).results;
}
