import { setTimeout as delay } from "node:timers/promises";
import { Connection, type ExecResult } from "./connection";
import { TransportCounters } from "./counters";
import { AuthenticationError, CommandFailedError, ConnectionLostError, HostKeyMismatchError } from "./errors";
import { checkHostKey, type HostKeyPolicy } from "./hostkey";
import { redactSecrets, type ConnectionOptions } from "./options";

export interface ExecOptions {
  /** What the command is for; it names the operation in every error ("read firewall defaults"). */
  purpose: string;
  /** Sent on stdin, then EOF (a script for `sh -s`, input for `uci batch`). */
  stdin?: string | Buffer;
  /** A conversation instead of `stdin` (see ChannelExecOptions.respond); such a command is never retried once sent. */
  respond?: (stdout: string) => string | undefined;
  /** Overrides the connection's execTimeoutMs; counted from when the command is sent, not while it queues. */
  timeoutMs?: number;
  /**
   * "safe": the command only reads, so after a dropped connection it is run once more on a new one.
   * "never" (default): a drop after the command was sent fails with ConnectionLostError, because running a write
   * twice is not safe. Commands that never left this process are retried either way.
   */
  retry?: "never" | "safe";
  /** Exit codes that count as success (default [0]); "any" returns every result, including signals. */
  okExitCodes?: readonly number[] | "any";
}

export interface HostKeyInfo {
  router: string;
  /** SHA256 fingerprint the router presented on the connection in use: what trustOnFirstUse callers pin. */
  hostKey: string;
  hostKeyType: string;
  /** The key itself, `type base64`, for known_hosts or @pulumi/command's `hostKey`. */
  hostPublicKey: string;
}

/** Delay before the first connect retry; doubled for each further attempt. */
const CONNECT_BACKOFF_MS = 250;

const SECRET_FIELDS = ["password", "privateKey", "privateKeyPassword"] as const;

function sameCredentials(a: ConnectionOptions, b: ConnectionOptions): boolean {
  return a.agentSocketPath === b.agentSocketPath && SECRET_FIELDS.every((field) => a[field]?.reveal() === b[field]?.reveal());
}

function samePolicy(a: HostKeyPolicy, b: HostKeyPolicy): boolean {
  return a.mode === b.mode && (a.mode !== "pinned" || (b.mode === "pinned" && a.fingerprint === b.fingerprint));
}

/** Whether what one caller learnt over a connection may be handed to the other: the same credentials and host-key check. */
export function sameAccess(a: ConnectionOptions, b: ConnectionOptions): boolean {
  return a.router === b.router && sameCredentials(a, b) && samePolicy(a.hostKeyPolicy, b.hostKeyPolicy);
}

/** The pooled connection of one router, from the moment its connect starts. */
interface Entry {
  /** What the connection was opened with; callers with other credentials get their own connection. */
  options: ConnectionOptions;
  opening: Promise<Connection>;
  /** Set once `opening` succeeds. */
  conn?: Connection;
}

/**
 * One SSH connection per router (`user@host:port`) for the whole process, shared by concurrent callers.
 *
 * A caller whose credentials differ from the pooled connection's gets a new connection (which then becomes the
 * pooled one), so a wrong password is never hidden by a session someone else authenticated. Host keys are checked
 * on every connect and, for reused connections, against each caller's own policy.
 */
export class ConnectionPool {
  readonly counters = new TransportCounters();
  private readonly connections = new Map<string, Entry>();
  /** Every open connection, including ones replaced in `connections` that still finish their commands. */
  private readonly live = new Set<Connection>();

  /** Connects (or reuses the pooled connection) and reports the host key. `fresh` forces a new handshake. */
  async connect(options: ConnectionOptions, { fresh = false }: { fresh?: boolean } = {}): Promise<HostKeyInfo> {
    const conn = await this.acquire(options, fresh);
    return { router: conn.router, hostKey: conn.hostKey.fingerprint, hostKeyType: conn.hostKey.type, hostPublicKey: conn.hostKey.publicKey };
  }

  /** Runs `command` through the router's `sh -c`. Build it with shellQuote/shellCommand. */
  async exec(options: ConnectionOptions, command: string, execOptions: ExecOptions): Promise<ExecResult> {
    const { purpose, stdin, respond, retry = "never", okExitCodes = [0] } = execOptions;
    const timeoutMs = execOptions.timeoutMs ?? options.execTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const conn = await this.acquire(options, false);
      let result: ExecResult;
      try {
        result = await conn.exec(command, { purpose, stdin, respond, timeoutMs });
      } catch (error) {
        const retryable = error instanceof ConnectionLostError && (!error.commandSent || (retry === "safe" && respond === undefined));
        if (attempt === 0 && retryable) continue;
        throw error;
      }
      if (okExitCodes !== "any" && (result.code === null || !okExitCodes.includes(result.code))) {
        throw new CommandFailedError(options.router, purpose, result.code, result.signal, redactSecrets(result.stderr, options));
      }
      return result;
    }
  }

  /** The open pooled connection's serial that callers with these options get, if there is one. */
  session(options: ConnectionOptions): number | undefined {
    const entry = this.connections.get(options.router);
    const conn = entry?.conn;
    return conn && !conn.closed && sameAccess(entry.options, options) ? conn.serial : undefined;
  }

  /** Pooled connections, including ones still connecting. */
  get size(): number {
    return this.connections.size;
  }

  /** Closes every connection; commands still running fail with ConnectionLostError. */
  async closeAll(): Promise<void> {
    const opening = [...this.connections.values()].map((entry) => entry.opening);
    this.connections.clear();
    // Connects in flight land in `live` when they finish, so wait for them first.
    await Promise.allSettled(opening);
    await Promise.all([...this.live].map((conn) => conn.close()));
  }

  private async acquire(options: ConnectionOptions, fresh: boolean): Promise<Connection> {
    const key = options.router;
    for (let entry = this.connections.get(key); entry && !fresh && sameCredentials(entry.options, options); ) {
      let conn: Connection;
      try {
        conn = await entry.opening;
      } catch (error) {
        // Another caller's connect failed. Its verdict is ours only if it checked the host key our way.
        if (samePolicy(entry.options.hostKeyPolicy, options.hostKeyPolicy)) throw error;
        break;
      }
      const current = this.connections.get(key);
      if (current !== entry) {
        // Replaced while we waited (closed and reopened, or a fresh connect): look again.
        entry = current;
        continue;
      }
      if (conn.closed) break;
      checkHostKey(options.hostKeyPolicy, conn.hostKey, key);
      return conn;
    }
    // A connection replaced here is no longer handed out; it finishes its commands and closes when idle.
    const entry: Entry = { options, opening: this.open(options) };
    this.connections.set(key, entry);
    entry.opening.then(
      (conn) => {
        entry.conn = conn;
      },
      () => {
        if (this.connections.get(key) === entry) this.connections.delete(key);
      },
    );
    return entry.opening;
  }

  private async open(options: ConnectionOptions): Promise<Connection> {
    for (let attempt = 0; ; attempt++) {
      try {
        const conn = await Connection.open(options, this.counters, (closed) => this.forget(closed));
        this.live.add(conn);
        return conn;
      } catch (error) {
        const permanent = error instanceof HostKeyMismatchError || error instanceof AuthenticationError;
        if (permanent || attempt >= options.connectRetries) throw error;
        await delay(CONNECT_BACKOFF_MS * 2 ** attempt);
      }
    }
  }

  private forget(conn: Connection): void {
    this.live.delete(conn);
    if (this.connections.get(conn.router)?.conn === conn) this.connections.delete(conn.router);
  }
}

let pool: ConnectionPool | undefined;

/**
 * The process-wide pool, created on first use. Never capture it at import time: Pulumi serializes provider
 * closures, and a live pool (sockets, timers) must not be part of them.
 */
export function getPool(): ConnectionPool {
  pool ??= new ConnectionPool();
  return pool;
}
