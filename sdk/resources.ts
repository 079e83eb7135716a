import * as pulumi from "@pulumi/pulumi";
import { lintOpenWrtShell } from "../openwrt/shell-lint";
import type { DeviceOffloadUserInputs, FirewallDefaultsUserInputs, FlowtableUserInputs, LastApply, OffloadPackagesUserInputs } from "./schemas";
import { shim } from "./shim";
import { placeholders, withSecretOutputs, type Drift, type Inputs, type RouterConnection, type RouterRef } from "./types";

/** A resource's arguments: its schema's input type (defaults make fields optional), with `router` for `connection`. */
type Args<T> = Inputs<Omit<T, "connection">> & {
  /** The router to act on: a Router resource (or anything with its `connection`). */
  router: RouterRef;
};

function inputsOf(args: { router: RouterRef }): Record<string, unknown> {
  const { router, ...rest } = args;
  return { ...rest, connection: router.connection };
}

// The connection carries credentials; its echo in the outputs stays secret.
const SECRET = ["connection"];

type HealthChecks = FirewallDefaultsArgs["healthChecks"];

/**
 * A health check that calls something a stock OpenWrt router lacks (`timeout`, `sleep 0.5`, …)
 * fails there, and the guard then restores every change: said in Pulumi's log, on the resource, as
 * soon as the command is known (at preview).
 */
/**
 * What the provider found worth a warning (an old kernel, SQM bypassed, a router that could not be
 * read at preview) goes to Pulumi's log on the resource: at preview from `check`, at up from the apply.
 */
function logWarnings(resource: pulumi.Resource & { warnings: pulumi.Output<string[]> }): void {
  resource.warnings.apply((warnings) => {
    // Under pulumi.runtime.setMocks an output is whatever the mocks return.
    for (const warning of Array.isArray(warnings) ? warnings : []) pulumi.log.warn(String(warning), resource);
  });
}

function warnAboutHealthChecks(checks: HealthChecks, resource: pulumi.Resource): void {
  if (checks === undefined) return;
  pulumi.output(checks).apply((list) => {
    for (const check of list ?? []) {
      const findings = lintOpenWrtShell(check.command);
      if (findings.length === 0) continue;
      pulumi.log.warn(
        `health check "${check.name}": ${findings.map((f) => f.problem).join("; ")}. On a stock OpenWrt router it would fail, ` +
          "and the guard would restore every change; use what OpenWrt has (e.g. `ping -c 1 -W 2 HOST`, whole-second `sleep`).",
        resource,
      );
    }
  });
}

export type FirewallDefaultsArgs = Args<FirewallDefaultsUserInputs>;

/**
 * firewall4/firewall3's `flow_offloading` and `flow_offloading_hw`. Adopts the router's defaults
 * section (recording the original values, which delete puts back) and reads back what the kernel
 * runs, so refresh shows drift: a LuCI edit, a hardware-to-software fallback, staged changes.
 */
export class FirewallDefaults extends pulumi.dynamic.Resource {
  declare readonly flowOffloading: pulumi.Output<boolean>;
  declare readonly flowOffloadingHw: pulumi.Output<boolean>;
  declare readonly declared: pulumi.Output<{ flowOffloading: boolean; flowOffloadingHw: boolean }>;
  declare readonly original: pulumi.Output<{ flow_offloading?: string; flow_offloading_hw?: string }>;
  declare readonly runtime: pulumi.Output<{
    mode: "off" | "software" | "hardware";
    flowtable: { devices: string[]; hwOffload: boolean; counter: boolean } | null;
    offloadedFlows: number;
    hwOffloadedFlows: number;
  }>;
  declare readonly drift: pulumi.Output<Drift[]>;
  declare readonly warnings: pulumi.Output<string[]>;
  /** What an up changes on the router, as the last preview read it (e.g. `firewall.@defaults[0].flow_offloading: "0" → "1"`). */
  declare readonly planned: pulumi.Output<string[]>;
  declare readonly lastApply: pulumi.Output<LastApply>;
  declare readonly connection: pulumi.Output<RouterConnection>;

  constructor(name: string, args: FirewallDefaultsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      shim("firewallDefaults"),
      name,
      { ...inputsOf(args), ...placeholders(["declared", "original", "runtime", "drift", "warnings", "planned", "lastApply"]) },
      // The defaults section is a singleton on the router: release it before adopting it again.
      withSecretOutputs({ deleteBeforeReplace: true, ...opts }, SECRET),
      "openwrt",
      "FirewallDefaults",
    );
    warnAboutHealthChecks(args.healthChecks, this);
    logWarnings(this);
  }

  /** Adopts the defaults of a router already in the program (id: `user@host:port/firewall/defaults`). */
  static get(name: string, id: pulumi.Input<pulumi.ID>, args: FirewallDefaultsArgs, opts?: pulumi.CustomResourceOptions): FirewallDefaults {
    return new FirewallDefaults(name, args, { ...opts, id });
  }
}

export type FlowtableArgs = Args<FlowtableUserInputs>;

/** An nftables flowtable inside fw4's table, persisted as fw4 include files and verified live. */
export class Flowtable extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly devices: pulumi.Output<string[]>;
  declare readonly hardware: pulumi.Output<boolean>;
  declare readonly live: pulumi.Output<{ devices: string[]; hwOffload: boolean; counter: boolean; forwardRule: boolean } | null>;
  declare readonly files: pulumi.Output<{ flowtable: string; rule: string | null }>;
  declare readonly drift: pulumi.Output<Drift[]>;
  declare readonly warnings: pulumi.Output<string[]>;
  /** What an up changes on the router, as the last preview read it. */
  declare readonly planned: pulumi.Output<string[]>;
  declare readonly connection: pulumi.Output<RouterConnection>;

  constructor(name: string, args: FlowtableArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      shim("flowtable"),
      name,
      { ...inputsOf(args), ...placeholders(["live", "files", "drift", "warnings", "planned"]) },
      withSecretOutputs({ deleteBeforeReplace: true, ...opts }, SECRET),
      "openwrt",
      "Flowtable",
    );
    warnAboutHealthChecks(args.healthChecks, this);
    logWarnings(this);
  }

  /** Adopts a flowtable this library wrote before (id: `user@host:port/flowtable/NAME`). */
  static get(name: string, id: pulumi.Input<pulumi.ID>, args: FlowtableArgs, opts?: pulumi.CustomResourceOptions): Flowtable {
    return new Flowtable(name, args, { ...opts, id });
  }
}

export type OffloadPackagesArgs = Args<OffloadPackagesUserInputs>;

/** Makes sure the offload packages (default kmod-nft-offload) are installed, with opkg or apk. */
export class OffloadPackages extends pulumi.dynamic.Resource {
  declare readonly packages: pulumi.Output<string[]>;
  declare readonly installed: pulumi.Output<Record<string, string>>;
  declare readonly installedByUs: pulumi.Output<string[]>;
  declare readonly modules: pulumi.Output<string[]>;
  declare readonly drift: pulumi.Output<Drift[]>;
  declare readonly warnings: pulumi.Output<string[]>;
  /** What an up changes on the router, as the last preview read it. */
  declare readonly planned: pulumi.Output<string[]>;
  declare readonly connection: pulumi.Output<RouterConnection>;

  constructor(name: string, args: OffloadPackagesArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      shim("offloadPackages"),
      name,
      { ...inputsOf(args), ...placeholders(["installed", "installedByUs", "modules", "drift", "warnings", "planned"]) },
      withSecretOutputs({ deleteBeforeReplace: true, ...opts }, SECRET),
      "openwrt",
      "OffloadPackages",
    );
    warnAboutHealthChecks(args.healthChecks, this);
    logWarnings(this);
  }

  static get(name: string, id: pulumi.Input<pulumi.ID>, args: OffloadPackagesArgs, opts?: pulumi.CustomResourceOptions): OffloadPackages {
    return new OffloadPackages(name, args, { ...opts, id });
  }
}

export type DeviceOffloadArgs = Args<DeviceOffloadUserInputs>;

/** hw-tc-offload per device (ethtool), now and at every boot; delete restores the driver's state. */
export class DeviceOffload extends pulumi.dynamic.Resource {
  declare readonly devices: pulumi.Output<string[]>;
  declare readonly hwTcOffload: pulumi.Output<boolean>;
  declare readonly original: pulumi.Output<Record<string, boolean>>;
  declare readonly live: pulumi.Output<Record<string, boolean>>;
  declare readonly drift: pulumi.Output<Drift[]>;
  declare readonly warnings: pulumi.Output<string[]>;
  /** What an up changes on the router, as the last preview read it. */
  declare readonly planned: pulumi.Output<string[]>;
  declare readonly connection: pulumi.Output<RouterConnection>;

  constructor(name: string, args: DeviceOffloadArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      shim("deviceOffload"),
      name,
      { ...inputsOf(args), ...placeholders(["original", "live", "initScript", "drift", "warnings", "planned"]) },
      withSecretOutputs({ deleteBeforeReplace: true, ...opts }, SECRET),
      "openwrt",
      "DeviceOffload",
    );
    warnAboutHealthChecks(args.healthChecks, this);
    logWarnings(this);
  }

  static get(name: string, id: pulumi.Input<pulumi.ID>, args: DeviceOffloadArgs, opts?: pulumi.CustomResourceOptions): DeviceOffload {
    return new DeviceOffload(name, args, { ...opts, id });
  }
}
