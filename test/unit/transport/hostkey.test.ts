import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { utils } from "ssh2";
import { HostKeyMismatchError } from "../../../provider/transport";
import { checkHostKey, describeHostKey, hostKeyFingerprint, normalizeFingerprint, pinnedFingerprint } from "../../../provider/transport/hostkey";

const dir = mkdtempSync(join(tmpdir(), "hostkey-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function blobOf(publicKey: string): Buffer {
  const parsed = utils.parseKey(publicKey);
  if (parsed instanceof Error) throw parsed;
  return parsed.getPublicSSH();
}

describe("host key fingerprints", () => {
  it.each([
    ["ed25519", utils.generateKeyPairSync("ed25519").public, "ssh-ed25519"],
    ["rsa", utils.generateKeyPairSync("rsa", { bits: 2048 }).public, "ssh-rsa"],
    ["ecdsa", utils.generateKeyPairSync("ecdsa", { bits: 256 }).public, "ecdsa-sha2-nistp256"],
  ])("match what ssh-keygen -lf prints for %s keys", (name, publicKey, type) => {
    const file = join(dir, `${name}.pub`);
    writeFileSync(file, `${publicKey}\n`);
    const openssh = execFileSync("ssh-keygen", ["-lf", file], { encoding: "utf8" }).split(" ")[1];
    expect(hostKeyFingerprint(blobOf(publicKey))).toBe(openssh);
    expect(describeHostKey(blobOf(publicKey))).toEqual({ fingerprint: openssh, type, publicKey: publicKey.split(" ").slice(0, 2).join(" ") });
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
