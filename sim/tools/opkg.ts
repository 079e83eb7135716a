import type { PackageSpec, Tool, ToolContext } from "../types";
import { overlayUsage } from "./df";
import { globToRegExp } from "./glob";
import { withExclusiveLock } from "./locks";
import {
  describePackage,
  feedsOf,
  InstalledPackage,
  modulesForPackages,
  packageFilename,
  parsePackagesIndex,
  readInstalled,
  removePackageFiles,
  renderPackagesIndex,
  writeInstalled,
  writePackageFiles,
} from "./packages";

const LISTS_DIR = "/var/opkg-lists";
const FEED_CONFS = ["/etc/opkg/distfeeds.conf", "/etc/opkg/customfeeds.conf"];
const NEEDS_ARGUMENT = new Set(["install", "remove"]);
const LOCK_FILE = "/var/lock/opkg.lock";
/** How long opkg holds its lock: loading the status and lists takes a router ~0.1 s, installing far longer. */
const LOCK_HOLD_MS: Record<string, number> = { install: 800, remove: 400, update: 400 };
const READ_LOCK_HOLD_MS = 100;
const OPTIONS = new Set(["--force-space", "--force-depends", "--force-removal-of-dependent-packages"]);

/**
 * opkg (opkg-lede): list-installed, list, install, remove and update, with opkg's messages — the
 * NOTICE lines on stdout as they happen, the ERROR lines collected and printed to stderr at the end
 * under "Collected errors:", each prefixed with the C function that raised it — and its exit status
 * (0, or 255 for -1; `update` returns its number of failed feeds).
 */
export const opkgTool: Tool = async (ctx) => {
  const run = new OpkgRun(ctx);
  const args = ctx.argv.slice(1);
  const options = new Set<string>();
  while (args.length > 0 && args[0].startsWith("-")) {
    const option = args.shift()!;
    if (!OPTIONS.has(option)) {
      ctx.stderr(`${ctx.argv[0]}: unrecognized option: ${option.replace(/^--?/, "")}\n`);
      ctx.stderr("opkg must have one sub-command argument\n");
      ctx.stdout(USAGE);
      return 1;
    }
    options.add(option);
  }
  const [command, ...rest] = args;
  if (!command) {
    ctx.stderr("opkg must have one sub-command argument\n");
    ctx.stdout(USAGE);
    return 1;
  }
  const commands: Record<string, () => number> = {
    "list-installed": () => listInstalled(run, rest[0]),
    list_installed: () => listInstalled(run, rest[0]),
    list: () => listAvailable(run, rest[0]),
    install: () => install(run, rest, options.has("--force-space")),
    remove: () => remove(run, rest, options),
    update: () => update(run),
  };
  const handler = commands[command];
  if (!handler) {
    ctx.stderr(`${ctx.argv[0]}: unknown sub-command ${command}\n`);
    ctx.stdout(USAGE);
    return 1;
  }
  if (NEEDS_ARGUMENT.has(command) && rest.length === 0) {
    ctx.stderr(`${ctx.argv[0]}: the \`\`${command}'' command requires at least one argument\n`);
    ctx.stdout(USAGE);
    return 1;
  }
  // opkg_conf_load takes the lock for every sub-command, list-installed included, and gives up at once.
  const locked = await withExclusiveLock(ctx, LOCK_FILE, LOCK_HOLD_MS[command] ?? READ_LOCK_HOLD_MS, handler);
  if (!locked.locked) run.error("opkg_conf_load", `Could not lock ${LOCK_FILE}: Resource temporarily unavailable.\n`);
  run.flush();
  return locked.locked ? locked.value : 255;
};

class OpkgRun {
  private readonly errors: string[] = [];

  constructor(readonly ctx: ToolContext) {}

  notice(message: string): void {
    this.ctx.stdout(message);
  }

  /** opkg_msg(ERROR, ...): collected, prefixed with the function name; opkg_message(ERROR, ...) passes `fn` undefined. */
  error(fn: string | undefined, message: string): void {
    this.errors.push(fn ? `${fn}: ${message}` : message);
  }

  flush(): void {
    if (this.errors.length > 0) this.ctx.stderr(`Collected errors:\n${this.errors.map((e) => ` * ${e}`).join("")}`);
  }

  get installed(): InstalledPackage[] {
    return readInstalled(this.ctx.fs, this.ctx.router.profile);
  }
}

function sortByName<T extends { name: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function listInstalled(run: OpkgRun, pattern: string | undefined): number {
  const match = pattern === undefined ? undefined : globToRegExp(pattern);
  for (const p of sortByName(run.installed)) {
    if (!match || match.test(p.name)) run.notice(`${p.name} - ${p.version}\n`);
  }
  return 0;
}

function listAvailable(run: OpkgRun, pattern: string | undefined): number {
  const match = pattern === undefined ? undefined : globToRegExp(pattern);
  for (const spec of sortByName([...availablePackages(run).values()].map((c) => c.spec))) {
    if (!match || match.test(spec.name)) run.notice(`${spec.name} - ${spec.version} - ${describePackage(spec.name)}\n`);
  }
  return 0;
}

interface Candidate {
  spec: PackageSpec;
  feedUrl: string;
}

/** Feeds configured in /etc/opkg/*.conf, in order: `src/gz <name> <url>`. */
function configuredFeeds(run: OpkgRun): { name: string; url: string }[] {
  const feeds: { name: string; url: string }[] = [];
  for (const conf of FEED_CONFS) {
    for (const line of (run.ctx.fs.tryReadText(conf) ?? "").split("\n")) {
      const m = /^\s*src(?:\/gz)?\s+(\S+)\s+(\S+)/.exec(line);
      if (m) feeds.push({ name: m[1], url: m[2] });
    }
  }
  return feeds;
}

/** What the lists fetched by the last `opkg update` offer (none after a reboot: they live in /var). */
function availablePackages(run: OpkgRun): Map<string, Candidate> {
  const available = new Map<string, Candidate>();
  for (const feed of configuredFeeds(run)) {
    const list = run.ctx.fs.tryReadBytes(`${LISTS_DIR}/${feed.name}`);
    if (!list) continue;
    for (const spec of parsePackagesIndex(list)) {
      if (!available.has(spec.name)) available.set(spec.name, { spec, feedUrl: feed.url });
    }
  }
  return available;
}

function install(run: OpkgRun, names: string[], forceSpace: boolean): number {
  const { fs, router } = run.ctx;
  const profile = router.profile;
  const available = availablePackages(run);
  const unpacked: string[] = [];
  const inProgress = new Set<string>();
  // opkg checks the overlay when it is configured and mounted, else the destination root.
  const filesystem = fs.isDir("/overlay") ? "/overlay" : "/";
  let failed = false;

  const installOne = (candidate: Candidate, auto: boolean): boolean => {
    const { spec } = candidate;
    inProgress.add(spec.name);
    run.notice(`Installing ${spec.name} (${spec.version}) to root...\n`);
    const availKiB = overlayUsage(router).availKiB;
    if (!forceSpace && spec.sizeKiB > 0 && spec.sizeKiB >= availKiB) {
      run.error("verify_pkg_installable", `Only have ${availKiB}kb available on filesystem ${filesystem}, pkg ${spec.name} needs ${spec.sizeKiB}\n`);
      return false;
    }
    run.notice(`Downloading ${candidate.feedUrl}/${packageFilename(profile, spec)}\n`);
    const installedNames = new Set(run.installed.map((p) => p.name));
    const missing = (spec.depends ?? []).filter((d) => !installedNames.has(d) && !inProgress.has(d));
    const unresolved = missing.filter((d) => !available.has(d));
    if (unresolved.length > 0) {
      run.error("satisfy_dependencies_for", `Cannot satisfy the following dependencies for ${spec.name}:\n`);
      for (const d of unresolved) run.error(undefined, `\t${d}`);
      run.error(undefined, "\n");
      return false;
    }
    for (const dep of missing) {
      if (!run.installed.some((p) => p.name === dep) && !installOne(available.get(dep)!, true)) return false;
    }
    const record: InstalledPackage = {
      name: spec.name,
      version: spec.version,
      depends: spec.depends ?? [],
      sizeKiB: spec.sizeKiB,
      auto,
      installedTime: Math.floor(Date.now() / 1000),
    };
    writeInstalled(fs, profile, [...run.installed.filter((p) => p.name !== spec.name), record]);
    writePackageFiles(fs, profile, spec.name);
    unpacked.push(spec.name);
    return true;
  };

  for (const name of names) {
    const current = run.installed.find((p) => p.name === name);
    if (current) {
      // The feeds carry the image's own builds, so an installed package is always the newest.
      run.notice(`Package ${name} (${current.version}) installed in root is up to date.\n`);
      continue;
    }
    const candidate = available.get(name);
    if (!candidate) {
      run.notice(`Unknown package '${name}'.\n`);
      run.error("opkg_install_cmd", `Cannot install package ${name}.\n`);
      failed = true;
      continue;
    }
    if (!installOne(candidate, false)) {
      run.error("opkg_install_cmd", `Cannot install package ${name}.\n`);
      failed = true;
    }
  }
  // Dependencies were unpacked before the packages needing them, which is the order opkg configures in.
  for (const name of unpacked) {
    run.notice(`Configuring ${name}.\n`);
    for (const module of modulesForPackages([name])) router.kernel.modules.add(module);
  }
  return failed ? 255 : 0;
}

function remove(run: OpkgRun, patterns: string[], options: Set<string>): number {
  const { fs, router } = run.ctx;
  let removedAny = false;
  let failed = false;
  const removeOne = (name: string): boolean => {
    const dependents = run.installed.filter((p) => p.depends.includes(name)).map((p) => p.name);
    if (dependents.length > 0 && !options.has("--force-depends")) {
      if (!options.has("--force-removal-of-dependent-packages")) {
        run.error("print_dependents_warning", `Package ${name} is depended upon by packages:\n`);
        for (const d of dependents) run.error("print_dependents_warning", `\t${d}\n`);
        run.error("print_dependents_warning", `These might cease to work if package ${name} is removed.\n\n`);
        run.error("print_dependents_warning", "Force removal of this package with --force-depends.\n");
        run.error("print_dependents_warning", "Force removal of this package and its dependents\n");
        run.error("print_dependents_warning", "with --force-removal-of-dependent-packages.\n");
        return false;
      }
      for (const d of dependents) if (run.installed.some((p) => p.name === d) && !removeOne(d)) return false;
    }
    run.notice(`Removing package ${name} from root...\n`);
    writeInstalled(fs, router.profile, run.installed.filter((p) => p.name !== name));
    // Modules stay loaded: kmod packages do not rmmod on removal, a reboot drops them.
    removePackageFiles(fs, router.profile, name);
    return true;
  };
  for (const pattern of patterns) {
    const match = globToRegExp(pattern);
    for (const p of sortByName(run.installed)) {
      if (!match.test(p.name) || !run.installed.some((q) => q.name === p.name)) continue;
      if (removeOne(p.name)) removedAny = true;
      else failed = true;
    }
  }
  if (!removedAny) run.notice("No packages removed.\n");
  return failed ? 255 : 0;
}

/**
 * Fetches each configured feed's Packages.gz and signature into /var/opkg-lists. The official
 * feeds of the image answer; anything else is unreachable from the simulated router.
 */
function update(run: OpkgRun): number {
  const { fs, router } = run.ctx;
  const official = feedsOf(router.profile);
  let failures = 0;
  fs.mkdirp(LISTS_DIR);
  for (const feed of configuredFeeds(run)) {
    const index = `${feed.url}/Packages.gz`;
    run.notice(`Downloading ${index}\n`);
    const known = official.find((f) => f.url === feed.url);
    if (!known) {
      run.error("opkg_download", `Failed to download ${index}, wget returned 4.\n`);
      run.error("opkg_download", "Check your network settings and connectivity.\n\n");
      run.notice(`*** Failed to download the package list from ${index}\n\n`);
      failures++;
      continue;
    }
    fs.writeAtomic(`${LISTS_DIR}/${feed.name}`, renderPackagesIndex(router.profile, known.name));
    run.notice(`Updated list of available packages in ${LISTS_DIR}/${feed.name}\n`);
    run.notice(`Downloading ${feed.url}/Packages.sig\n`);
    fs.writeAtomic(`${LISTS_DIR}/${feed.name}.sig`, `untrusted comment: signed by key ${known.name}\n`);
    run.notice("Signature check passed.\n");
  }
  return failures;
}

const USAGE = `usage: opkg [options...] sub-command [arguments...]
where sub-command is one of:

Package Manipulation:
\tupdate\t\t\tUpdate list of available packages
\tupgrade <pkgs>\t\tUpgrade packages
\tinstall <pkgs>\t\tInstall package(s)
\tconfigure <pkgs>\tConfigure unpacked package(s)
\tremove <pkgs|regexp>\tRemove package(s)
\tflag <flag> <pkgs>\tFlag package(s)
\t <flag>=hold|noprune|user|ok|installed|unpacked (one per invocation)

Informational Commands:
\tlist\t\t\tList available packages
\tlist-installed\t\tList installed packages
\tlist-upgradable\t\tList installed and upgradable packages
\tlist-changed-conffiles\tList user modified configuration files
\tfiles <pkg>\t\tList files belonging to <pkg>
\tsearch <file|regexp>\tList package providing <file>
\tfind <regexp>\t\tList packages whose name or description matches <regexp>
\tinfo [pkg|regexp]\tDisplay all info for <pkg>
\tstatus [pkg|regexp]\tDisplay all status for <pkg>
\tdownload <pkg>\t\tDownload <pkg> to current directory
\tcompare-versions <v1> <op> <v2>
\t                    compare versions using <= < > >= = << >>
\tprint-architecture\tList installable package architectures
\tdepends [-A] [pkgname|pat]+
\twhatdepends [-A] [pkgname|pat]+
\twhatdependsrec [-A] [pkgname|pat]+
\twhatrecommends[-A] [pkgname|pat]+
\twhatsuggests[-A] [pkgname|pat]+
\twhatprovides [-A] [pkgname|pat]+
\twhatconflicts [-A] [pkgname|pat]+
\twhatreplaces [-A] [pkgname|pat]+

Options:
\t-A\t\t\tQuery all packages not just those installed
\t-V[<level>]\t\tSet verbosity level to <level>.
\t--verbosity[=<level>]\tVerbosity levels:
\t\t\t\t\t0 errors only
\t\t\t\t\t1 normal messages (default)
\t\t\t\t\t2 informative messages
\t\t\t\t\t3 debug
\t\t\t\t\t4 debug level 2
\t-f <conf_file>\t\tUse <conf_file> as the opkg configuration file
\t--conf <conf_file>
\t--cache <directory>\tUse a package cache
\t-d <dest_name>\t\tUse <dest_name> as the the root directory for
\t--dest <dest_name>\tpackage installation, removal, upgrading.
\t\t\t\t<dest_name> should be a defined dest name from
\t\t\t\tthe configuration file, (but can also be a
\t\t\t\tdirectory name in a pinch).
\t-o <dir>\t\tUse <dir> as the root directory for
\t--offline-root <dir>\toffline installation of packages.
\t--add-arch <arch>:<prio>\tRegister architecture with given priority
\t--add-dest <name>:<path>\tRegister destination with given path

Force Options:
\t--force-depends\t\tInstall/remove despite failed dependencies
\t--force-maintainer\tOverwrite preexisting config files
\t--force-reinstall\tReinstall package(s)
\t--force-overwrite\tOverwrite files from other package(s)
\t--force-downgrade\tAllow opkg to downgrade packages
\t--force-space\t\tDisable free space checks
\t--force-postinstall\tRun postinstall scripts even in offline mode
\t--force-remove\tRemove package even if prerm script fails
\t--force-checksum\tDon't fail on checksum mismatches
\t--noaction\t\tNo action -- test only
\t--download-only\tNo action -- download only
\t--nodeps\t\tDo not follow dependencies
\t--nocase\t\tPerform case insensitive pattern matching
\t--size\t\t\tPrint package size when listing available packages
\t--force-removal-of-dependent-packages
\t\t\t\tRemove package and all dependencies
\t--autoremove\t\tRemove packages that were installed
\t\t\t\tautomatically to satisfy dependencies
\t-t\t\t\tSpecify tmp-dir.
\t--tmp-dir\t\tSpecify tmp-dir.
\t-l\t\t\tSpecify lists-dir.
\t--lists-dir\t\tSpecify lists-dir.

 regexp could be something like 'pkgname*' '*file*' or similar
 e.g. opkg info 'libstd*' or opkg search '*libop*' or opkg remove 'libncur*'
`;
