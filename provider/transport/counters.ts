export interface CounterValues {
  /** Completed SSH handshakes (TCP + key exchange + authentication). */
  handshakes: number;
  /** Commands sent (exec requests), including ones that later failed or timed out. */
  execs: number;
  /** Bytes written to / read from the TCP socket, so SSH framing and handshakes are included. */
  bytesSent: number;
  bytesReceived: number;
}

const zero = (): CounterValues => ({ handshakes: 0, execs: 0, bytesSent: 0, bytesReceived: 0 });

/** Process-wide and per-router totals, for tests and benchmarks (pooled vs. one-connection-per-command). */
export class TransportCounters {
  private total = zero();
  private perRouter = new Map<string, CounterValues>();

  add(router: string, delta: Partial<CounterValues>): void {
    let entry = this.perRouter.get(router);
    if (!entry) {
      entry = zero();
      this.perRouter.set(router, entry);
    }
    for (const key of Object.keys(delta) as (keyof CounterValues)[]) {
      const amount = delta[key] ?? 0;
      this.total[key] += amount;
      entry[key] += amount;
    }
  }

  /** A copy of the totals for one router (`user@host:port`), or for the whole process. */
  snapshot(router?: string): CounterValues {
    const source = router === undefined ? this.total : this.perRouter.get(router);
    return { ...(source ?? zero()) };
  }

  reset(): void {
    this.total = zero();
    this.perRouter = new Map();
  }
}
