import { offloadPackagesSchema, type OffloadPackagesInputs } from "../../sdk/schemas";
import type { Drift } from "../device/drift";
import { readFactsWith, type RouterFacts } from "../device/facts";
import { parseInstalledPackages } from "../device/parse/system";
import { PreflightError } from "../device/preflight";
import type { RouterShell } from "../device/shell";
import { shellCommand } from "../transport";
import { changedKeys, checkInputs, jsonSafe, routerId, routerIdentityChanged, shellFor, type RouterConnection } from "./common";

export interface OffloadPackagesOutputs extends OffloadPackagesInputs {
  /** Installed version of each wanted package (absent = not installed). */
  installed: Record<string, string>;
  /** What this resource installed itself: the only packages delete may remove. */
  installedByUs: string[];
  /** Flow offload kernel modules loaded after the install. */
  modules: string[];
  drift: Drift[];
}

const SETTINGS = ["packages", "minFreeKiB", "removeOnDelete"] as const;
const LIST_INSTALLED = "if command -v apk >/dev/null; then apk list --installed; else opkg list-installed; fi";

async function inspect(shell: RouterShell, packages: string[]): Promise<{ facts: RouterFacts; installed: Record<string, string> }> {
  const { facts, extra } = await readFactsWith(shell, { installed: LIST_INSTALLED });
  return { facts, installed: parseInstalledPackages(extra.installed.out, packages) };
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
  const { facts, installed } = await inspect(shell, inputs.packages);
  const missing = inputs.packages.filter((p) => !(p in installed));
  if (missing.length > 0) {
    const free = facts.overlay?.availKiB;
    if (free !== undefined && free < inputs.minFreeKiB) {
      throw new PreflightError(shell.router, [
        `only ${free} KiB free on the overlay, below minFreeKiB (${inputs.minFreeKiB} KiB); installing ${missing.join(", ")} could fill the flash. Free space or lower minFreeKiB`,
      ]);
    }
    const result = await shell.run(installCommand(facts, missing), { purpose: `install ${missing.join(", ")}`, okExitCodes: "any" });
    if (result.code !== 0) {
      throw new Error(`${shell.router}: ${facts.packageManager} could not install ${missing.join(", ")} (exit ${result.code}): ${(result.stdout + result.stderr).trim().slice(-800)}`);
    }
  }
  const after = await inspect(shell, inputs.packages);
  const stillMissing = inputs.packages.filter((p) => !(p in after.installed));
  if (stillMissing.length > 0) throw new Error(`${shell.router}: ${stillMissing.join(", ")} still not installed after the install reported success`);
  const installedByUs = [...new Set([...alreadyOurs.filter((p) => inputs.packages.includes(p)), ...missing])];
  return jsonSafe({ ...inputs, installed: after.installed, installedByUs, modules: after.facts.offload.runtime.modules, drift: [] });
}

export const offloadPackagesProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    return checkInputs(offloadPackagesSchema, news, { withConnection: true });
  },

  async diff(_id: string, olds: OffloadPackagesOutputs, news: OffloadPackagesInputs) {
    if (routerIdentityChanged(olds, news)) return { changes: true, replaces: ["connection"], deleteBeforeReplace: true };
    const changed = changedKeys({ ...olds }, { ...news }, SETTINGS);
    return { changes: changed.length > 0 || (olds.drift ?? []).length > 0, replaces: [], deleteBeforeReplace: true };
  },

  async create(inputs: OffloadPackagesInputs) {
    return { id: `${routerId(inputs.connection)}/packages`, outs: await ensure(inputs) };
  },

  /** Also the path of `.get()`, where props hold only what the program passed. */
  async read(id: string, props: Partial<Omit<OffloadPackagesOutputs, "connection">> & { connection: RouterConnection }) {
    // OffloadPackages.get passes only what the program gave: fill in the defaults check would have.
    const inputs = { packages: ["kmod-nft-offload"], minFreeKiB: 256, removeOnDelete: false, installedByUs: [], ...props };
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
    const { facts } = await readFactsWith(shell, {});
    await shell.run(removeCommand(facts, props.installedByUs), { purpose: `remove ${props.installedByUs.join(", ")}` });
  },
};
