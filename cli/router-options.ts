import * as fs from "fs";
import { Command, Option } from "commander";
import { positiveInt } from "./fleet-options";
import { InvalidConnectionOptionsError, parseConnectionOptions, type ConnectionIssue, type ConnectionOptions } from "../provider/transport";

/** The options every command that talks to one router takes. */
export function withRouterOptions(command: Command): Command {
  return command
    .requiredOption("-r, --router <host[:port]>", "the router to talk to")
    .option("-u, --user <name>", "SSH user", "root")
    .option("-i, --identity <file>", "private key file")
    .addOption(new Option("--password-env <var>", "read the password from this environment variable (never from the command line)"))
    .option("--host-key <fingerprint>", "the router's pinned host key: SHA256:... or the public key")
    .option("--insecure-ignore-host-key", "do not verify the host key (unsafe)")
    .option("--connect-timeout <seconds>", "per connect attempt (3 attempts for unreachable routers)", positiveInt("--connect-timeout", 3600), 15);
}

export interface RouterCliOptions {
  router: string;
  user: string;
  identity?: string;
  passwordEnv?: string;
  hostKey?: string;
  insecureIgnoreHostKey?: boolean;
  connectTimeout: number;
}

const KEYSCAN = "ssh-keyscan -t ed25519 HOST | ssh-keygen -lf -";

/** The transport names its own fields; here each problem is said with the flag that fixes it. */
function inFlagWords(issue: ConnectionIssue): string {
  switch (issue.code) {
    case "host-key-required":
      return `no host key to check the router against: pass --host-key with its SHA256 fingerprint (get it out of band: ${KEYSCAN}), or --insecure-ignore-host-key to skip the check (unsafe)`;
    case "host-key-format":
      return `--host-key must be an OpenSSH SHA256 fingerprint ("SHA256:" and 43 base64 characters) or the public key itself; get it out of band: ${KEYSCAN}`;
    case "host-key-exclusive":
      return "--host-key and --insecure-ignore-host-key exclude each other: pass one of them";
    case "auth-required":
      return "no way to log in: pass -i/--identity FILE (a private key) or --password-env VAR (an environment variable holding the password)";
    case "key-unusable":
      return `-i/--identity: the key cannot be used (${issue.detail}): give an OpenSSH or PEM private key without a passphrase`;
    default:
      return `${issue.path}: ${issue.message}`;
  }
}

function readIdentity(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "there is no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a directory" : (err as Error).message;
    throw new Error(`cannot read the private key ${file} given with -i/--identity: ${why}. Pass the path of your private key file, e.g. -i ~/.ssh/id_ed25519`);
  }
}

export function connectionFromCli(opts: RouterCliOptions): ConnectionOptions {
  const m = opts.router.match(/^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/);
  if (!m) throw new Error(`--router must be HOST or HOST:PORT (an IPv6 address in brackets: [2001:db8::1]:22), got "${opts.router}"`);
  const password = opts.passwordEnv !== undefined ? process.env[opts.passwordEnv] : undefined;
  if (opts.passwordEnv !== undefined && password === undefined) throw new Error(`--password-env: the environment variable ${opts.passwordEnv} is not set; export it first, or log in with -i/--identity`);
  const port = m[2] ? Number(m[2]) : 22;
  if (port < 1 || port > 65535) throw new Error(`--router: port ${m[2]} is not a TCP port (1 to 65535)`);
  try {
    return parseConnectionOptions({
      host: m[1].replace(/^\[|\]$/g, ""),
      port,
      user: opts.user,
      privateKey: opts.identity ? readIdentity(opts.identity) : undefined,
      password,
      hostKey: opts.hostKey,
      insecureIgnoreHostKey: opts.insecureIgnoreHostKey || undefined,
      connectTimeoutMs: opts.connectTimeout * 1000,
    });
  } catch (err) {
    if (!(err instanceof InvalidConnectionOptionsError)) throw err;
    throw new Error(err.issues.map(inFlagWords).join("\n"));
  }
}
