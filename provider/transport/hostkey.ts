import { createHash } from "node:crypto";
import { HostKeyMismatchError } from "./errors";

/** How a connection decides whether the router's host key is acceptable. */
export type HostKeyPolicy =
  | { mode: "pinned"; fingerprint: string }
  | { mode: "trustOnFirstUse" }
  | { mode: "insecureIgnoreHostKey" };

/** What the router presented during the handshake. */
export interface SeenHostKey {
  fingerprint: string;
  /** e.g. `ssh-ed25519`; routers often have several host keys and the client negotiates one of them. */
  type: string;
}

/** `SHA256:` + 43 base64 characters: what `ssh-keygen -lf` prints (OpenSSH drops the `=` padding). */
export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/** Accepts a fingerprint with or without the trailing `=` some tools print, and returns OpenSSH's form. */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replace(/=$/, "");
}

/** OpenSSH-style fingerprint of a host key in SSH wire format (the blob ssh2 hands to `hostVerifier`). */
export function hostKeyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/**
 * The key type is the blob's first length-prefixed string; ssh2 has already checked the blob against the
 * negotiated algorithm before it reaches the verifier.
 */
export function describeHostKey(blob: Buffer): SeenHostKey {
  const type = blob.toString("latin1", 4, 4 + blob.readUInt32BE(0));
  return { fingerprint: hostKeyFingerprint(blob), type };
}

/** Throws HostKeyMismatchError when a pinned fingerprint differs from the one seen; other modes accept any key. */
export function checkHostKey(policy: HostKeyPolicy, seen: SeenHostKey, router: string): void {
  if (policy.mode === "pinned" && policy.fingerprint !== seen.fingerprint) {
    throw new HostKeyMismatchError(router, policy.fingerprint, seen);
  }
}
