import type * as pulumi from "@pulumi/pulumi";

/** Every field of T accepts a plain value, a promise or an Output (Pulumi's Input). */
export type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/**
 * A router's connection as resources carry it. It has the shape of @pulumi/command's
 * `remote.ConnectionArgs` (host, port, user, password, privateKey, privateKeyPassword, agentSocketPath, hostKey), so
 * `new remote.Command("x", { connection: router.connection, create: "..." })` works; `hostKey` is
 * the router's public key as pinned when the Router was created.
 */
export interface RouterConnection {
  host: string;
  port?: number;
  user?: string;
  password?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  hostKey?: string;
  insecureIgnoreHostKey?: boolean;
  agentSocketPath?: string;
  connectTimeoutMs?: number;
  execTimeoutMs?: number;
}

/** Anything that carries a router connection: a Router, or `{ connection }` (e.g. from Router.get). */
export interface RouterRef {
  readonly connection: pulumi.Input<RouterConnection>;
}

/** A drift finding from a refresh (DESIGN §6): its class names the cause. */
export type { Drift, DriftClass } from "../provider/device/drift";

/** Merges options the SDK needs (secret outputs) into the user's. */
export function withSecretOutputs<T extends pulumi.CustomResourceOptions>(opts: T | undefined, keys: string[]): T {
  return { ...(opts ?? ({} as T)), additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...keys] };
}

/** Output placeholders: a dynamic resource only gets Output properties for keys it registers. */
export function placeholders(keys: readonly string[]): Record<string, undefined> {
  return Object.fromEntries(keys.map((k) => [k, undefined]));
}
