import { offloadPackagesSchema, type OffloadPackagesInputs } from "../../sdk/schemas";
import type { Drift } from "../device/drift";
import { installedVersions, PackagesUnreadableError, readFacts, type RouterFacts } from "../device/facts";
import { PreflightError } from "../device/preflight";
import type { RouterShell } from "../device/shell";
import { shellCommand } from "../transport";
import { emptyChangeSet } from "../device/changeset";
import { GUARD_INPUT_DEFAULTS, write } from "./write";
import { checkInputs, jsonSafe, routerId, settingsDiff, shellFor, type RouterConnection } from "./common";

export interface OffloadPackagesOutputs extends OffloadPackagesInputs {
  /** Installed version of each wanted package (absent = not installed). */
  installed: Record<string, string>;
  /** What this resource installed itself: the only packages delete may remove. */
  installedByUs: string[];
  /** Flow offload kernel modules loaded after the install. */
  modules: string[];
  drift: Drift[];
}

const SETTINGS = ["packages", "minFreeKiB", "removeOnDelete", "guard", "confirmTimeoutSeconds", "soakSeconds", "healthChecks"] as const;
/** What is installed of `packages`; an unreadable package list is an error, never "not installed". */
async function inspect(shell: RouterShell, packages: string[]): Promise<{ facts: RouterFacts; installed: Record<string, string> }> {
  const facts = await readFacts(shell);
  if (facts.packagesError) throw new PackagesUnreadableError(shell.router, facts.packagesError);
  return { facts, installed: installedVersions(facts, packages) };
}

function installCommand(facts: RouterFacts, names: string[]): string {
  // opkg needs fresh lists before an install; apk refreshes its index itself.
  return facts.packageManager === "apk"
    ? shellCommand(["apk", "add", ...names])
    : `opkg update >/dev/null 2>&1; ${shellCommand(["opkg", "install", ...names])}`;
}

function removeCommand(facts: RouterFacts, names: string[]): string {
  return facts.packageManager === "apk" ? shellCommand(["apk", "del", ...names]) : shellCommand(["opkg", "remove", ...names]);
}

async function ensure(inputs: OffloadPackagesInputs, alreadyOurs: string[] = []): Promise<OffloadPackagesOutputs> {
  const shell = shellFor(inputs.connection);
  const before = await inspect(shell, inputs.packages);
  const { facts, installed } = before;
  const missing = inputs.packages.filter((p) => !(p in installed));
  if (missing.length > 0) {
    const free = facts.overlay?.availKiB;
    // Before anything: the guard's own write path refuses only a nearly full overlay; this margin is the package's.
    if (free !== undefined && free < inputs.minFreeKiB) {
      throw new PreflightError(shell.router, [
        `only ${free} KiB free on the overlay, below minFreeKiB (${inputs.minFreeKiB} KiB); installing ${missing.join(", ")} could fill the flash. Free space or lower minFreeKiB`,
      ]);
    }
    await write(shell, facts, inputs, 0, {
      description: `OffloadPackages: install ${missing.join(", ")}`,
      restores: `${missing.join(", ")} not installed`,
      changes: { ...emptyChangeSet(), commands: [installCommand(facts, missing)] },
      // A restore removes what this change installed.
      installsPackages: missing,
      verify: (after) => {
        if (after.packagesError) return [`the installed packages could not be read back (${after.packagesError})`];
        const now = installedVersions(after, inputs.packages);
        return inputs.packages.filter((p) => !(p in now)).map((p) => `${p} is not installed`);
      },
      checks: [`${inputs.packages.join(", ")} installed`],
    });
  }
  // Nothing installed: the first read is still the truth, no need for a second exec.
  const after = missing.length > 0 ? await inspect(shell, inputs.packages) : before;
  const installedByUs = [...new Set([...alreadyOurs.filter((p) => inputs.packages.includes(p)), ...missing])];
  return jsonSafe({ ...inputs, installed: after.installed, installedByUs, modules: after.facts.offload.runtime.modules, drift: [] });
}

export const offloadPackagesProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    return checkInputs(offloadPackagesSchema, news, { withConnection: true });
  },

  async diff(_id: string, olds: OffloadPackagesOutputs, news: OffloadPackagesInputs) {
    return settingsDiff(olds, news, SETTINGS);
  },

  async create(inputs: OffloadPackagesInputs) {
    return { id: `${routerId(inputs.connection)}/packages`, outs: await ensure(inputs) };
  },

  /** Also the path of `.get()`, where props hold only what the program passed. */
  async read(id: string, props: Partial<Omit<OffloadPackagesOutputs, "connection">> & { connection: RouterConnection }) {
    // OffloadPackages.get passes only what the program gave: fill in the defaults check would have.
    const inputs = { packages: ["kmod-nft-offload"], minFreeKiB: 256, removeOnDelete: false, installedByUs: [], ...GUARD_INPUT_DEFAULTS, ...props };
    const { facts, installed } = await inspect(shellFor(props.connection as RouterConnection), inputs.packages);
    const missing = inputs.packages.filter((p) => !(p in installed));
    const drift: Drift[] = missing.map((p) => ({ class: "missing-package", detail: `${p} is not installed` }));
    return { id, props: jsonSafe({ ...inputs, installed, modules: facts.offload.runtime.modules, drift }) };
  },

  async update(_id: string, olds: OffloadPackagesOutputs, news: OffloadPackagesInputs) {
    return { outs: await ensure(news, olds.installedByUs) };
  },

  async delete(_id: string, props: OffloadPackagesOutputs): Promise<void> {
    if (!props.removeOnDelete || props.installedByUs.length === 0) return;
    const shell = shellFor(props.connection as RouterConnection);
    const facts = await readFacts(shell);
    const ours = props.installedByUs;
    await write(shell, facts, props, 0, {
      description: `OffloadPackages: remove ${ours.join(", ")}`,
      restores: `${ours.join(", ")} installed`,
      removesPackages: ours,
      changes: { ...emptyChangeSet(), commands: [removeCommand(facts, ours)] },
      verify: (after) =>
        after.packagesError
          ? [`the installed packages could not be read back (${after.packagesError})`]
          : Object.keys(installedVersions(after, ours)).map((p) => `${p} is still installed`),
      checks: [`${ours.join(", ")} removed`],
    });
  },
};
