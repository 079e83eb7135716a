/** Faults a test can inject into a simulated router (all off by default; most clear themselves once used). */
export interface Faults {
  /**
   * Cut the SSH link once, without a goodbye: after `afterExecs` more execs have completed, or when
   * a command matches `matching`. The triggering command still runs to completion on the router
   * (as when a link dies right after a command was sent); its caller never sees the result.
   */
  dropConnection?: { afterExecs?: number; matching?: string | RegExp };
  /** The next firewall start/reload/restart fails in nft; the old ruleset stays. */
  failNextFirewallReload?: boolean;
  /** The overlay is full: df shows no space, commits and installs fail. */
  overlayFull?: boolean;
  /** Added delay before every exec, in milliseconds (a slow link or a busy router). */
  latencyMs?: number;
  /** The router presents a different host key than the one it was created with (a re-flashed or spoofed router). */
  hostKeyChanged?: boolean;
  /** How long a crash-prone driver survives hardware offload under load before the router reboots. */
  crashAfterMs?: number;
}
