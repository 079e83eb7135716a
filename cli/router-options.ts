import * as fs from "fs";
import { Command, Option } from "commander";
import { parseConnectionOptions, type ConnectionOptions } from "../provider/transport";

/** The options every command that talks to one router takes. */
export function withRouterOptions(command: Command): Command {
  return command
    .requiredOption("-r, --router <host[:port]>", "the router to talk to")
    .option("-u, --user <name>", "SSH user", "root")
    .option("-i, --identity <file>", "private key file")
    .addOption(new Option("--password-env <var>", "read the password from this environment variable (never from the command line)"))
    .option("--host-key <fingerprint>", "the router's pinned host key: SHA256:... or the public key")
    .option("--insecure-ignore-host-key", "do not verify the host key (unsafe)");
}

export interface RouterCliOptions {
  router: string;
  user: string;
  identity?: string;
  passwordEnv?: string;
  hostKey?: string;
  insecureIgnoreHostKey?: boolean;
}

export function connectionFromCli(opts: RouterCliOptions): ConnectionOptions {
  const m = opts.router.match(/^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/);
  if (!m) throw new Error(`--router must be HOST or HOST:PORT, got "${opts.router}"`);
  const password = opts.passwordEnv !== undefined ? process.env[opts.passwordEnv] : undefined;
  if (opts.passwordEnv !== undefined && password === undefined) throw new Error(`--password-env: ${opts.passwordEnv} is not set`);
  return parseConnectionOptions({
    host: m[1].replace(/^\[|\]$/g, ""),
    port: m[2] ? Number(m[2]) : 22,
    user: opts.user,
    privateKey: opts.identity ? fs.readFileSync(opts.identity, "utf8") : undefined,
    password,
    hostKey: opts.hostKey,
    insecureIgnoreHostKey: opts.insecureIgnoreHostKey || undefined,
  });
}
