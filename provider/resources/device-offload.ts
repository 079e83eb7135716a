import { createHash } from "crypto";
import { deviceOffloadSchema, type DeviceOffloadInputs } from "../../sdk/schemas";
import { emptyChangeSet, type ChangeSet } from "../device/changeset";
import type { Drift } from "../device/drift";
import { readFactsWith, type RouterFacts } from "../device/facts";
import { PreflightError } from "../device/preflight";
import type { GuardedChange } from "../guard";
import { shellCommand, shellQuote } from "../transport";
import { checkInputs, jsonSafe, routerId, settingsDiff, shellFor, type RouterConnection } from "./common";
import { GUARD_INPUT_DEFAULTS, write } from "./write";

/**
 * hw-tc-offload is a runtime driver feature; OpenWrt has no uci option for it, so persistence is an
 * init script that sets it at boot, before the firewall (START=19) probes hardware offload.
 */
export function initScriptName(devices: string[]): string {
  return `offload-hwtc-${createHash("sha256").update([...devices].sort().join(",")).digest("hex").slice(0, 8)}`;
}

export function renderInitScript(devices: string[], on: boolean): string {
  return [
    "#!/bin/sh /etc/rc.common",
    "# Managed by pulumi-openwrt-offload (DeviceOffload): sets hw-tc-offload before the firewall starts.",
    "START=18",
    "",
    "boot() {",
    "\tstart",
    "}",
    "",
    "start() {",
    ...devices.map((d) => `\t${shellCommand(["ethtool", "-K", d, "hw-tc-offload", on ? "on" : "off"])}`),
    "}",
    "",
  ].join("\n");
}

function hwTcChange(description: string, facts: RouterFacts, changes: ChangeSet, want: Record<string, boolean>): GuardedChange {
  const now = liveOf(facts, Object.keys(want));
  return {
    description,
    restores: Object.entries(now)
      .map(([d, on]) => `hw-tc-offload ${on ? "on" : "off"} on ${d}`)
      .join(", "),
    changes,
    verify: (facts) => {
      const live = liveOf(facts, Object.keys(want));
      return Object.keys(want).filter((d) => live[d] !== want[d]).map((d) => `hw-tc-offload is ${live[d] ? "on" : "off"} on ${d}`);
    },
    checks: [`hw-tc-offload as asked on ${Object.keys(want).join(", ")}`],
  };
}

export interface DeviceOffloadOutputs extends DeviceOffloadInputs {
  /** hw-tc-offload per device as found at create; delete puts it back. */
  original: Record<string, boolean>;
  /** hw-tc-offload per device as the kernel reports it now. */
  live: Record<string, boolean>;
  initScript: string | null;
  drift: Drift[];
}

const SETTINGS = ["devices", "hwTcOffload", "persistent", "guard", "confirmTimeoutSeconds", "soakSeconds", "healthChecks"] as const;

function liveOf(facts: RouterFacts, devices: string[]): Record<string, boolean> {
  return Object.fromEntries(devices.map((d) => [d, facts.devices.find((x) => x.name === d)?.hwTcOffload ?? false]));
}

function extra(devices: string[]) {
  return { ethtool: "command -v ethtool", script: `cat ${shellQuote(`/etc/init.d/${initScriptName(devices)}`)}` };
}

function persistence(devices: string[], inputs: { hwTcOffload: boolean; persistent: boolean } | undefined): Pick<ChangeSet, "files" | "links"> {
  const name = initScriptName(devices);
  const keep = inputs?.persistent === true;
  return {
    files: [{ path: `/etc/init.d/${name}`, content: keep ? renderInitScript(devices, inputs.hwTcOffload) : undefined, mode: "executable" }],
    links: [{ path: `/etc/rc.d/S18${name}`, target: keep ? `../init.d/${name}` : undefined }],
  };
}

async function apply(inputs: DeviceOffloadInputs, old?: DeviceOffloadOutputs): Promise<DeviceOffloadOutputs> {
  const shell = shellFor(inputs.connection);
  const { facts, extra: found } = await readFactsWith(shell, extra(inputs.devices));
  const errors: string[] = [];
  if (found.ethtool.rc !== 0) errors.push('ethtool is not installed (OpenWrt images do not ship it): add an OffloadPackages resource with packages: ["ethtool"] and make this one depend on it');
  const known = new Set(facts.devices.map((d) => d.name));
  const unknown = inputs.devices.filter((d) => !known.has(d));
  if (unknown.length > 0) errors.push(`no such device(s): ${unknown.join(", ")} (the router has ${[...known].join(", ")})`);
  if (errors.length > 0) throw new PreflightError(shell.router, errors);

  const live = liveOf(facts, inputs.devices);
  const original = { ...liveOf(facts, inputs.devices), ...(old?.original ?? {}) };
  const cs: ChangeSet = {
    ...emptyChangeSet(),
    hwTc: inputs.devices.filter((d) => live[d] !== inputs.hwTcOffload).map((device) => ({ device, on: inputs.hwTcOffload })),
    ...persistence(inputs.devices, inputs),
    // fw4 decides `flags offload` from the devices' hw-tc-offload at each load.
    reloadFirewall: facts.offload.config.flowOffloadingHw,
  };
  if (old && initScriptName(old.devices) !== initScriptName(inputs.devices)) {
    const stale = persistence(old.devices, undefined);
    cs.files.push(...stale.files);
    cs.links.push(...stale.links);
  }
  const after = await write(shell, facts, inputs, 16, hwTcChange(`DeviceOffload: hw-tc-offload ${inputs.hwTcOffload ? "on" : "off"} on ${inputs.devices.join(", ")}`, facts, cs, Object.fromEntries(inputs.devices.map((d) => [d, inputs.hwTcOffload]))));
  const now = liveOf(after, inputs.devices);
  return jsonSafe({ ...inputs, original, live: now, initScript: inputs.persistent ? renderInitScript(inputs.devices, inputs.hwTcOffload) : null, drift: [] });
}

export const deviceOffloadProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    return checkInputs(deviceOffloadSchema, news, { withConnection: true });
  },

  async diff(_id: string, olds: DeviceOffloadOutputs, news: DeviceOffloadInputs) {
    return settingsDiff(olds, news, SETTINGS);
  },

  async create(inputs: DeviceOffloadInputs) {
    return { id: `${routerId(inputs.connection)}/hw-tc-offload/${[...inputs.devices].sort().join(",")}`, outs: await apply(inputs) };
  },

  /** Also the path of `.get()`, where props hold only what the program passed. */
  async read(id: string, props: Partial<Omit<DeviceOffloadOutputs, "connection">> & { connection: RouterConnection }) {
    const devices = props.devices ?? id.slice(id.lastIndexOf("/") + 1).split(",");
    const { facts, extra: found } = await readFactsWith(shellFor(props.connection as RouterConnection), extra(devices));
    const live = liveOf(facts, devices);
    if (props.original === undefined) {
      // DeviceOffload.get: adopt the devices as they are now.
      const script = found.script.rc === 0 ? `${found.script.out}\n` : null;
      const hwTcOffload = props.hwTcOffload ?? devices.every((d) => live[d]);
      return { id, props: jsonSafe({ persistent: script !== null, ...GUARD_INPUT_DEFAULTS, ...props, devices, hwTcOffload, original: live, live, initScript: script, drift: [] }) };
    }
    const drift: Drift[] = [];
    const wrong = devices.filter((d) => live[d] !== props.hwTcOffload);
    if (wrong.length > 0) drift.push({ class: "runtime-fallback", detail: `hw-tc-offload is ${props.hwTcOffload ? "off" : "on"} on ${wrong.join(", ")}` });
    const script = found.script.rc === 0 ? `${found.script.out}\n` : null;
    if (script !== props.initScript) drift.push({ class: "local-edit", detail: `the boot script /etc/init.d/${initScriptName(devices)} was ${script === null ? "removed" : "edited"}` });
    return { id, props: jsonSafe({ ...props, live, drift }) };
  },

  async update(_id: string, olds: DeviceOffloadOutputs, news: DeviceOffloadInputs) {
    return { outs: await apply(news, olds) };
  },

  /** Puts hw-tc-offload back as found and removes the boot script. */
  async delete(_id: string, props: DeviceOffloadOutputs): Promise<void> {
    const shell = shellFor(props.connection as RouterConnection);
    const { facts } = await readFactsWith(shell, {});
    const live = liveOf(facts, props.devices);
    const cs: ChangeSet = {
      ...emptyChangeSet(),
      hwTc: props.devices.filter((d) => props.original[d] !== undefined && live[d] !== props.original[d]).map((device) => ({ device, on: props.original[device] })),
      ...persistence(props.devices, undefined),
      reloadFirewall: facts.offload.config.flowOffloadingHw,
    };
    await write(shell, facts, props, 0, hwTcChange(`DeviceOffload: restore hw-tc-offload on ${props.devices.join(", ")}`, facts, cs, props.original));
  },
};
