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
  /** `type base64`, the authorized_keys / known_hosts form (what @pulumi/command's `hostKey` takes). */
  publicKey: string;
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
  return { fingerprint: hostKeyFingerprint(blob), type, publicKey: `${type} ${blob.toString("base64")}` };
}

/** `ssh-ed25519 AAAA...` (an optional comment after it is ignored). */
export const PUBLIC_KEY_PATTERN = /^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+) ([A-Za-z0-9+/]+={0,2})(\s.*)?$/;

/**
 * A pin given either as a fingerprint or as the public key itself (the form known_hosts and
 * @pulumi/command use), reduced to the fingerprint.
 */
export function pinnedFingerprint(hostKey: string): string {
  const key = hostKey.trim().match(PUBLIC_KEY_PATTERN);
  return key ? hostKeyFingerprint(Buffer.from(key[2], "base64")) : normalizeFingerprint(hostKey);
}

/** Throws HostKeyMismatchError when a pinned fingerprint differs from the one seen; other modes accept any key. */
export function checkHostKey(policy: HostKeyPolicy, seen: SeenHostKey, router: string): void {
  if (policy.mode === "pinned" && policy.fingerprint !== seen.fingerprint) {
    throw new HostKeyMismatchError(router, policy.fingerprint, seen);
  }
}
