import { offloadPackagesSchema, type OffloadPackagesInputs } from "../../sdk/schemas";
import { emptyChangeSet } from "../device/changeset";
import type { Drift } from "../device/drift";
import { installedVersions, liveModules, livePackages, MODULE_SECTIONS, PACKAGE_SECTIONS, PackagesUnreadableError, readFacts, type RouterFacts } from "../device/facts";
import { PreflightError, type Refusal } from "../device/preflight";
import type { RouterShell } from "../device/shell";
import { shellCommand } from "../transport";
import { checkInputs, jsonSafe, RECENT_READ_MS, routerId, settingsDiff, shellFor, type RouterConnection } from "./common";
import { previewOnRouter, routerChangesPending } from "./preview";
import { GUARD_INPUT_DEFAULTS, write } from "./write";

export interface OffloadPackagesOutputs extends OffloadPackagesInputs {
  /** Installed version of each wanted package (absent = not installed). */
  installed: Record<string, string>;
  /** What this resource installed itself: the only packages delete may remove. */
  installedByUs: string[];
  /** Flow offload kernel modules loaded after the install. */
  modules: string[];
  drift: Drift[];
  warnings: string[];
  /** What an up would change on the router, as read at the last check (preview). */
  planned: string[];
}

const SETTINGS = ["packages", "minFreeKiB", "removeOnDelete", "halted", "guard", "confirmTimeoutSeconds", "soakSeconds", "healthChecks"] as const;
const SUBJECT = "offloadPackages";

/** What is installed of `packages`; an unreadable package list is an error, never "not installed". `recent`: see RouterShell.read. */
async function inspect(shell: RouterShell, packages: string[], recent: number): Promise<{ facts: RouterFacts; installed: Record<string, string> }> {
  const facts = await readFacts(shell, { recent });
  if (facts.packagesError) throw new PackagesUnreadableError(shell.router, facts.packagesError);
  return { facts, installed: installedVersions(facts.packageList, packages) };
}

/** What a package change's verification reads: the listing, and the modules the outputs show. */
const READS = [...PACKAGE_SECTIONS, ...MODULE_SECTIONS];

function installCommand(facts: RouterFacts, names: string[]): string {
  // opkg needs fresh lists before an install; apk refreshes its index itself.
  return facts.packageManager === "apk"
    ? shellCommand(["apk", "add", ...names])
    : `opkg update >/dev/null 2>&1; ${shellCommand(["opkg", "install", ...names])}`;
}

function removeCommand(facts: RouterFacts, names: string[]): string {
  return facts.packageManager === "apk" ? shellCommand(["apk", "del", ...names]) : shellCommand(["opkg", "remove", ...names]);
}

function missingDrift(missing: string[]): Drift[] {
  return missing.map((p) => ({ class: "missing-package", detail: `${p} is not installed` }));
}

/** What is missing, and whether the flash allows installing it. */
function planFor(facts: RouterFacts, installed: Record<string, string>, inputs: OffloadPackagesInputs): { missing: string[]; refusals: Refusal[]; planned: string[] } {
  const missing = inputs.packages.filter((p) => !(p in installed));
  const free = facts.overlay?.availKiB;
  // The guard's own write path refuses only a nearly full overlay; this margin is the packages'.
  const refusals =
    missing.length > 0 && free !== undefined && free < inputs.minFreeKiB
      ? [
          {
            property: "minFreeKiB",
            message: `only ${free} KiB free on the overlay, below minFreeKiB (${inputs.minFreeKiB} KiB); installing ${missing.join(", ")} could fill the flash. Free space or lower minFreeKiB`,
          },
        ]
      : [];
  return { missing, refusals, planned: missing.length > 0 ? [`install ${missing.join(", ")} (${facts.packageManager})`] : [] };
}

async function ensure(inputs: OffloadPackagesInputs, alreadyOurs: string[] = []): Promise<OffloadPackagesOutputs> {
  const shell = shellFor(inputs.connection);
  const before = await inspect(shell, inputs.packages, RECENT_READ_MS);
  const { facts, installed } = before;
  const { missing, refusals } = planFor(facts, installed, inputs);
  // Its fleet wave was halted: nothing is installed, and the outputs say what is missing.
  if (inputs.halted) return jsonSafe({ ...inputs, installed, installedByUs: alreadyOurs.filter((p) => p in installed), modules: facts.offload.runtime.modules, drift: missingDrift(missing), warnings: [], planned: [] });
  if (refusals.length > 0) throw new PreflightError(shell.router, refusals);
  let after = { installed, modules: facts.offload.runtime.modules };
  if (missing.length > 0) {
    const confirmed = await write(shell, facts, inputs, 0, {
      description: `OffloadPackages: install ${missing.join(", ")}`,
      restores: `${missing.join(", ")} not installed`,
      subject: SUBJECT,
      sets: `${missing.join(", ")} installed`,
      changes: { ...emptyChangeSet(), commands: [installCommand(facts, missing)] },
      // A restore removes what this change installed.
      installsPackages: missing,
      reads: READS,
      verify: (read) => {
        const now = livePackages(read);
        if (now.error) return [`the installed packages could not be read back (${now.error})`];
        const versions = installedVersions(now.list, inputs.packages);
        return inputs.packages.filter((p) => !(p in versions)).map((p) => `${p} is not installed`);
      },
      checks: [`${inputs.packages.join(", ")} installed`],
    });
    after = { installed: installedVersions(livePackages(confirmed).list, inputs.packages), modules: liveModules(confirmed) };
  }
  const installedByUs = [...new Set([...alreadyOurs.filter((p) => inputs.packages.includes(p)), ...missing])];
  return jsonSafe({ ...inputs, installed: after.installed, installedByUs, modules: after.modules, drift: [], warnings: [], planned: [] });
}

export const offloadPackagesProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    const checked = checkInputs(offloadPackagesSchema, news, { withConnection: true });
    if (checked.failures.length > 0) return checked;
    const inputs = checked.inputs as unknown as OffloadPackagesInputs;
    const preview = await previewOnRouter(inputs.connection, (facts) => {
      if (facts.packagesError) return { refusals: [], warnings: [`not checked at preview: the installed packages could not be read (${facts.packagesError})`], planned: [] };
      return { ...planFor(facts, installedVersions(facts.packageList, inputs.packages), inputs), warnings: [] };
    });
    return { inputs: { ...checked.inputs, warnings: preview.warnings, planned: preview.planned, planId: preview.planId }, failures: preview.failures };
  },

  async diff(_id: string, olds: OffloadPackagesOutputs, news: OffloadPackagesInputs & { planned?: string[]; planId?: string }) {
    const diff = settingsDiff(olds, news, SETTINGS);
    return { ...diff, changes: diff.changes || routerChangesPending(olds, news) };
  },

  async create(inputs: OffloadPackagesInputs) {
    return { id: `${routerId(inputs.connection)}/packages`, outs: await ensure(inputs) };
  },

  /** Also the path of `.get()`, where props hold only what the program passed. */
  async read(id: string, props: Partial<Omit<OffloadPackagesOutputs, "connection">> & { connection: RouterConnection }) {
    // OffloadPackages.get passes only what the program gave: fill in the defaults check would have.
    const inputs = { packages: ["kmod-nft-offload"], minFreeKiB: 256, removeOnDelete: false, halted: "", installedByUs: [], warnings: [], ...GUARD_INPUT_DEFAULTS, ...props };
    const { facts, installed } = await inspect(shellFor(props.connection as RouterConnection), inputs.packages, 0);
    const missing = inputs.packages.filter((p) => !(p in installed));
    return { id, props: jsonSafe({ ...inputs, installed, modules: facts.offload.runtime.modules, drift: missingDrift(missing), planned: [] }) };
  },

  async update(_id: string, olds: OffloadPackagesOutputs, news: OffloadPackagesInputs) {
    return { outs: await ensure(news, olds.installedByUs) };
  },

  async delete(_id: string, props: OffloadPackagesOutputs): Promise<void> {
    if (!props.removeOnDelete || props.installedByUs.length === 0) return;
    const shell = shellFor(props.connection as RouterConnection);
    const { facts, installed } = await inspect(shell, props.installedByUs, RECENT_READ_MS);
    const ours = props.installedByUs.filter((p) => p in installed);
    if (ours.length === 0) return;
    await write(shell, facts, props, 0, {
      description: `OffloadPackages: remove ${ours.join(", ")}`,
      restores: `${ours.join(", ")} installed`,
      subject: SUBJECT,
      sets: `${ours.join(", ")} not installed`,
      removesPackages: ours,
      changes: { ...emptyChangeSet(), commands: [removeCommand(facts, ours)] },
      reads: READS,
      verify: (read) => {
        const now = livePackages(read);
        return now.error ? [`the installed packages could not be read back (${now.error})`] : Object.keys(installedVersions(now.list, ours)).map((p) => `${p} is still installed`);
      },
      checks: [`${ours.join(", ")} removed`],
    });
  },
};
