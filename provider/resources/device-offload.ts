import { createHash } from "crypto";
import { deviceOffloadSchema, type DeviceOffloadInputs } from "../../sdk/schemas";
import { emptyChangeSet, isEmpty, type ChangeSet } from "../device/changeset";
import { configDrift, type Drift } from "../device/drift";
import { DEVICE_SECTIONS, liveDevices, readFacts, type DeviceFact, type RouterFacts } from "../device/facts";
import { PreflightError, type Refusal } from "../device/preflight";
import type { GuardedChange } from "../guard";
import { shellCommand } from "../transport";
import { checkInputs, jsonSafe, RECENT_READ_MS, routerId, settingsDiff, shellFor, type RouterConnection } from "./common";
import { previewOnRouter, routerChangesPending } from "./preview";
import { GUARD_INPUT_DEFAULTS, write } from "./write";

/**
 * hw-tc-offload is a runtime driver feature; OpenWrt has no uci option for it, so persistence is an
 * init script that sets it at boot, before the firewall (START=19) probes hardware offload. Its
 * path is among the facts probe's MANAGED_FILES.
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

/** hw-tc-offload per device in words ("hw-tc-offload off on lan3"), as the guard's records say it. */
const hwTcWords = (state: Record<string, boolean>) =>
  Object.entries(state)
    .map(([d, on]) => `hw-tc-offload ${on ? "on" : "off"} on ${d}`)
    .join(", ");

function hwTcChange(description: string, facts: RouterFacts, changes: ChangeSet, want: Record<string, boolean>): GuardedChange {
  return {
    description,
    subject: subjectOf(Object.keys(want)),
    restores: hwTcWords(liveOf(facts.devices, Object.keys(want))),
    sets: hwTcWords(want),
    changes,
    reads: DEVICE_SECTIONS,
    verify: (read) => {
      const live = liveOf(liveDevices(read), Object.keys(want));
      return Object.keys(want).filter((d) => live[d] !== want[d]).map((d) => `hw-tc-offload is ${live[d] ? "on" : "off"} on ${d}`);
    },
    checks: [`hw-tc-offload as asked on ${Object.keys(want).join(", ")}`],
  };
}

/** An init script is tiny; the flash margin is the guard's snapshot's. */
const MIN_FREE_KIB = 16;

const subjectOf = (devices: string[]) => `deviceOffload:${[...devices].sort().join(",")}`;

export interface DeviceOffloadOutputs extends DeviceOffloadInputs {
  /** hw-tc-offload per device as found at create; delete puts it back. */
  original: Record<string, boolean>;
  /** hw-tc-offload per device as the kernel reports it now. */
  live: Record<string, boolean>;
  initScript: string | null;
  drift: Drift[];
  warnings: string[];
  /** What an up would change on the router, as read at the last check (preview). */
  planned: string[];
}

const SETTINGS = ["devices", "hwTcOffload", "persistent", "guard", "confirmTimeoutSeconds", "soakSeconds", "healthChecks"] as const;

function liveOf(devices: DeviceFact[], names: string[]): Record<string, boolean> {
  return Object.fromEntries(names.map((d) => [d, devices.find((x) => x.name === d)?.hwTcOffload ?? false]));
}

function persistence(devices: string[], inputs: { hwTcOffload: boolean; persistent: boolean } | undefined): Pick<ChangeSet, "files" | "links"> {
  const name = initScriptName(devices);
  const keep = inputs?.persistent === true;
  return {
    files: [{ path: `/etc/init.d/${name}`, content: keep ? renderInitScript(devices, inputs.hwTcOffload) : undefined, mode: "executable" }],
    links: [{ path: `/etc/rc.d/S18${name}`, target: keep ? `../init.d/${name}` : undefined }],
  };
}

/** The boot script as the router has it (null: absent). */
const scriptOf = (facts: RouterFacts, devices: string[]) => facts.files[`/etc/init.d/${initScriptName(devices)}`] ?? null;

/** What bringing the devices to `inputs` takes, and what refuses it, from the router's facts. */
function planFor(facts: RouterFacts, inputs: DeviceOffloadInputs, old?: DeviceOffloadOutputs) {
  const refusals: Refusal[] = [];
  if (!facts.ethtool) {
    refusals.push({ property: "", message: 'ethtool is not installed (OpenWrt images do not ship it): add an OffloadPackages resource with packages: ["ethtool"] and make this one depend on it' });
  }
  const known = new Set(facts.devices.map((d) => d.name));
  const unknown = inputs.devices.filter((d) => !known.has(d));
  if (unknown.length > 0) refusals.push({ property: "devices", message: `no such device(s): ${unknown.join(", ")} (the router has ${[...known].join(", ")})` });
  const live = liveOf(facts.devices, inputs.devices);
  const script = inputs.persistent ? renderInitScript(inputs.devices, inputs.hwTcOffload) : null;
  const cs: ChangeSet = {
    ...emptyChangeSet(),
    hwTc: inputs.devices.filter((d) => live[d] !== inputs.hwTcOffload).map((device) => ({ device, on: inputs.hwTcOffload })),
    ...(scriptOf(facts, inputs.devices) !== script ? persistence(inputs.devices, inputs) : { files: [], links: [] }),
    // fw4 decides `flags offload` from the devices' hw-tc-offload at each load.
    reloadFirewall: facts.offload.config.flowOffloadingHw,
  };
  if (old && initScriptName(old.devices) !== initScriptName(inputs.devices)) {
    const stale = persistence(old.devices, undefined);
    cs.files.push(...stale.files);
    cs.links.push(...stale.links);
  }
  const noop = isEmpty(cs);
  const planned = [
    ...cs.hwTc.map((h) => `hw-tc-offload ${live[h.device] ? "on" : "off"} → ${h.on ? "on" : "off"} on ${h.device}`),
    ...cs.files.map((f) => `${f.content === undefined ? "remove" : "write"} ${f.path}`),
  ];
  return { cs, noop, refusals, warnings: [], planned, ...(noop ? {} : { write: { changes: cs, minFreeKiB: MIN_FREE_KIB } }) };
}

async function apply(inputs: DeviceOffloadInputs, old?: DeviceOffloadOutputs): Promise<DeviceOffloadOutputs> {
  const shell = shellFor(inputs.connection);
  const facts = await readFacts(shell, { recent: RECENT_READ_MS });
  const plan = planFor(facts, inputs, old);
  if (plan.refusals.length > 0) throw new PreflightError(shell.router, plan.refusals);
  const original = { ...liveOf(facts.devices, inputs.devices), ...(old?.original ?? {}) };
  const want = Object.fromEntries(inputs.devices.map((d) => [d, inputs.hwTcOffload]));
  const after = plan.noop
    ? facts.devices
    : liveDevices(await write(shell, facts, inputs, MIN_FREE_KIB, hwTcChange(`DeviceOffload: hw-tc-offload ${inputs.hwTcOffload ? "on" : "off"} on ${inputs.devices.join(", ")}`, facts, plan.cs, want)));
  const initScript = inputs.persistent ? renderInitScript(inputs.devices, inputs.hwTcOffload) : null;
  return jsonSafe({ ...inputs, original, live: liveOf(after, inputs.devices), initScript, drift: [], warnings: [], planned: [] });
}

export const deviceOffloadProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    const checked = checkInputs(deviceOffloadSchema, news, { withConnection: true });
    if (checked.failures.length > 0) return checked;
    const inputs = checked.inputs as unknown as DeviceOffloadInputs;
    const preview = await previewOnRouter(inputs.connection, (facts) => planFor(facts, inputs));
    return { inputs: { ...checked.inputs, warnings: preview.warnings, planned: preview.planned, planId: preview.planId }, failures: preview.failures };
  },

  async diff(_id: string, olds: DeviceOffloadOutputs, news: DeviceOffloadInputs & { planned?: string[]; planId?: string }) {
    const diff = settingsDiff(olds, news, SETTINGS);
    return { ...diff, changes: diff.changes || routerChangesPending(olds, news) };
  },

  async create(inputs: DeviceOffloadInputs) {
    return { id: `${routerId(inputs.connection)}/hw-tc-offload/${[...inputs.devices].sort().join(",")}`, outs: await apply(inputs) };
  },

  /** Also the path of `.get()`, where props hold only what the program passed. */
  async read(id: string, props: Partial<Omit<DeviceOffloadOutputs, "connection">> & { connection: RouterConnection }) {
    const devices = props.devices ?? id.slice(id.lastIndexOf("/") + 1).split(",");
    const facts = await readFacts(shellFor(props.connection as RouterConnection));
    const live = liveOf(facts.devices, devices);
    const script = scriptOf(facts, devices);
    if (props.original === undefined) {
      // DeviceOffload.get: adopt the devices as they are now.
      const hwTcOffload = props.hwTcOffload ?? devices.every((d) => live[d]);
      return {
        id,
        props: jsonSafe({ persistent: script !== null, ...GUARD_INPUT_DEFAULTS, ...props, devices, hwTcOffload, original: live, live, initScript: script, drift: [], warnings: [], planned: [] }),
      };
    }
    const drift: Drift[] = [];
    if (script !== props.initScript) {
      drift.push(
        configDrift(facts, subjectOf(devices), `the boot script /etc/init.d/${initScriptName(devices)} was ${script === null ? "removed" : "changed"}`, {
          managed: true,
          holds: hwTcWords(live),
        }),
      );
    }
    const wrong = devices.filter((d) => live[d] !== props.hwTcOffload);
    if (wrong.length > 0) drift.push({ class: "runtime-mismatch", detail: `hw-tc-offload is ${props.hwTcOffload ? "off" : "on"} on ${wrong.join(", ")} (set by hand, or the driver reset it)` });
    return { id, props: jsonSafe({ ...props, live, drift, planned: [] }) };
  },

  async update(_id: string, olds: DeviceOffloadOutputs, news: DeviceOffloadInputs) {
    return { outs: await apply(news, olds) };
  },

  /** Puts hw-tc-offload back as found and removes the boot script. */
  async delete(_id: string, props: DeviceOffloadOutputs): Promise<void> {
    const shell = shellFor(props.connection as RouterConnection);
    const facts = await readFacts(shell, { recent: RECENT_READ_MS });
    const live = liveOf(facts.devices, props.devices);
    const cs: ChangeSet = {
      ...emptyChangeSet(),
      hwTc: props.devices.filter((d) => props.original[d] !== undefined && live[d] !== props.original[d]).map((device) => ({ device, on: props.original[device] })),
      ...(scriptOf(facts, props.devices) !== null ? persistence(props.devices, undefined) : { files: [], links: [] }),
      reloadFirewall: facts.offload.config.flowOffloadingHw,
    };
    if (isEmpty(cs)) return;
    await write(shell, facts, props, 0, hwTcChange(`DeviceOffload: restore hw-tc-offload on ${props.devices.join(", ")}`, facts, cs, props.original));
  },
};
