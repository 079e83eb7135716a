import { Duplex } from "stream";
import type * as net from "net";

/**
 * A link with a round-trip time: what the router's SSH server reads from and writes to instead of
 * the bare socket, so that every round trip pays it — the SSH handshake's (key exchange, host key,
 * authentication) as much as each exec's. Each way takes half the round trip; a new connection's
 * first data also waits one round trip more (TCP's own handshake). Order is kept in each direction.
 */
export class SlowLink extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly remoteFamily: string | undefined;
  /** Nothing is delivered before this: the TCP handshake. */
  private readonly opensAt: number;
  private lastIn = 0;
  private lastOut = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly socket: net.Socket,
    private readonly roundTripMs: number,
  ) {
    super();
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.remoteFamily = socket.remoteFamily;
    this.opensAt = Date.now() + roundTripMs;
    socket.on("data", (chunk: Buffer) => {
      this.lastIn = this.later(this.lastIn, () => this.push(chunk));
    });
    socket.on("end", () => {
      this.lastIn = this.later(this.lastIn, () => this.push(null));
    });
    socket.on("close", () => this.destroy());
    socket.on("error", () => undefined);
  }

  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }

  override _read(): void {
    // Data is pushed as it arrives (after its delay).
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.lastOut = this.later(this.lastOut, () => {
      if (!this.socket.destroyed) this.socket.write(chunk);
    });
    done();
  }

  override _final(done: (error?: Error | null) => void): void {
    this.lastOut = this.later(this.lastOut, () => this.socket.end());
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.socket.destroy();
    done(error);
  }

  /** Runs `deliver` half a round trip from now (and not before the link is open, nor before what was sent earlier); returns when. */
  private later(previous: number, deliver: () => void): number {
    const at = Math.max(Date.now(), this.opensAt) + this.roundTripMs / 2;
    const when = Math.max(at, previous);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      deliver();
    }, when - Date.now());
    this.timers.add(timer);
    return when;
  }
}
