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
  /** What is on its way, each direction in order (one timer each: timers due at the same time may fire in any order). */
  private readonly inbound = new Lane();
  private readonly outbound = new Lane();

  constructor(
    private readonly socket: net.Socket,
    private readonly roundTripMs: number,
  ) {
    super();
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.remoteFamily = socket.remoteFamily;
    this.opensAt = Date.now() + roundTripMs;
    socket.on("data", (chunk: Buffer) => this.inbound.add(this.due(), () => this.push(chunk)));
    socket.on("end", () => this.inbound.add(this.due(), () => this.push(null)));
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
    this.outbound.add(this.due(), () => {
      if (!this.socket.destroyed) this.socket.write(chunk);
    });
    done();
  }

  override _final(done: (error?: Error | null) => void): void {
    this.outbound.add(this.due(), () => this.socket.end());
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.inbound.clear();
    this.outbound.clear();
    this.socket.destroy();
    done(error);
  }

  /** When what is sent now arrives: half a round trip from now, and not before the link is open. */
  private due(): number {
    return Math.max(Date.now(), this.opensAt) + this.roundTripMs / 2;
  }
}

/** Deliveries in the order they were added, each at its time or, if an earlier one is later, right after it. */
class Lane {
  private readonly queue: { at: number; deliver: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  add(at: number, deliver: () => void): void {
    this.queue.push({ at, deliver });
    if (this.queue.length === 1) this.wake();
  }

  clear(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private wake(): void {
    this.timer = setTimeout(() => {
      while (this.queue.length > 0 && this.queue[0].at <= Date.now()) this.queue.shift()!.deliver();
      if (this.queue.length > 0) this.wake();
    }, Math.max(0, this.queue[0].at - Date.now()));
  }
}
