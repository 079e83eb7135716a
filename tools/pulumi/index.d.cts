// Types for tools/pulumi/index.cjs (plain CommonJS so that `npm run pulumi` needs no build step).

export interface PulumiCli {
  /** For `PulumiCommand.get({ root })`: the CLI is `<root>/bin/pulumi`. */
  root: string;
  /** The `pulumi` binary. */
  bin: string;
  /** Its version, e.g. "v3.276.0". */
  version: string;
  /** The environment to run it with (offline settings, PATH, and the project-local home/backend if any). */
  env: Record<string, string | undefined>;
  /** "system": the user's `pulumi` from PATH; "built": ours, pinned in tools/pulumi/go.mod. */
  source: "system" | "built";
  /** Whether this call built it (the cache was cold). */
  built: boolean;
  /** The project-local Pulumi home and backend URL that `env` sets, when the user configured none. */
  local: { home?: string; backend?: string };
}

export interface EnsureOptions {
  /** Default: the PULUMI_OFFLOAD_CLI environment variable, else "auto". */
  source?: "auto" | "built" | "system";
  /** Receives the one-line notices (building, built). */
  log?: (line: string) => void;
  /** The environment to start from (default process.env). */
  baseEnv?: Record<string, string | undefined>;
}

export const REPO_ROOT: string;
export const NODE_LTS_VERSION: string;
export const OFFLINE_ENV: Readonly<Record<string, string>>;
export function pinnedVersion(): string;
export function builtCliRoot(): string;
export function compareVersions(a: string, b: string): -1 | 0 | 1;
export function minimumSystemVersion(): string;
export function systemPulumi(env?: Record<string, string | undefined>): { bin: string; version: string } | undefined;
export function pulumiEnv(
  binDir: string,
  baseEnv?: Record<string, string | undefined>,
): { env: Record<string, string | undefined>; local: { home?: string; backend?: string } };
export function buildPulumiCli(opts?: { log?: (line: string) => void }): Promise<boolean>;
export function ensurePulumiCli(opts?: EnsureOptions): Promise<PulumiCli>;
/** Whether ensurePulumiCli() can give a CLI here (built, a recent-enough one on PATH, or Go to build it). */
export function pulumiCliAvailability(baseEnv?: Record<string, string | undefined>): { ok: boolean; reason?: string };
/** Path of the Node.js 24 LTS binary under .cache/node/<version>/bin, fetched from npm on first use. */
export function ensureNodeLts(opts?: { log?: (line: string) => void }): string;
/** A directory holding a Go recent enough for tools/pulumi/go.mod: PATH's, else one fetched into .cache/go once. */
export function ensureGo(opts?: { log?: (line: string) => void; env?: Record<string, string | undefined> }): Promise<string>;
