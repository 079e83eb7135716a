/**
 * The installed-package databases (opkg's /usr/lib/opkg, apk's /lib/apk/db) in their real formats,
 * so router scripts that grep them agree with `opkg`/`apk`; plus the package feeds as the
 * simulator's package managers download them, and what installing a package changes on the router.
 */
import { gunzipSync, gzipSync } from "zlib";
import { createHash } from "crypto";
import type { RouterFs } from "../fs";
import { SHIM_PATH } from "../rpc";
import type { PackageSpec, Profile } from "../types";
import { buildEpoch, releaseMajor } from "./release";

export { releaseFiles } from "./release";

/** Kernel modules each kmod package loads (its postinst runs insmod on them). */
const KMOD_MODULES: Record<string, string[]> = {
  "kmod-nf-conntrack": ["nf_conntrack"],
  "kmod-nf-conntrack6": ["nf_defrag_ipv6"],
  "kmod-nf-nat": ["nf_nat"],
  "kmod-nf-reject": ["nf_reject_ipv4"],
  "kmod-nf-reject6": ["nf_reject_ipv6"],
  "kmod-nfnetlink": ["nfnetlink"],
  "kmod-nf-flow": ["nf_flow_table"],
  "kmod-nft-core": ["nf_tables"],
  "kmod-nft-fib": ["nft_fib", "nft_fib_inet", "nft_fib_ipv4", "nft_fib_ipv6"],
  "kmod-nft-nat": ["nft_chain_nat", "nft_nat", "nft_masq", "nft_redir"],
  "kmod-nft-offload": ["nf_flow_table_inet", "nft_flow_offload"],
  "kmod-ipt-core": ["ip_tables", "x_tables", "xt_tcpudp"],
  "kmod-ipt-conntrack": ["xt_conntrack", "xt_state"],
  "kmod-ipt-nat": ["iptable_nat", "xt_MASQUERADE"],
  "kmod-ipt-offload": ["xt_FLOWOFFLOAD"],
  "kmod-sched-core": ["sch_ingress", "cls_fw"],
  "kmod-sched-cake": ["sch_cake"],
  "kmod-ifb": ["ifb"],
};

/** Programs a package ships that the simulator emulates (linked to the RPC shim when installed). */
const PACKAGE_COMMANDS: Record<string, string[]> = {
  ethtool: ["/usr/sbin/ethtool"],
  "ethtool-full": ["/usr/sbin/ethtool"],
};

export function modulesForPackages(names: readonly string[]): string[] {
  return [...new Set(names.flatMap((n) => KMOD_MODULES[n] ?? []))];
}

/** Files the package puts on the router, as its `.list` names them. */
function packageFiles(profile: Profile, name: string): string[] {
  const modules = (KMOD_MODULES[name] ?? []).map((m) => `/lib/modules/${profile.kernel}/${m}.ko`);
  return [...modules, ...(PACKAGE_COMMANDS[name] ?? [])];
}

/** Unpacks a package's files: module objects, and emulated commands as links to the shim. */
export function writePackageFiles(fs: RouterFs, profile: Profile, name: string): void {
  for (const file of packageFiles(profile, name)) {
    if ((PACKAGE_COMMANDS[name] ?? []).includes(file)) fs.symlink(SHIM_PATH, file);
    else fs.writeAtomic(file, "");
  }
}

export function removePackageFiles(fs: RouterFs, profile: Profile, name: string): void {
  for (const file of packageFiles(profile, name)) fs.remove(file);
}

export interface InstalledPackage {
  name: string;
  version: string;
  depends: string[];
  sizeKiB: number;
  /** Pulled in as a dependency rather than asked for. */
  auto: boolean;
  installedTime: number;
}

// ---------------------------------------------------------------- installed database

const OPKG_STATUS = "/usr/lib/opkg/status";
const OPKG_INFO = "/usr/lib/opkg/info";
const APK_INSTALLED = "/lib/apk/db/installed";
const APK_WORLD = "/etc/apk/world";

export function readInstalled(fs: RouterFs, profile: Profile): InstalledPackage[] {
  return profile.packageManager === "apk" ? readApkDb(fs) : readOpkgDb(fs);
}

export function writeInstalled(fs: RouterFs, profile: Profile, packages: InstalledPackage[]): void {
  const sorted = [...packages].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (profile.packageManager === "apk") writeApkDb(fs, profile, sorted);
  else writeOpkgDb(fs, profile, sorted);
}

export function installedPackageNames(fs: RouterFs, profile: Profile): string[] {
  return readInstalled(fs, profile).map((p) => p.name);
}

/**
 * What a fresh image has: the profile's packages in the database (and their files), and the
 * package manager's feed configuration. The lists of available packages are not there until
 * `opkg update` (apk fetches its indexes on demand).
 */
export function installProfilePackages(fs: RouterFs, profile: Profile): void {
  const epoch = buildEpoch(profile);
  writeInstalled(
    fs,
    profile,
    profile.packages.map((p) => ({ ...p, depends: p.depends ?? [], auto: false, installedTime: epoch })),
  );
  for (const p of profile.packages) writePackageFiles(fs, profile, p.name);
  const feeds = feedsOf(profile);
  if (profile.packageManager === "apk") {
    fs.writeAtomic("/etc/apk/arch", `${profile.release.arch}\n`);
    fs.writeAtomic("/etc/apk/repositories.d/distfeeds.list", feeds.map((f) => `${f.url}/packages.adb\n`).join(""));
    fs.writeAtomic("/etc/apk/repositories.d/customfeeds.list", "# add your custom package feeds here\n#\n# http://www.example.com/path/to/files/packages.adb\n");
    return;
  }
  fs.writeAtomic(
    "/etc/opkg.conf",
    "dest root /\ndest ram /tmp\nlists_dir ext /var/opkg-lists\noption overlay_root /overlay\noption check_signature\n",
  );
  fs.writeAtomic("/etc/opkg/distfeeds.conf", feeds.map((f) => `src/gz ${f.name} ${f.url}\n`).join(""));
  fs.writeAtomic(
    "/etc/opkg/customfeeds.conf",
    "# add your custom package feeds here\n#\n# src/gz example_feed_name http://www.example.com/path/to/files\n",
  );
}

function readOpkgDb(fs: RouterFs): InstalledPackage[] {
  const status = fs.tryReadText(OPKG_STATUS) ?? "";
  return parseStanzas(status)
    .filter((s) => /\binstalled\b/.test(s.Status ?? "") && s.Package)
    .map((s) => {
      const control = parseStanzas(fs.tryReadText(`${OPKG_INFO}/${s.Package}.control`) ?? "")[0] ?? {};
      return {
        name: s.Package,
        version: s.Version ?? "",
        depends: parseOpkgDepends(s.Depends ?? ""),
        sizeKiB: Math.ceil(Number(control["Installed-Size"] ?? 0) / 1024),
        auto: s["Auto-Installed"] === "yes",
        installedTime: Number(s["Installed-Time"] ?? 0),
      };
    });
}

function writeOpkgDb(fs: RouterFs, profile: Profile, packages: InstalledPackage[]): void {
  const stanzas = packages.map((p) => {
    const lines = [`Package: ${p.name}`, `Version: ${p.version}`];
    if (p.depends.length > 0) lines.push(`Depends: ${opkgDepends(profile, p.depends)}`);
    lines.push("Status: install user installed", `Architecture: ${archOf(profile, p.name)}`, `Installed-Time: ${p.installedTime}`);
    if (p.auto) lines.push("Auto-Installed: yes");
    return `${lines.join("\n")}\n`;
  });
  fs.writeAtomic(OPKG_STATUS, stanzas.map((s) => `${s}\n`).join(""));
  const wanted = new Set(packages.map((p) => p.name));
  for (const file of fs.list(OPKG_INFO)) {
    const name = file.replace(/\.(control|list)$/, "");
    if (!wanted.has(name)) fs.remove(`${OPKG_INFO}/${file}`);
  }
  for (const p of packages) {
    fs.writeAtomic(`${OPKG_INFO}/${p.name}.control`, opkgControl(profile, p));
    fs.writeAtomic(`${OPKG_INFO}/${p.name}.list`, packageFiles(profile, p.name).map((f) => `${f}\n`).join(""));
  }
}

function opkgControl(profile: Profile, p: { name: string; version: string; depends: string[]; sizeKiB: number }): string {
  const lines = [`Package: ${p.name}`, `Version: ${p.version}`];
  if (p.depends.length > 0) lines.push(`Depends: ${opkgDepends(profile, p.depends)}`);
  lines.push(
    `Source: ${sourceOf(p.name)}`,
    `SourceName: ${p.name}`,
    `License: ${licenseOf(p.name)}`,
    `Section: ${sectionOf(p.name)}`,
    `SourceDateEpoch: ${buildEpoch(profile)}`,
    `Architecture: ${archOf(profile, p.name)}`,
    `Installed-Size: ${p.sizeKiB * 1024}`,
    `Description:  ${describePackage(p.name)}`,
  );
  return `${lines.join("\n")}\n`;
}

function readApkDb(fs: RouterFs): InstalledPackage[] {
  const world = new Set((fs.tryReadText(APK_WORLD) ?? "").split("\n").filter((l) => l.length > 0));
  const packages: InstalledPackage[] = [];
  for (const block of (fs.tryReadText(APK_INSTALLED) ?? "").split(/\n\n+/)) {
    const fields = new Map<string, string>();
    for (const line of block.split("\n")) {
      if (line[1] === ":" && !fields.has(line[0])) fields.set(line[0], line.slice(2));
    }
    const name = fields.get("P");
    if (!name) continue;
    packages.push({
      name,
      version: fields.get("V") ?? "",
      depends: (fields.get("D") ?? "").split(" ").filter((d) => d.length > 0).map((d) => d.split(/[<>=~]/)[0]),
      sizeKiB: Math.ceil(Number(fields.get("I") ?? 0) / 1024),
      auto: !world.has(name),
      installedTime: Number(fields.get("t") ?? 0),
    });
  }
  return packages;
}

function writeApkDb(fs: RouterFs, profile: Profile, packages: InstalledPackage[]): void {
  const blocks = packages.map((p) => {
    const lines = [
      `C:Q1${digest(`${p.name}-${p.version}`).toString("base64").slice(0, 27)}=`,
      `P:${p.name}`,
      `V:${p.version}`,
      `A:${archOf(profile, p.name)}`,
      `S:${Math.ceil(p.sizeKiB * 1024 * 0.4)}`,
      `I:${p.sizeKiB * 1024}`,
      `T:${describePackage(p.name)}`,
      "U:https://openwrt.org/",
      `L:${licenseOf(p.name)}`,
      `o:${originOf(p.name)}`,
      "m:OpenWrt Developers <openwrt-devel@lists.openwrt.org>",
      `t:${p.installedTime}`,
    ];
    if (p.depends.length > 0) lines.push(`D:${apkDepends(profile, p.depends)}`);
    const files = packageFiles(profile, p.name);
    for (const dir of [...new Set(files.map((f) => f.slice(1, f.lastIndexOf("/"))))]) {
      lines.push(`F:${dir}`);
      for (const f of files.filter((x) => x.slice(1, x.lastIndexOf("/")) === dir)) lines.push(`R:${f.slice(f.lastIndexOf("/") + 1)}`);
    }
    return `${lines.join("\n")}\n`;
  });
  fs.writeAtomic(APK_INSTALLED, blocks.map((b) => `${b}\n`).join(""));
  fs.writeAtomic(APK_WORLD, packages.filter((p) => !p.auto).map((p) => `${p.name}\n`).join(""));
}

/** `kernel (=5.15.162-1-<hash>), kmod-nf-flow`: kmods pin the exact kernel build. */
function opkgDepends(profile: Profile, depends: string[]): string {
  const kernel = profile.packages.find((p) => p.name === "kernel")?.version;
  return depends.map((d) => (d === "kernel" && kernel ? `kernel (=${kernel})` : d)).join(", ");
}

function apkDepends(profile: Profile, depends: string[]): string {
  const kernel = profile.packages.find((p) => p.name === "kernel")?.version;
  return depends.map((d) => (d === "kernel" && kernel ? `kernel=${kernel}` : d)).join(" ");
}

function parseOpkgDepends(text: string): string[] {
  return text
    .split(",")
    .map((d) => d.trim().split(/[\s(]/)[0])
    .filter((d) => d.length > 0);
}

/** Debian-style control stanzas (opkg's status, control files and Packages indexes). */
function parseStanzas(text: string): Record<string, string>[] {
  const stanzas: Record<string, string>[] = [];
  let current: Record<string, string> | undefined;
  let lastKey = "";
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      current = undefined;
      continue;
    }
    if (/^\s/.test(line) && current && lastKey) {
      current[lastKey] += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    if (!current) {
      current = {};
      stanzas.push(current);
    }
    lastKey = line.slice(0, colon);
    current[lastKey] = line.slice(colon + 1).trim();
  }
  return stanzas;
}

// ---------------------------------------------------------------- feeds

export interface Feed {
  /** opkg's feed name (`openwrt_core`); apk repositories are plain URLs. */
  name: string;
  url: string;
}

/** The official feeds of a release image, in distfeeds order (24.10 split kmods into their own feed). */
export function feedsOf(profile: Profile): Feed[] {
  const { version, target, arch } = profile.release;
  const root = `https://downloads.openwrt.org/releases/${version}`;
  const feeds: Feed[] = [{ name: "openwrt_core", url: `${root}/targets/${target}/packages` }];
  if (releaseMajor(profile) >= 24) {
    const kernel = profile.packages.find((p) => p.name === "kernel")?.version ?? profile.kernel;
    feeds.push({ name: "openwrt_kmods", url: `${root}/targets/${target}/kmods/${kernel}` });
  }
  for (const feed of ["base", "luci", "packages", "routing", "telephony"]) {
    feeds.push({ name: `openwrt_${feed}`, url: `${root}/packages/${arch}/${feed}` });
  }
  return feeds;
}

/** Which official feed carries a package. */
export function feedNameOf(profile: Profile, name: string): string {
  if (name.startsWith("kmod-")) return releaseMajor(profile) >= 24 ? "openwrt_kmods" : "openwrt_core";
  if (name === "kernel" || name === "base-files") return "openwrt_core";
  if (name.startsWith("luci-")) return "openwrt_luci";
  if (["sqm-scripts", "iperf3", "tcpdump-mini"].includes(name)) return "openwrt_packages";
  return "openwrt_base";
}

export function packageFilename(profile: Profile, p: { name: string; version: string }): string {
  return profile.packageManager === "apk"
    ? `${p.name}-${p.version}.apk`
    : `${p.name}_${p.version}_${archOf(profile, p.name)}.ipk`;
}

/** A feed's Packages index as `opkg update` stores it (gzip, like the Packages.gz it fetched). */
export function renderPackagesIndex(profile: Profile, feed: string): Buffer {
  const stanzas = profile.feed
    .filter((p) => feedNameOf(profile, p.name) === feed)
    .map((p) => {
      const depends = p.depends ?? [];
      const lines = [`Package: ${p.name}`, `Version: ${p.version}`];
      if (depends.length > 0) lines.push(`Depends: ${opkgDepends(profile, depends)}`);
      lines.push(
        `License: ${licenseOf(p.name)}`,
        `Section: ${sectionOf(p.name)}`,
        `Architecture: ${archOf(profile, p.name)}`,
        `Installed-Size: ${p.sizeKiB * 1024}`,
        `Filename: ${packageFilename(profile, p)}`,
        `Size: ${Math.ceil(p.sizeKiB * 1024 * 0.4)}`,
        `SHA256sum: ${digest(packageFilename(profile, p)).toString("hex")}`,
        `Description:  ${describePackage(p.name)}`,
      );
      return `${lines.join("\n")}\n`;
    });
  return gzipSync(stanzas.join("\n"));
}

/** Packages a stored feed index offers. */
export function parsePackagesIndex(gz: Buffer): PackageSpec[] {
  return parseStanzas(gunzipSync(gz).toString("utf8")).map((s) => ({
    name: s.Package,
    version: s.Version,
    sizeKiB: Math.ceil(Number(s["Installed-Size"] ?? 0) / 1024),
    depends: parseOpkgDepends(s.Depends ?? ""),
  }));
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** Scripts and LuCI apps are built once for every target. */
export function archOf(profile: Profile, name: string): string {
  return name.startsWith("luci-") || name === "sqm-scripts" ? "all" : profile.release.arch;
}

function sourceOf(name: string): string {
  if (name.startsWith("kmod-") || name === "kernel") return "package/kernel/linux";
  return `package/${name}`;
}

export function originOf(name: string): string {
  return name.startsWith("kmod-") || name === "kernel" ? "linux" : name.replace(/-full$|-tiny$/, "");
}

function sectionOf(name: string): string {
  if (name.startsWith("kmod-") || name === "kernel") return "kernel";
  if (name.startsWith("luci")) return "luci";
  return name === "ethtool" || name === "ethtool-full" || name === "sqm-scripts" ? "net" : "base";
}

export function licenseOf(name: string): string {
  return name.startsWith("kmod-") || name === "kernel" || name.startsWith("ethtool") ? "GPL-2.0-only" : "GPL-2.0";
}

const DESCRIPTIONS: Record<string, string> = {
  "kmod-nf-flow": "Kernel module for netfilter flow table support",
  "kmod-nft-offload": "Kernel modules for nftables routing offload support",
  "kmod-ipt-offload": "Netfilter routing/NAT offload support",
  ethtool: "ethtool allows querying and changing of ethernet card settings, such as speed, port, auto-negotiation, and PCI locations.",
  "ethtool-full": "ethtool allows querying and changing of ethernet card settings (full version with netlink support).",
  "sqm-scripts": "A set of scripts that does simple SQM configuration.",
};

export function describePackage(name: string): string {
  return DESCRIPTIONS[name] ?? `OpenWrt ${name} package`;
}
