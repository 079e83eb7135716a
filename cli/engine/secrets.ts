import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";

/** What a state file keeps about its key: never the key, only how to re-derive it and a way to tell a wrong passphrase. */
export interface PassphraseParams {
  /** base64 scrypt salt */
  salt: string;
  /** a known plaintext encrypted with the derived key */
  check: string;
}

const CHECK_PLAINTEXT = "pulumi-openwrt-offload";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class IncorrectPassphraseError extends Error {
  constructor() {
    super("incorrect passphrase: it does not decrypt this state file's secrets");
    this.name = "IncorrectPassphraseError";
  }
}

/**
 * Symmetric secrets for state files, in the spirit of Pulumi's passphrase secrets provider: a key derived with scrypt
 * from the passphrase and a per-state salt, and AES-256-GCM per value, so tampering fails loudly instead of decrypting
 * to garbage.
 */
export class PassphraseCrypter {
  private constructor(
    private readonly key: Buffer,
    readonly params: PassphraseParams,
  ) {}

  static create(passphrase: string): PassphraseCrypter {
    const salt = randomBytes(16).toString("base64");
    const key = deriveKey(passphrase, salt);
    return new PassphraseCrypter(key, { salt, check: encryptWith(key, CHECK_PLAINTEXT) });
  }

  static open(passphrase: string, params: PassphraseParams): PassphraseCrypter {
    const crypter = new PassphraseCrypter(deriveKey(passphrase, params.salt), params);
    let check: string;
    try {
      check = crypter.decrypt(params.check);
    } catch {
      throw new IncorrectPassphraseError();
    }
    if (check !== CHECK_PLAINTEXT) throw new IncorrectPassphraseError();
    return crypter;
  }

  encrypt(plaintext: string): string {
    return encryptWith(this.key, plaintext);
  }

  decrypt(ciphertext: string): string {
    const raw = Buffer.from(ciphertext, "base64");
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error("malformed ciphertext");
    const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
  }
}

function deriveKey(passphrase: string, salt: string): Buffer {
  return scryptSync(passphrase, Buffer.from(salt, "base64"), 32);
}

function encryptWith(key: Buffer, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
}
