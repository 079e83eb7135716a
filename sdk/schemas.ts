import { z } from "zod";
import type { RouterConnection } from "./types";

/**
 * Resource inputs, defined once: `check` validates with these schemas and the SDK's argument types
 * are derived from them. Messages name the field and say how to fix it.
 */

/** Linux interface names: at most 15 bytes, no slash or whitespace (IFNAMSIZ). */
const deviceName = z
  .string()
  .regex(/^[A-Za-z0-9_.@:-]{1,15}$/, "must be a Linux interface name (1-15 characters: letters, digits, _ . @ : -), e.g. \"wan\" or \"lan1\"");

const devices = z.array(deviceName).min(1, "list at least one device, e.g. [\"lan1\", \"wan\"]");

/** The router connection every resource carries (the `connection` output of a Router); check validates its fields. */
export const connectionInput = z.custom<RouterConnection>(
  (v) => typeof v === "object" && v !== null && typeof (v as { host?: unknown }).host === "string",
  "connection must be a Router's connection: pass router: <a Router resource>",
);

/**
 * The guard's options, on every resource that writes (DESIGN §5). `guard: false` applies without a
 * safety net, which is unsafe: a change that cuts the link or crashes the router stays.
 */
const guardFields = {
  guard: z.boolean().default(true),
  /** The router restores the change by itself unless it is confirmed within this time (LuCI: 90 s). */
  confirmTimeoutSeconds: z.number().int().min(1).max(3600).default(90),
  /** After a good verification, wait this long and verify again before confirming. */
  soakSeconds: z.number().int().min(0).max(3600).default(0),
  /** Commands run on the router after the change; each must exit 0 (e.g. a ping to a LAN host). */
  healthChecks: z
    .array(z.strictObject({ name: z.string().min(1, "name the check, e.g. \"ping gateway\""), command: z.string().min(1) }))
    .default([]),
};

export const sqmPolicy = z
  .enum(["refuse", "warn", "ignore"])
  .describe("what to do when an enabled SQM instance shapes an interface that offload would bypass");

export const firewallDefaultsSchema = z
  .strictObject({
    connection: connectionInput,
    ...guardFields,
    /** Software flow offloading (firewall option flow_offloading). */
    flowOffloading: z.boolean({ error: "flowOffloading must be true or false" }),
    /** Hardware flow offloading (flow_offloading_hw); needs flowOffloading and a SoC with a flow engine. */
    flowOffloadingHw: z.boolean().default(false),
    /** SQM shapes egress with qdiscs that hardware-offloaded flows skip; default: refuse hardware offload there. */
    sqmPolicy: sqmPolicy.default("refuse"),
    /** Refuse to commit when the overlay has less free space than this (KiB). */
    minFreeKiB: z.number().int().min(0).default(64),
    /**
     * "fail" (default): a change that is refused or restored fails the resource. "report": it is
     * recorded in `lastApply` instead, so a fleet can count failures against its budget and go on.
     */
    onFailure: z.enum(["fail", "report"]).default("fail"),
    /** Set by OffloadFleet when this router's wave did not start (why): nothing is written, the router is only read. */
    halted: z.string().default(""),
  })
  .refine((v) => !v.flowOffloadingHw || v.flowOffloading, {
    path: ["flowOffloadingHw"],
    message: "flowOffloadingHw needs flowOffloading: true (hardware offload is an addition to software offload); set both",
  });

export const flowtableSchema = z.strictObject({
  connection: connectionInput,
    ...guardFields,
  /** nftables name of the flowtable inside fw4's table; `ft` is fw4's own. */
  name: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,30}$/, "must start with a letter and use letters, digits and _ (at most 31 characters)")
    .refine((n) => n !== "ft", "\"ft\" is firewall4's own flowtable (managed by FirewallDefaults); pick another name"),
  devices,
  /** Ingress hook priority. */
  priority: z.number().int().min(-400).max(400).default(0),
  /** `flags offload`: ask the kernel to offload these flows to the switch/NIC hardware. */
  hardware: z.boolean().default(false),
  /** Keep conntrack byte/packet counters correct for offloaded flows. */
  counter: z.boolean().default(true),
  /** Which forwarded flows go to this flowtable; omit to not add a forward rule. */
  forwardRule: z
    .strictObject({
      protocols: z.array(z.enum(["tcp", "udp"])).min(1).default(["tcp", "udp"]),
      inputInterfaces: z.array(deviceName).optional(),
      outputInterfaces: z.array(deviceName).optional(),
    })
    .optional(),
});

const packageName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._+-]*$/, "must be an OpenWrt package name (lowercase letters, digits, . _ + -), e.g. \"kmod-nft-offload\"");

export const offloadPackagesSchema = z.strictObject({
  connection: connectionInput,
    ...guardFields,
  packages: z.array(packageName).min(1).default(["kmod-nft-offload"]),
  /** Free overlay space to keep after installing (KiB). */
  minFreeKiB: z.number().int().min(0).default(256),
  /** Remove the packages this resource installed when it is deleted. */
  removeOnDelete: z.boolean().default(false),
  /** Set by OffloadFleet when this router's wave did not start (why): nothing is installed, the router is only read. */
  halted: z.string().default(""),
});

/**
 * What a resource's last create/update did: "not-started" when its fleet wave was halted (nothing
 * written), "refused"/"restored"/"failed" with onFailure "report" (the router unchanged or put back).
 */
export type LastApply = { status: "unchanged" | "confirmed" | "not-started" | "refused" | "restored" | "failed"; detail: string };

/** A fleet's wave gate: open when the failures so far fit the failure budget (and the wave before was open). */
export const waveGateSchema = z.strictObject({
  fleet: z.string(),
  wave: z.number().int().min(1),
  failureBudget: z.number().int().min(0),
  priorFailures: z.number().int().min(0).default(0),
  /** Why an earlier gate closed ("" when it was open): this wave did not start either. */
  halted: z.string().default(""),
  results: z.array(z.strictObject({ router: z.string(), status: z.string(), detail: z.string() })),
});
export type WaveGateInputs = z.output<typeof waveGateSchema>;

/** A fleet's verdict, after every router: fails the up when a gate closed. */
export const fleetVerdictSchema = z.strictObject({
  fleet: z.string(),
  /** Why the rollout stopped ("" when every wave passed). */
  halted: z.string(),
  routers: z.number().int().min(0),
});
export type FleetVerdictInputs = z.output<typeof fleetVerdictSchema>;

export const deviceOffloadSchema = z.strictObject({
  connection: connectionInput,
    ...guardFields,
  devices,
  /** hw-tc-offload on (true) or off (false). */
  hwTcOffload: z.boolean({ error: "hwTcOffload must be true or false" }),
  /** Reapply at every boot (an init script), not only now. */
  persistent: z.boolean().default(true),
});

/** What `check` produces (defaults applied)... */
export type FirewallDefaultsInputs = z.output<typeof firewallDefaultsSchema>;
export type FlowtableInputs = z.output<typeof flowtableSchema>;
export type OffloadPackagesInputs = z.output<typeof offloadPackagesSchema>;
export type DeviceOffloadInputs = z.output<typeof deviceOffloadSchema>;

/** ...and what a program may write (fields with defaults are optional). */
export type FirewallDefaultsUserInputs = z.input<typeof firewallDefaultsSchema>;
export type FlowtableUserInputs = z.input<typeof flowtableSchema>;
export type OffloadPackagesUserInputs = z.input<typeof offloadPackagesSchema>;
export type DeviceOffloadUserInputs = z.input<typeof deviceOffloadSchema>;
