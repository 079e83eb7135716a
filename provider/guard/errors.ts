/** What a router holds after a guarded change that did not go through, as read back from the router. */
export type RouterHolds = "previous" | "unknown";

export class GuardError extends Error {
  constructor(
    message: string,
    readonly txid: string,
    /** The router is back to the state before the change (read from its own record), not just expected to be. */
    readonly restored: boolean,
  ) {
    super(message);
    this.name = "GuardError";
  }

  get holds(): RouterHolds {
    return this.restored ? "previous" : "unknown";
  }
}

export class GuardBusyError extends Error {
  constructor(
    router: string,
    readonly other: string,
    deadline: number | undefined,
    otherDescription: string,
  ) {
    const what = otherDescription ? `${other}: ${otherDescription}` : other;
    const when = deadline ? `, waiting for confirmation until ${new Date(deadline * 1000).toISOString()}` : "";
    super(
      `${router}: another change holds this router (${what}${when}); one writer per router. Nothing was changed. ` +
        "Run again once it is confirmed or restored (see `openwrt-offload snapshots --router ...`); if its deadline has passed " +
        "and it is still held, its timer died: `openwrt-offload rollback --router ... --break-stale` resolves it.",
    );
    this.name = "GuardBusyError";
  }
}
