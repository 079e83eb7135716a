import { utils } from "ssh2";

/**
 * An ed25519 key pair in OpenSSH format that ssh2 itself can parse back. ssh2 1.17's generator
 * occasionally (~1 in 300) emits a private key its own parser rejects as malformed; a router (or a
 * test) must never start with such a key, so those are discarded.
 */
export function generateKeyPair(encryption?: { passphrase: string; cipher: string; rounds: number }): { private: string; public: string } {
  for (;;) {
    const pair = encryption ? utils.generateKeyPairSync("ed25519", encryption) : utils.generateKeyPairSync("ed25519");
    const usable = !(utils.parseKey(pair.private, encryption?.passphrase) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error);
    if (usable) return pair;
  }
}
