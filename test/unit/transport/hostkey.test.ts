import { createHash } from "node:crypto";
import { utils } from "ssh2";
import { HostKeyMismatchError } from "../../../provider/transport";
import { checkHostKey, describeHostKey, hostKeyFingerprint, normalizeFingerprint, pinnedFingerprint } from "../../../provider/transport/hostkey";

function blobOf(publicKey: string): Buffer {
  const parsed = utils.parseKey(publicKey);
  if (parsed instanceof Error) throw parsed;
  return parsed.getPublicSSH();
}

/**
 * Known answers: three keys made with OpenSSH 9.2p1's ssh-keygen and the fingerprint its `ssh-keygen -lf`
 * printed for each, the form an operator copies from a router or from an SSH client's first-connect prompt.
 * Recorded once so that the check needs no openssh-client on the machine that runs it.
 */
const PRINTED_BY_SSH_KEYGEN: [string, string, string, string][] = [
  [
    "ed25519",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII1zW2nJkJAUatkfnx5+a/dr4ErFMNS95qNpJBy9TVcq",
    "ssh-ed25519",
    "SHA256:L51h7FsQeUzjfd6tmCWgaumoAAzD3KsuC7eO9cvr8wo",
  ],
  [
    "rsa",
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDRcwbRQk+THY7MK2+oSpZrTcEUVPKtuljvjIrf7PFAouthsfntd62k/6/GsCdUSWdvHbsofzB6eW8pVMsN5yw9O8n4G0CdcDF+v3mlcBgXhTzJQ+Fwu74LbmeN7GHkQAsHuQeDP8aidXoM9fcbBWxyk0eH0pC1uwC1e2WvWTvLhGCycxSFXDs+HbxtiDIJdeK5WhkyoDoYGSo8AoDhIbLJ+KXQkWl4LdKHD6GelKHxqgfGYI8wfvOxKCrqwRcfQo6xfOzLrGnqRHKLubERD/FCBkFWtzZIGmz4DhuOUFf2VTVxWLhuEgrlT7xmau2Fies35QveTMqvijVUmrfdNA87",
    "ssh-rsa",
    "SHA256:AeKC7EDakt3ZwzakupSaK97oTCQnLnWdORff4GQoYvw",
  ],
  [
    "ecdsa",
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKQeAIFvPKnqnJOTsy2mv2i81dAPJgpdirsNDWC621nBJVDHodse2CPAuIrSK7bySxb+Vq8mAx5tUIwcNbjb9lQ=",
    "ecdsa-sha2-nistp256",
    "SHA256:3h8pRu+zbnrD91ZvFuCRqVgdkE9wfyNgJc8qwx6iXdg",
  ],
];

describe("host key fingerprints", () => {
  it.each(PRINTED_BY_SSH_KEYGEN)("match what ssh-keygen -lf printed for an %s key", (_name, publicKey, type, printed) => {
    expect(hostKeyFingerprint(blobOf(publicKey))).toBe(printed);
    expect(describeHostKey(blobOf(publicKey))).toEqual({ fingerprint: printed, type, publicKey });
    expect(pinnedFingerprint(publicKey)).toBe(printed);
  });

  it.each([
    ["ed25519", utils.generateKeyPairSync("ed25519").public, "ssh-ed25519"],
    ["rsa", utils.generateKeyPairSync("rsa", { bits: 2048 }).public, "ssh-rsa"],
    ["ecdsa", utils.generateKeyPairSync("ecdsa", { bits: 256 }).public, "ecdsa-sha2-nistp256"],
  ])("are OpenSSH's SHA256 of the key line's own bytes for a freshly generated %s key", (_name, publicKey, type) => {
    // OpenSSH's definition (sshkey_fingerprint): SHA-256 over the decoded base64 field, printed as unpadded base64.
    const [algo, base64] = publicKey.trim().split(" ");
    const digest = createHash("sha256").update(Buffer.from(base64, "base64")).digest("base64");
    const openssh = `SHA256:${digest.replace(/=+$/, "")}`;
    expect(algo).toBe(type);
    expect(hostKeyFingerprint(blobOf(publicKey))).toBe(openssh);
    expect(describeHostKey(blobOf(publicKey))).toEqual({ fingerprint: openssh, type, publicKey: `${algo} ${base64}` });
  });

  it("normalizes a padded fingerprint to OpenSSH's unpadded form", () => {
    const fp = hostKeyFingerprint(blobOf(utils.generateKeyPairSync("ed25519").public));
    expect(normalizeFingerprint(`${fp}=`)).toBe(fp);
    expect(normalizeFingerprint(fp)).toBe(fp);
  });

  it("checks pins and lets the opt-in modes through", () => {
    const seen = describeHostKey(blobOf(utils.generateKeyPairSync("ed25519").public));
    const other = hostKeyFingerprint(blobOf(utils.generateKeyPairSync("ed25519").public));
    expect(() => checkHostKey({ mode: "pinned", fingerprint: seen.fingerprint }, seen, "root@r1:22")).not.toThrow();
    expect(() => checkHostKey({ mode: "trustOnFirstUse" }, seen, "root@r1:22")).not.toThrow();
    expect(() => checkHostKey({ mode: "insecureIgnoreHostKey" }, seen, "root@r1:22")).not.toThrow();
    expect(() => checkHostKey({ mode: "pinned", fingerprint: other }, seen, "root@r1:22")).toThrow(HostKeyMismatchError);
    expect(() => checkHostKey({ mode: "pinned", fingerprint: other }, seen, "root@r1:22")).toThrow(
      `root@r1:22: connect: host key mismatch: expected ${other} (hostKey), seen ${seen.fingerprint} (ssh-ed25519)`,
    );
  });
});

describe("pins given as the public key itself", () => {
  test("reduce to the same fingerprint as the key's blob, comment ignored", () => {
    const pair = utils.generateKeyPairSync("ed25519");
    const blob = blobOf(pair.public);
    expect(pinnedFingerprint(`${pair.public.trim()} root@router`)).toBe(hostKeyFingerprint(blob));
    expect(pinnedFingerprint(hostKeyFingerprint(blob) + "=")).toBe(hostKeyFingerprint(blob));
  });
});
