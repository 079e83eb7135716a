import type { SeenHostKey } from "./hostkey";

/** Enough stderr to see why a command failed, without dragging megabytes into Pulumi's error output. */
const STDERR_TAIL_CHARS = 2000;

function tail(text: string): string {
  const trimmed = text.trimEnd();
  return trimmed.length <= STDERR_TAIL_CHARS ? trimmed : `…${trimmed.slice(-STDERR_TAIL_CHARS)}`;
}

/**
 * Base of every failure talking to a router. Messages read `<user@host:port>: <purpose>: <what happened>`.
 * Callers must pass text that has already been redacted (see `redactSecrets`): these classes never see the
 * connection options, so they cannot leak them, and they keep no `cause` because ssh2's own errors are not
 * guaranteed to be secret-free.
 */
export class TransportError extends Error {
  /** `user@host:port`, the pool key. */
  readonly router: string;
  /** What the caller was doing ("connect", "read firewall defaults", …). */
  readonly purpose: string;
  /** The remote exit code; null when the command did not exit normally or never ran. */
  readonly exitCode: number | null;
  /** The last part of the remote stderr, if any. */
  readonly stderr: string;

  constructor(router: string, purpose: string, detail: string, remote?: { exitCode: number | null; stderr: string }) {
    const stderr = tail(remote?.stderr ?? "");
    super(`${router}: ${purpose}: ${detail}${stderr ? `; stderr: ${stderr}` : ""}`);
    this.name = new.target.name;
    this.router = router;
    this.purpose = purpose;
    this.exitCode = remote?.exitCode ?? null;
    this.stderr = stderr;
  }
}

export class HostKeyMismatchError extends TransportError {
  readonly expected: string;
  readonly seen: string;
  readonly seenType: string;

  constructor(router: string, expected: string, seen: SeenHostKey) {
    super(
      router,
      "connect",
      `host key mismatch: expected ${expected} (hostKey), seen ${seen.fingerprint} (${seen.type}). ` +
        "If the router was reinstalled or its key replaced, verify the new key out of band " +
        `(ssh-keyscan -t ${seen.type} HOST | ssh-keygen -lf -) and update hostKey; ` +
        "otherwise something may be intercepting the connection",
    );
    this.expected = expected;
    this.seen = seen.fingerprint;
    this.seenType = seen.type;
  }
}

export class AuthenticationError extends TransportError {
  constructor(router: string, methods: readonly string[]) {
    super(
      router,
      "connect",
      `authentication failed (tried: ${methods.join(", ") || "none"}); check user, password, privateKey, ` +
        "privateKeyPassword or agentSocketPath",
    );
  }
}

export class ConnectTimeoutError extends TransportError {
  readonly timeoutMs: number;

  constructor(router: string, timeoutMs: number) {
    super(router, "connect", `no SSH session within ${timeoutMs} ms (connectTimeoutMs): TCP connect, handshake and authentication did not finish`);
    this.timeoutMs = timeoutMs;
  }
}

export class ExecTimeoutError extends TransportError {
  readonly timeoutMs: number;

  constructor(router: string, purpose: string, timeoutMs: number, stderr: string) {
    super(
      router,
      purpose,
      `command did not finish within ${timeoutMs} ms; the channel was closed, and the command may have partly run ` +
        "or may still be running on the router",
      { exitCode: null, stderr },
    );
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The SSH connection (or the command's channel) went away. When `commandSent` is true the outcome on the router is
 * unknown; when false the command never left this process, so running it again is safe whatever it does.
 */
export class ConnectionLostError extends TransportError {
  readonly commandSent: boolean;

  constructor(router: string, purpose: string, detail: string, commandSent: boolean, stderr = "") {
    super(
      router,
      purpose,
      commandSent
        ? `${detail}; the outcome on the router is unknown (the command may or may not have run)`
        : `${detail}; the command was not sent`,
      { exitCode: null, stderr },
    );
    this.commandSent = commandSent;
  }
}

export class CommandFailedError extends TransportError {
  readonly signal: string | undefined;

  constructor(router: string, purpose: string, exitCode: number | null, signal: string | undefined, stderr: string) {
    super(router, purpose, signal ? `command killed by signal ${signal}` : `command exited with code ${exitCode}`, {
      exitCode,
      stderr,
    });
    this.signal = signal;
  }
}
