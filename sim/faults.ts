import type { PowerLoss } from "./flash";

/**
 * A power cut: the router dies at once and boots again with only what was synced to flash. It
 * strikes once an SSH exec has completed (`afterExecs` more execs, or one `matching`; the caller
 * may have seen its output, never its exit status), or once an emulated program (uci, fw4, nft, sync, opkg, …) has done its
 * work (`afterCalls` more calls, or one whose argv `callMatching`; the calling script never goes on).
 */
export interface CrashFault {
  afterExecs?: number;
  matching?: string | RegExp;
  afterCalls?: number;
  callMatching?: string | RegExp;
  /** With `callMatching`: strike at this matching call (default the first). */
  occurrence?: number;
  /** What the flash loses (default: every unsynced change). */
  lose?: PowerLoss;
  /** Seed for "some-unsynced", so a failing case can be replayed. */
  seed?: number;
}

/** Faults a test can inject into a simulated router (all off by default; most clear themselves once used). */
export interface Faults {
  /**
   * Cut the SSH link once, without a goodbye: after `afterExecs` more execs have completed, or when
   * a command matches `matching`. The triggering command still runs to completion on the router
   * (as when a link dies right after a command was sent or answered); its caller may have seen its
   * output, but never its exit status.
   */
  dropConnection?: {
    afterExecs?: number;
    matching?: string | RegExp;
    /** The link stays down this long (every connection cut, new ones refused); default: only that connection dies. */
    downForMs?: number;
  };
  /** The next firewall start/reload/restart fails in nft; the old ruleset stays. */
  failNextFirewallReload?: boolean;
  /** The overlay is full: df shows no space, commits and installs fail. */
  overlayFull?: boolean;
  /**
   * The link's round-trip time in milliseconds, for connections opened from then on: every packet
   * each way takes half of it, so the SSH handshake's round trips pay it as much as each exec's.
   */
  latencyMs?: number;
  /** The router presents a different host key than the one it was created with (a re-flashed or spoofed router). */
  hostKeyChanged?: boolean;
  /** How long a crash-prone driver survives hardware offload under load before the router crashes. */
  crashAfterMs?: number;
  /** A power cut at a chosen step (clears itself once it struck). */
  crash?: CrashFault;
}
