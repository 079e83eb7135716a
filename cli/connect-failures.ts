import { AuthenticationError, ConnectTimeoutError, HostKeyMismatchError, TransportError } from "../provider/transport";

/** How the operator named the connection: flags of a one-router command, or keys of an inventory. */
export type Vocabulary = "flags" | "inventory";

const WORDS = {
  flags: { address: "--router HOST:PORT", user: "-u/--user", key: "-i/--identity", password: "--password-env", hostKey: "--host-key", timeout: " or raise --connect-timeout" },
  inventory: { address: "the router's host and port in the inventory", user: "user", key: "identityFile", password: "passwordEnv", hostKey: "hostKey", timeout: " or raise --connect-timeout" },
} as const;

export interface Explanation {
  /** What happened, in one sentence. */
  what: string;
  /** What to do about it. */
  fix: string;
}

/**
 * The failures a new operator meets first, each in a sentence and with its fix in the names the
 * operator used. Undefined for everything else: the error's own message then stands alone.
 */
export function explainConnectFailure(err: unknown, vocabulary: Vocabulary): Explanation | undefined {
  if (!(err instanceof TransportError) || err.purpose !== "connect") return undefined;
  const w = WORDS[vocabulary];
  const at = err.router.replace(/^[^@]*@/, "");
  if (err instanceof HostKeyMismatchError) {
    return {
      what: `${at} presented host key ${err.seen}, not the pinned ${err.expected}.`,
      fix: `if the router was reinstalled, check its new key out of band (ssh-keyscan -t ${err.seenType} HOST | ssh-keygen -lf -) and pin it with ${w.hostKey}; otherwise something may be intercepting the connection.`,
    };
  }
  if (err instanceof AuthenticationError) {
    return {
      what: `${at} refused the login as ${err.router.split("@")[0]}.`,
      fix: `check ${w.user}, and that the public half of the key given with ${w.key} is in the router's /etc/dropbear/authorized_keys (or log in with a password: ${w.password}).`,
    };
  }
  if (err instanceof ConnectTimeoutError) {
    return {
      what: `no SSH server answered at ${at} within ${err.timeoutMs / 1000} s: the address or port cannot be reached from here (a wrong address or port, a firewall dropping it, or the router is down).`,
      fix: `check ${w.address} and the route to it${w.timeout}.`,
    };
  }
  if (/ECONNREFUSED/.test(err.message)) {
    return {
      what: `nothing accepts connections at ${at} (connection refused).`,
      fix: `check the port in ${w.address}, and that the router's SSH server (dropbear) is running.`,
    };
  }
  if (/EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL/.test(err.message)) {
    return { what: `there is no route from here to ${at}.`, fix: `check the address in ${w.address} and this machine's network.` };
  }
  if (/ENOTFOUND|EAI_AGAIN/.test(err.message)) {
    return { what: `the name in ${at} does not resolve.`, fix: `check the host in ${w.address}, or use its IP address.` };
  }
  if (/lost before handshake|closed the connection during the SSH handshake/.test(err.message)) {
    return {
      what: `${at} closed the connection before SSH started.`,
      fix: `check that ${w.address} names the router's SSH port (dropbear listens on 22 unless changed).`,
    };
  }
  return undefined;
}

/** One line per distinct fix, naming the routers it applies to: thirty unreachable routers need one fix, said once. */
export function fixLines(failed: { name: string; fix: string | null }[]): string[] {
  const byFix = new Map<string, string[]>();
  for (const { name, fix } of failed) if (fix) byFix.set(fix, [...(byFix.get(fix) ?? []), name]);
  return [...byFix].map(([fix, names]) => `  fix for ${names.length > 5 ? `${names.slice(0, 5).join(", ")} and ${names.length - 5} more` : names.join(", ")}: ${fix}`);
}
