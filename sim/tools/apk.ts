import type { PackageSpec, Tool, ToolContext } from "../types";
import { overlayUsage } from "./df";
import { globToRegExp } from "./glob";
import { withExclusiveLock } from "./locks";
import {
  archOf,
  feedNameOf,
  feedsOf,
  InstalledPackage,
  licenseOf,
  modulesForPackages,
  originOf,
  readInstalled,
  removePackageFiles,
  writeInstalled,
  writePackageFiles,
} from "./packages";

const REPOSITORY_LISTS = ["/etc/apk/repositories", "/etc/apk/repositories.d/distfeeds.list", "/etc/apk/repositories.d/customfeeds.list"];

/**
 * apk-tools v3 as OpenWrt 25.12 ships it: `info -e`, `list`, `add`, `del` and `update`, against
 * /lib/apk/db/installed and /etc/apk/world. Indexes are fetched on demand (no `apk update` needed
 * first) from the official repositories listed in /etc/apk/repositories.d.
 */
export const apkTool: Tool = async (ctx) => {
  const args = ctx.argv.slice(1);
  let quiet = false;
  const words: string[] = [];
  const flags = new Set<string>();
  for (const arg of args) {
    if (arg === "-q" || arg === "--quiet") quiet = true;
    else if (arg === "--no-cache") continue;
    else if (arg.startsWith("-")) flags.add(arg);
    else words.push(arg);
  }
  const [applet, ...names] = words;
  const run = new ApkRun(ctx, quiet);
  switch (applet) {
    case "info":
      if (flags.has("-e") || flags.has("--installed")) return infoExists(run, names);
      break;
    case "list":
      return list(run, names, flags.has("-I") || flags.has("--installed"));
    case "add":
      return writing(run, 800, () => add(run, names));
    case "del":
      return writing(run, 400, () => del(run, names));
    case "update":
      return update(run);
  }
  if (applet && !APPLETS.has(applet)) ctx.stderr(`ERROR: '${applet}' is not an apk command. See 'apk --help'.\n`);
  // Loud rather than plausible: a script relying on an applet the simulator lacks must notice.
  else ctx.stderr(`apk: the simulator does not emulate 'apk ${[applet ?? "", ...flags].join(" ").trim()}'\n`);
  return 1;
};

const DB_LOCK = "/lib/apk/db/lock";

/**
 * Applets that change the database hold its lock; a second writer does not wait (apk's --wait is
 * 0 by default) and fails as apk-tools v3 reports EAGAIN. Readers (info, list) take no lock.
 */
async function writing(run: ApkRun, holdMs: number, work: () => number): Promise<number> {
  const locked = await withExclusiveLock(run.ctx, DB_LOCK, holdMs, work);
  if (locked.locked) return locked.value;
  run.error("Unable to lock database: temporary error (try again later)");
  run.error("Failed to open apk database: temporary error (try again later)");
  return 1;
}

const APPLETS = new Set([
  "add", "del", "fix", "update", "upgrade", "cache", "info", "list", "dot", "policy", "search", "index", "fetch",
  "manifest", "audit", "stats", "verify", "version", "mkndx", "mkpkg", "extract", "adbdump", "adbsign", "convdb", "convndx", "query",
]);

class ApkRun {
  constructor(
    readonly ctx: ToolContext,
    private readonly quiet: boolean,
  ) {}

  message(line: string): void {
    if (!this.quiet) this.ctx.stdout(`${line}\n`);
  }

  error(line: string): void {
    this.ctx.stderr(`ERROR: ${line}\n`);
  }

  get installed(): InstalledPackage[] {
    return readInstalled(this.ctx.fs, this.ctx.router.profile);
  }

  /** Packages the configured official repositories offer. */
  available(): Map<string, PackageSpec> {
    const { fs, router } = this.ctx;
    const urls = new Set(
      REPOSITORY_LISTS.flatMap((f) => (fs.tryReadText(f) ?? "").split("\n"))
        .map((l) => l.trim())
        .filter((l) => l.length > 0 && !l.startsWith("#")),
    );
    const feeds = new Set(feedsOf(router.profile).filter((f) => urls.has(`${f.url}/packages.adb`)).map((f) => f.name));
    return new Map(router.profile.feed.filter((p) => feeds.has(feedNameOf(router.profile, p.name))).map((p) => [p.name, p]));
  }

  /** "OK: 23 MiB in 180 packages" (or "2 errors; ..."). */
  summary(errors: number): void {
    const installed = this.installed;
    const mib = Math.floor(installed.reduce((sum, p) => sum + p.sizeKiB, 0) / 1024);
    const head = errors === 0 ? "OK:" : `${errors} error${errors > 1 ? "s" : ""};`;
    this.message(`${head} ${mib} MiB in ${installed.length} packages`);
  }
}

/** Prints the installed ones; the exit status counts the missing ones. */
function infoExists(run: ApkRun, names: string[]): number {
  const installed = new Set(run.installed.map((p) => p.name));
  let missing = 0;
  for (const name of names) {
    if (installed.has(name)) run.ctx.stdout(`${name}\n`);
    else missing++;
  }
  return missing;
}

function list(run: ApkRun, patterns: string[], installedOnly: boolean): number {
  const profile = run.ctx.router.profile;
  const installed = new Map(run.installed.map((p) => [p.name, p]));
  const rows = new Map<string, { name: string; version: string; installed: boolean }>();
  if (!installedOnly) for (const p of run.available().values()) rows.set(p.name, { name: p.name, version: p.version, installed: false });
  for (const p of installed.values()) rows.set(p.name, { name: p.name, version: p.version, installed: true });
  const matchers = patterns.map(globToRegExp);
  for (const row of [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (matchers.length > 0 && !matchers.some((m) => m.test(row.name))) continue;
    run.ctx.stdout(
      `${row.name}-${row.version} ${archOf(profile, row.name)} {${originOf(row.name)}} (${licenseOf(row.name)})${row.installed ? " [installed]" : ""}\n`,
    );
  }
  return 0;
}

function add(run: ApkRun, names: string[]): number {
  const { fs, router } = run.ctx;
  const available = run.available();
  const installed = new Map(run.installed.map((p) => [p.name, p]));
  const unknown = names.filter((n) => !available.has(n) && !installed.has(n));
  if (unknown.length > 0) {
    run.ctx.stderr("ERROR: unable to select packages:\n");
    for (const n of unknown) run.ctx.stderr(`  ${n} (no such package):\n    required by: world[${n}]\n`);
    return unknown.length;
  }
  // The solver's order: every dependency before the package that needs it.
  const plan: PackageSpec[] = [];
  const visit = (name: string) => {
    if (installed.has(name) || plan.some((p) => p.name === name)) return;
    const spec = available.get(name)!;
    for (const dep of spec.depends ?? []) if (available.has(dep) || installed.has(dep)) visit(dep);
    plan.push(spec);
  };
  names.forEach(visit);
  // Asking for a package that was only a dependency makes it part of the world.
  let db = run.installed.map((p) => (names.includes(p.name) ? { ...p, auto: false } : p));
  writeInstalled(fs, router.profile, db);
  let errors = 0;
  plan.forEach((spec, i) => {
    run.message(`(${i + 1}/${plan.length}) Installing ${spec.name} (${spec.version})`);
    if (spec.sizeKiB > overlayUsage(router).availKiB) {
      run.error(`${spec.name}-${spec.version}: No space left on device`);
      errors++;
      return;
    }
    db = [
      ...db,
      { name: spec.name, version: spec.version, depends: spec.depends ?? [], sizeKiB: spec.sizeKiB, auto: !names.includes(spec.name), installedTime: Math.floor(Date.now() / 1000) },
    ];
    writeInstalled(fs, router.profile, db);
    writePackageFiles(fs, router.profile, spec.name);
    for (const module of modulesForPackages([spec.name])) router.kernel.modules.add(module);
  });
  run.summary(errors);
  return errors;
}

function del(run: ApkRun, names: string[]): number {
  const { fs, router } = run.ctx;
  const available = run.available();
  let db = run.installed;
  const unknown = names.filter((n) => !available.has(n) && !db.some((p) => p.name === n));
  for (const n of unknown) run.error(`No such package: ${n}`);
  if (unknown.length > 0) return unknown.length;

  db = db.map((p) => (names.includes(p.name) ? { ...p, auto: true } : p));
  // What the world still needs, through dependencies.
  const needed = new Set<string>();
  const need = (name: string) => {
    if (needed.has(name)) return;
    needed.add(name);
    for (const dep of db.find((p) => p.name === name)?.depends ?? []) need(dep);
  };
  db.filter((p) => !p.auto).forEach((p) => need(p.name));

  const kept = names.filter((n) => needed.has(n));
  if (kept.length > 0) {
    run.message("World updated, but the following packages are not removed due to:");
    for (const n of kept) {
      const dependents = db.filter((p) => needed.has(p.name) && p.depends.includes(n)).map((p) => p.name);
      run.message(`  ${n}: ${dependents.join(" ")}`);
    }
    run.message("");
  }
  const purge = dependentsFirst(db.filter((p) => !needed.has(p.name)));
  purge.forEach((p, i) => {
    run.message(`(${i + 1}/${purge.length}) Purging ${p.name} (${p.version})`);
    removePackageFiles(fs, router.profile, p.name);
  });
  writeInstalled(fs, router.profile, db.filter((p) => needed.has(p.name)));
  run.summary(0);
  return 0;
}

function update(run: ApkRun): number {
  const available = run.available();
  for (const feed of feedsOf(run.ctx.router.profile)) {
    if ([...available.values()].some((p) => feedNameOf(run.ctx.router.profile, p.name) === feed.name)) {
      run.message(` [${feed.url}/packages.adb]`);
    }
  }
  run.message(`OK: ${available.size} distinct packages available`);
  return 0;
}

/** Orders packages so that nothing is removed before a package that still depends on it. */
function dependentsFirst(packages: InstalledPackage[]): InstalledPackage[] {
  const ordered: InstalledPackage[] = [];
  let left = [...packages];
  while (left.length > 0) {
    const free = left.filter((p) => !left.some((q) => q !== p && q.depends.includes(p.name)));
    const next = free.length > 0 ? free : left;
    ordered.push(...next);
    left = left.filter((p) => !next.includes(p));
  }
  return ordered;
}
