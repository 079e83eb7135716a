import { inspect } from "node:util";
import { utils } from "ssh2";
import { z } from "zod";
import { FINGERPRINT_PATTERN, pinnedFingerprint, PUBLIC_KEY_PATTERN, type HostKeyPolicy } from "./hostkey";

const REDACTED = "[secret]";

/**
 * A credential that prints as `[secret]` everywhere (`util.inspect`, `String()`, `JSON.stringify`), so parsed
 * options can be logged or end up in an error report without leaking. The value is only reachable through
 * `reveal()`, which the connection calls when handing it to ssh2.
 */
export class Secret {
  readonly reveal: () => string;

  constructor(value: string) {
    this.reveal = () => value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

const secret = z.string().transform((value) => new Secret(value));
const millis = (fallback: number) => z.number().int().positive().max(3_600_000).default(fallback);

const FINGERPRINT_HINT =
  'hostKey must be an OpenSSH SHA256 fingerprint like "SHA256:" followed by 43 base64 characters, or the public ' +
  'key itself ("ssh-ed25519 AAAA..."); get it out of band with: ssh-keyscan -t ed25519 HOST | ssh-keygen -lf -';

const HOST_KEY_MODES = ["hostKey", "trustOnFirstUse", "insecureIgnoreHostKey"] as const;

export const connectionOptionsSchema = z
  .strictObject({
    host: z.string().min(1, "host is required: the router's address or name"),
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().min(1).default("root"),
    /** May be "" for a router whose root account has no password yet. */
    password: secret.optional(),
    /** OpenSSH or PEM private key text. */
    privateKey: z.string().min(1).pipe(secret).optional(),
    privateKeyPassword: secret.optional(),
    /** Path of an ssh-agent socket, e.g. process.env.SSH_AUTH_SOCK. */
    agentSocketPath: z.string().min(1).optional(),
    /** Pinned SHA256 fingerprint of the router's host key. */
    hostKey: z
      .string()
      .refine((v) => FINGERPRINT_PATTERN.test(v) || PUBLIC_KEY_PATTERN.test(v.trim()), { message: FINGERPRINT_HINT, params: { code: "host-key-format" } })
      .transform(pinnedFingerprint)
      .optional(),
    /** Accept whatever key the router presents and report it (pin it afterwards). */
    trustOnFirstUse: z.boolean().optional(),
    /** Skip host-key verification entirely. Unsafe; for labs only. */
    insecureIgnoreHostKey: z.boolean().optional(),
    /** TCP connect + SSH handshake + authentication, per attempt (see connectRetries for the total). */
    connectTimeoutMs: millis(15_000),
    /** Default per-command limit; `exec` can override it per call. */
    execTimeoutMs: millis(60_000),
    /** Close the pooled connection after this long without commands. */
    idleCloseMs: millis(30_000),
    /** Extra connect attempts after network failures and timeouts (never after auth or host-key failures). */
    connectRetries: z.number().int().min(0).max(10).default(2),
    /** Open channels per connection; Dropbear caps channels per connection and small routers serialize anyway. */
    maxConcurrentExecs: z.number().int().min(1).max(64).default(8),
  })
  .superRefine((options, ctx) => {
    const modes = HOST_KEY_MODES.filter((mode) => (mode === "hostKey" ? options.hostKey !== undefined : options[mode] === true));
    if (modes.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["hostKey"],
        params: { code: "host-key-required" },
        message:
          "a host-key mode is required: set hostKey to the router's SHA256 fingerprint " +
          "(ssh-keyscan -t ed25519 HOST | ssh-keygen -lf -), or trustOnFirstUse: true to accept the first key seen and " +
          "report it for pinning, or insecureIgnoreHostKey: true to skip verification (unsafe)",
      });
    } else if (modes.length > 1) {
      ctx.addIssue({
        code: "custom",
        path: [modes[1]],
        params: { code: "host-key-exclusive" },
        message: `hostKey, trustOnFirstUse and insecureIgnoreHostKey are exclusive; set exactly one (got ${modes.join(" and ")})`,
      });
    }
    if (options.password === undefined && options.privateKey === undefined && options.agentSocketPath === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["password"],
        params: { code: "auth-required" },
        message:
          'no authentication method: set password (may be "" for a router without one), privateKey, or agentSocketPath ' +
          "(an ssh-agent socket path such as process.env.SSH_AUTH_SOCK)",
      });
    }
    if (options.privateKeyPassword !== undefined && options.privateKey === undefined) {
      ctx.addIssue({ code: "custom", path: ["privateKeyPassword"], params: { code: "passphrase-without-key" }, message: "privateKeyPassword needs privateKey" });
    }
    if (options.privateKey !== undefined) {
      // Parsing here turns a bad key or passphrase into a field error at validation time instead of a connect failure.
      const parsed = utils.parseKey(options.privateKey.reveal(), options.privateKeyPassword?.reveal());
      if (parsed instanceof Error) {
        ctx.addIssue({
          code: "custom",
          path: ["privateKey"],
          params: { code: "key-unusable", detail: redactSecrets(parsed.message, options) },
          message: `privateKey cannot be used: ${redactSecrets(parsed.message, options)}`,
        });
      }
    }
  })
  // The refinement guarantees exactly one mode, so insecureIgnoreHostKey is whatever is left.
  .transform(({ hostKey, trustOnFirstUse, insecureIgnoreHostKey: _insecure, ...rest }) => {
    const hostKeyPolicy: HostKeyPolicy =
      hostKey !== undefined
        ? { mode: "pinned", fingerprint: hostKey }
        : trustOnFirstUse
          ? { mode: "trustOnFirstUse" }
          : { mode: "insecureIgnoreHostKey" };
    return { ...rest, hostKeyPolicy, router: routerLabel(rest.user, rest.host, rest.port) };
  });

export type ConnectionOptionsInput = z.input<typeof connectionOptionsSchema>;
export type ConnectionOptions = z.output<typeof connectionOptionsSchema>;

/** `user@host:port`: the pool key and the router name in every error. */
export function routerLabel(user: string, host: string, port: number): string {
  return `${user}@${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * The failures a caller with its own names for these options (the CLI's flags, the inventory's keys)
 * rewords: each says what is wrong, not in whose words.
 */
export type ConnectionIssueCode = "host-key-required" | "host-key-format" | "host-key-exclusive" | "auth-required" | "passphrase-without-key" | "key-unusable";

export interface ConnectionIssue {
  path: string;
  message: string;
  code?: ConnectionIssueCode;
  /** key-unusable: why the key parser refused it (redacted). */
  detail?: string;
}

export class InvalidConnectionOptionsError extends Error {
  readonly issues: readonly ConnectionIssue[];

  constructor(issues: readonly ConnectionIssue[]) {
    super(`invalid connection options:\n${issues.map((issue) => `  ${issue.path}: ${issue.message}`).join("\n")}`);
    this.name = "InvalidConnectionOptionsError";
    this.issues = issues;
  }
}

/** Validates and applies defaults. Issues name fields and never echo values. */
export function parseConnectionOptions(input: unknown): ConnectionOptions {
  const result = connectionOptionsSchema.safeParse(input);
  if (!result.success) {
    throw new InvalidConnectionOptionsError(
      result.error.issues.map((issue) => {
        const params = (issue.code === "custom" ? issue.params : undefined) as { code?: ConnectionIssueCode; detail?: string } | undefined;
        return { path: issue.path.join(".") || "(options)", message: issue.message, ...(params?.code ? { code: params.code } : {}), ...(params?.detail ? { detail: params.detail } : {}) };
      }),
    );
  }
  return result.data;
}

type SecretFields = { password?: Secret; privateKey?: Secret; privateKeyPassword?: Secret };

/**
 * Removes credentials from text that may have picked them up (ssh2 messages, remote stderr). Multi-line secrets
 * (private keys) are also removed line by line, in case a fragment was quoted.
 */
export function redactSecrets(text: string, options: SecretFields): string {
  const values = [options.password, options.privateKey, options.privateKeyPassword]
    .flatMap((value) => {
      const revealed = value?.reveal() ?? "";
      return [revealed, ...revealed.split(/\r?\n/).filter((line) => line.trim().length >= 8)];
    })
    .filter((value) => value.length > 0)
    .sort((a, b) => b.length - a.length);
  return values.reduce((acc, value) => acc.split(value).join(REDACTED), text);
}
