import * as net from "node:net";
import { inspect } from "node:util";
import { Client, type ClientChannel } from "ssh2";
import type { TransportCounters } from "./counters";
import {
  AuthenticationError,
  ConnectionLostError,
  ConnectTimeoutError,
  ExecTimeoutError,
  HostKeyMismatchError,
  TransportError,
} from "./errors";
import { checkHostKey, describeHostKey, type SeenHostKey } from "./hostkey";
import { redactSecrets, type ConnectionOptions } from "./options";

export interface ExecResult {
  /** null when the command was killed by a signal. */
  code: number | null;
  signal?: string;
  /** UTF-8 decoded. */
  stdout: string;
  stderr: string;
}

export interface ChannelExecOptions {
  purpose: string;
  /** Sent on the command's stdin, followed by EOF. Without it, EOF is sent at once so readers of stdin never hang. */
  stdin?: string | Buffer;
  /**
   * Instead of `stdin`: called with the stdout received so far, each time more arrives, until it
   * returns the answer to send on stdin (then EOF). A conversation in one exec: the command prints,
   * the caller decides, the command acts on the decision. If it throws, EOF is sent with no answer
   * and the exec fails with that error once the command has ended.
   */
  respond?: (stdout: string) => string | undefined;
  timeoutMs: number;
}

/** After `end()`, how long the server gets to close its side before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

const decode = (chunks: Buffer[]): string => Buffer.concat(chunks).toString("utf8");

let connections = 0;

/**
 * One authenticated ssh2 Client to one router. It multiplexes up to `maxConcurrentExecs` channels, closes itself
 * after `idleCloseMs` without commands, and fails every pending command with ConnectionLostError when the
 * connection drops. The pool decides when to open a new one.
 */
export class Connection {
  /** Tells this session from every other one of the process: what a read learnt holds for the session it ran on. */
  readonly serial = ++connections;
  readonly router: string;
  readonly hostKey: SeenHostKey;
  readonly options: ConnectionOptions;
  private readonly client: Client;
  private readonly socket: net.Socket;
  private readonly counters: TransportCounters;
  private readonly closedPromise: Promise<void>;
  /** Commands queued or running; the idle timer only runs at zero. */
  private active = 0;
  private running = 0;
  private readonly slotWaiters: (() => void)[] = [];
  /** For each command still waiting for its channel to close: fails it when the connection drops. */
  private readonly pending = new Set<(detail: string) => void>();
  private idleTimer: NodeJS.Timeout | undefined;
  private ended = false;
  private lastError = "";
  private bytesRead = 0;
  private bytesWritten = 0;

  /** Connects, verifies the host key and authenticates: the only way to get a Connection. */
  static open(
    options: ConnectionOptions,
    counters: TransportCounters,
    onConnectionClose: (conn: Connection) => void,
  ): Promise<Connection> {
    const { router } = options;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: options.host, port: options.port, noDelay: true });
      const client = new Client();
      let hostKey: SeenHostKey | undefined;
      let mismatch: HostKeyMismatchError | undefined;
      let settled = false;
      const onError = (error: Error & { level?: string }): void => {
        if (mismatch) fail(mismatch);
        else if (error.level === "client-timeout") fail(new ConnectTimeoutError(router, options.connectTimeoutMs));
        else if (error.level === "client-authentication") fail(new AuthenticationError(router, authMethods(options)));
        else fail(new TransportError(router, "connect", redactSecrets(describe(error), options)));
      };
      const onClose = (): void =>
        fail(new TransportError(router, "connect", "the router closed the connection during the SSH handshake"));
      const fail = (error: TransportError): void => {
        if (settled) return;
        settled = true;
        client.off("close", onClose);
        // ssh2 may still emit errors while the socket goes down; without a listener they would crash the process.
        client.off("error", onError).on("error", () => undefined);
        socket.destroy();
        counters.add(router, { bytesSent: socket.bytesWritten, bytesReceived: socket.bytesRead });
        reject(error);
      };
      client.on("error", onError);
      client.on("close", onClose);
      client.once("ready", () => {
        settled = true;
        client.off("error", onError).off("close", onClose);
        counters.add(router, { handshakes: 1 });
        // hostVerifier always runs before authentication, so the key is known here.
        resolve(new Connection(options, client, socket, hostKey as SeenHostKey, counters, onConnectionClose));
      });
      try {
        client.connect({
          sock: socket,
          username: options.user,
          password: options.password?.reveal(),
          privateKey: options.privateKey?.reveal(),
          passphrase: options.privateKeyPassword?.reveal(),
          agent: options.agentSocketPath,
          readyTimeout: options.connectTimeoutMs,
          hostVerifier: (blob: Buffer): boolean => {
            hostKey = describeHostKey(blob);
            try {
              checkHostKey(options.hostKeyPolicy, hostKey, router);
              return true;
            } catch (error) {
              mismatch = error as HostKeyMismatchError;
              return false;
            }
          },
        });
      } catch (error) {
        // ssh2 throws synchronously for unusable keys; the message can quote parser details, so redact it.
        fail(new TransportError(router, "connect", redactSecrets(describe(error), options)));
      }
    });
  }

  private constructor(
    options: ConnectionOptions,
    client: Client,
    socket: net.Socket,
    hostKey: SeenHostKey,
    counters: TransportCounters,
    onClose: (conn: Connection) => void,
  ) {
    this.router = options.router;
    this.options = options;
    this.client = client;
    this.socket = socket;
    this.hostKey = hostKey;
    this.counters = counters;
    this.syncBytes();
    client.on("error", (error) => {
      this.lastError = redactSecrets(describe(error), options);
    });
    this.closedPromise = new Promise((resolve) => {
      client.once("close", () => {
        this.ended = true;
        clearTimeout(this.idleTimer);
        this.syncBytes();
        const detail = `connection lost${this.lastError ? ` (${this.lastError})` : ""}`;
        for (const lost of [...this.pending]) lost(detail);
        // Queued commands were never sent; waking them lets them fail as "not sent" and be retried by the pool.
        for (const wake of this.slotWaiters.splice(0)) wake();
        onClose(this);
        resolve();
      });
    });
    this.becameIdle();
  }

  /** True once closing has started or the connection dropped: the pool must not hand it out again. */
  get closed(): boolean {
    return this.ended;
  }

  async exec(command: string, options: ChannelExecOptions): Promise<ExecResult> {
    this.active++;
    clearTimeout(this.idleTimer);
    this.socket.ref();
    try {
      if (this.running >= this.options.maxConcurrentExecs) {
        await new Promise<void>((wake) => this.slotWaiters.push(wake));
      }
      this.running++;
      try {
        return await this.runOnChannel(command, options);
      } finally {
        this.running--;
        this.slotWaiters.shift()?.();
      }
    } finally {
      if (--this.active === 0) this.becameIdle();
    }
  }

  /** ssh2's Client keeps the credentials in its config; inspecting a connection must not print them. */
  [inspect.custom](): string {
    return `Connection(${this.router}, ${this.hostKey.fingerprint}, active ${this.active}${this.ended ? ", closed" : ""})`;
  }

  /** Ends the session politely, and forcibly if the router does not close its side in time. */
  close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      clearTimeout(this.idleTimer);
      // An idle socket is unref'd; whoever awaits this close must not see the process exit under it.
      this.socket.ref();
      this.client.end();
      setTimeout(() => this.client.destroy(), CLOSE_GRACE_MS).unref();
    }
    return this.closedPromise;
  }

  private runOnChannel(command: string, { purpose, stdin, respond, timeoutMs }: ChannelExecOptions): Promise<ExecResult> {
    const { router } = this;
    return new Promise((resolve, reject) => {
      if (this.ended) {
        reject(new ConnectionLostError(router, purpose, "connection closed", false));
        return;
      }
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const redactedStderr = (): string => redactSecrets(decode(stderr), this.options);
      let exit: { code: number | null; signal?: string } | undefined;
      let channel: ClientChannel | undefined;
      let done = false;
      let answered = respond === undefined;
      let respondError: unknown;
      const settle = (outcome: Error | ExecResult): void => {
        if (done) return;
        done = true;
        this.pending.delete(lost);
        clearTimeout(timer);
        this.syncBytes();
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const lost = (detail: string): void => settle(new ConnectionLostError(router, purpose, detail, true, redactedStderr()));
      const timer = setTimeout(() => {
        settle(new ExecTimeoutError(router, purpose, timeoutMs, redactedStderr()));
        channel?.close();
      }, timeoutMs);
      this.pending.add(lost);

      try {
        this.client.exec(command, (error, stream) => {
          if (error) {
            if (this.ended) lost("connection lost while opening the channel");
            else settle(new TransportError(router, purpose, `the router refused the command channel: ${redactSecrets(describe(error), this.options)}`));
            return;
          }
          channel = stream;
          if (done) {
            // Timed out before the channel opened.
            stream.close();
            return;
          }
          stream.on("data", (chunk: Buffer) => {
            stdout.push(chunk);
            if (answered) return;
            let answer: string | undefined;
            try {
              answer = respond!(decode(stdout));
            } catch (error) {
              respondError = error;
              answer = "";
            }
            if (answer === undefined) return;
            answered = true;
            stream.end(answer);
          });
          stream.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
          stream.on("error", (streamError: Error) => lost(`channel error: ${redactSecrets(describe(streamError), this.options)}`));
          stream.on("exit", (code: number | null, signal?: string) => {
            exit = { code: code ?? null, ...(signal ? { signal } : {}) };
          });
          stream.on("close", () => {
            if (respondError !== undefined) settle(respondError instanceof Error ? respondError : new Error(String(respondError)));
            else if (exit) settle({ ...exit, stdout: decode(stdout), stderr: decode(stderr) });
            else lost(this.ended ? "connection lost" : "the channel closed without an exit status");
          });
          if (respond === undefined) stream.end(stdin);
        });
      } catch (error) {
        // ssh2 throws "Not connected" before writing anything when the socket is already gone.
        settle(new ConnectionLostError(router, purpose, redactSecrets(describe(error), this.options), false));
        return;
      }
      this.counters.add(router, { execs: 1 });
    });
  }

  /** Lets an idle connection neither keep the process alive nor linger past idleCloseMs. */
  private becameIdle(): void {
    if (this.ended) return;
    this.socket.unref();
    this.idleTimer = setTimeout(() => void this.close(), this.options.idleCloseMs).unref();
  }

  private syncBytes(): void {
    const { bytesRead, bytesWritten } = this.socket;
    this.counters.add(this.router, {
      bytesReceived: bytesRead - this.bytesRead,
      bytesSent: bytesWritten - this.bytesWritten,
    });
    this.bytesRead = bytesRead;
    this.bytesWritten = bytesWritten;
  }
}

function authMethods(options: ConnectionOptions): string[] {
  return [
    ...(options.password !== undefined ? ["password"] : []),
    ...(options.privateKey !== undefined ? ["privateKey"] : []),
    ...(options.agentSocketPath !== undefined ? ["agent"] : []),
  ];
}

/** Errors from Node's core come from another realm under jest, so this reads fields instead of using instanceof. */
function describe(error: unknown): string {
  const { message, code } = (typeof error === "object" && error !== null ? error : {}) as { message?: unknown; code?: unknown };
  const text = typeof message === "string" ? message : String(error);
  return typeof code === "string" && !text.includes(code) ? `${text} (${code})` : text;
}
