import * as pulumi from "@pulumi/pulumi";
import type { ConnectionOptionsInput } from "../provider/transport";
import { shim } from "./shim";
import { placeholders, withSecretOutputs, type Drift, type Inputs, type RouterConnection } from "./types";

/** How to reach a router; validated by the transport's schema (see README for the host-key modes). */
export type RouterArgs = Inputs<Omit<ConnectionOptionsInput, "idleCloseMs" | "connectRetries" | "maxConcurrentExecs">>;

const OUTPUTS = [
  "connection",
  "hostKeyFingerprint",
  "hostname",
  "model",
  "boardName",
  "release",
  "target",
  "kernel",
  "kernelSupported",
  "firewall",
  "packageManager",
  "offloadPackages",
  "hwOffloadCapable",
  "hwOffloadReason",
  "devices",
  "zones",
  "sqm",
  "overlayFreeKiB",
  "drift",
] as const;

/**
 * An OpenWrt router: connects (host key verified), reads its facts, and hands other resources a
 * pinned connection. Deleting it changes nothing on the router.
 */
export class Router extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<RouterConnection>;
  declare readonly hostKeyFingerprint: pulumi.Output<string>;
  declare readonly hostname: pulumi.Output<string>;
  declare readonly model: pulumi.Output<string>;
  declare readonly boardName: pulumi.Output<string>;
  declare readonly release: pulumi.Output<{ distribution: string; version: string; revision: string; target: string; description: string }>;
  declare readonly target: pulumi.Output<string>;
  declare readonly kernel: pulumi.Output<string>;
  declare readonly kernelSupported: pulumi.Output<boolean>;
  declare readonly firewall: pulumi.Output<"fw3" | "fw4">;
  declare readonly packageManager: pulumi.Output<"opkg" | "apk">;
  declare readonly offloadPackages: pulumi.Output<Record<string, string>>;
  declare readonly hwOffloadCapable: pulumi.Output<boolean>;
  declare readonly hwOffloadReason: pulumi.Output<string>;
  declare readonly devices: pulumi.Output<{ name: string; devtype: string; hwTcOffload: boolean; bridgeMembers: string[] }[]>;
  declare readonly zones: pulumi.Output<{ name: string; networks: string[]; devices: string[] }[]>;
  declare readonly sqm: pulumi.Output<{ name: string; enabled: boolean; interface: string }[]>;
  declare readonly overlayFreeKiB: pulumi.Output<number | null>;
  declare readonly drift: pulumi.Output<Drift[]>;

  constructor(name: string, args: RouterArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      shim("router"),
      name,
      { ...args, ...placeholders(OUTPUTS) },
      withSecretOutputs(opts, ["connection", "password", "privateKey", "privateKeyPassword"]),
      "openwrt",
      "Router",
    );
  }

  /** Reads an existing router into the program (import does not work for dynamic providers; this does). */
  static get(name: string, id: pulumi.Input<pulumi.ID>, args: RouterArgs, opts?: pulumi.CustomResourceOptions): Router {
    return new Router(name, args, { ...opts, id });
  }
}
