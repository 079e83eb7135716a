/**
 * A small SSH agent for tests, so that `agentSocketPath` is exercised over a real agent socket on a machine
 * without openssh-client (no ssh-agent, no ssh-add). It speaks the agent protocol of draft-miller-ssh-agent
 * (the one OpenSSH's ssh-agent speaks) on a unix socket, as far as a client logging in needs it:
 * SSH_AGENTC_REQUEST_IDENTITIES and SSH_AGENTC_SIGN_REQUEST; anything else is answered SSH_AGENT_FAILURE.
 * Keys are given as private keys and signed with ssh2's parsed key; it holds ed25519 and RSA keys.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import { utils, type ParsedKey } from "ssh2";

// Message numbers and signature flags (§ 3.6.1 in draft 14) of draft-miller-ssh-agent; OpenSSH's ssh-agent uses the same.
const SSH_AGENT_FAILURE = 5;
const SSH_AGENTC_REQUEST_IDENTITIES = 11;
const SSH_AGENT_IDENTITIES_ANSWER = 12;
const SSH_AGENTC_SIGN_REQUEST = 13;
const SSH_AGENT_SIGN_RESPONSE = 14;
const SSH_AGENT_RSA_SHA2_256 = 0x02;
const SSH_AGENT_RSA_SHA2_512 = 0x04;

/** What the agent was asked, in order: a list of its keys, or a signature. */
export type AgentRequest =
  | { type: "identities" }
  /** `algorithm` is the signature the agent made (for RSA chosen by `flags`); `keyType` the key's own type. */
  | { type: "sign"; keyType: string; flags: number; algorithm: string }
  | { type: "sign-refused"; reason: string }
  | { type: "unsupported"; messageType: number };

export interface TestSshAgent {
  socketPath: string;
  readonly requests: AgentRequest[];
  stop(): Promise<void>;
}

/** SSH wire `string`: uint32 length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** One agent message: uint32 length, then the message type byte and its contents. */
function message(type: number, ...parts: Buffer[]): Buffer {
  return sshString(Buffer.concat([Buffer.from([type]), ...parts]));
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  uint32(): number {
    if (this.pos + 4 > this.buf.length) throw new Error("truncated uint32");
    const value = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return value;
  }
  string(): Buffer {
    const length = this.uint32();
    if (this.pos + length > this.buf.length) throw new Error("truncated string");
    const value = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return value;
  }
}

/** The signature algorithm and hash for a key and the request's flags, as OpenSSH's ssh-agent picks them. */
function signatureAlgorithm(key: ParsedKey, flags: number): { algorithm: string; hash?: string } {
  if (key.type === "ssh-ed25519") return { algorithm: "ssh-ed25519" };
  if (key.type === "ssh-rsa") {
    if (flags & SSH_AGENT_RSA_SHA2_256) return { algorithm: "rsa-sha2-256", hash: "sha256" };
    if (flags & SSH_AGENT_RSA_SHA2_512) return { algorithm: "rsa-sha2-512", hash: "sha512" };
    return { algorithm: "ssh-rsa", hash: "sha1" };
  }
  throw new Error(`the test agent does not sign with ${key.type} keys`);
}

function parsePrivate(text: string): ParsedKey {
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error) throw parsed;
  if (parsed.type !== "ssh-ed25519" && parsed.type !== "ssh-rsa") throw new Error(`the test agent holds ed25519 and RSA keys, not ${parsed.type}`);
  return parsed;
}

/** Listens on `socketPath` (which must not exist) holding `privateKeys` (OpenSSH format, unencrypted). */
export async function startTestSshAgent(socketPath: string, privateKeys: string[]): Promise<TestSshAgent> {
  const keys = privateKeys.map(parsePrivate);
  const requests: AgentRequest[] = [];
  const sockets = new Set<net.Socket>();

  function answer(type: number, body: Buffer): Buffer {
    const contents = new Reader(body);
    if (type === SSH_AGENTC_REQUEST_IDENTITIES) {
      requests.push({ type: "identities" });
      const count = Buffer.alloc(4);
      count.writeUInt32BE(keys.length);
      const identities = keys.map((key) => Buffer.concat([sshString(key.getPublicSSH()), sshString(key.comment ?? "")]));
      return message(SSH_AGENT_IDENTITIES_ANSWER, count, ...identities);
    }
    if (type === SSH_AGENTC_SIGN_REQUEST) {
      const blob = contents.string();
      const data = contents.string();
      const flags = contents.uint32();
      const key = keys.find((candidate) => candidate.getPublicSSH().equals(blob));
      if (!key) {
        requests.push({ type: "sign-refused", reason: "no such key" });
        return message(SSH_AGENT_FAILURE);
      }
      const { algorithm, hash } = signatureAlgorithm(key, flags);
      const signature = key.sign(data, hash);
      if (signature instanceof Error) {
        requests.push({ type: "sign-refused", reason: signature.message });
        return message(SSH_AGENT_FAILURE);
      }
      requests.push({ type: "sign", keyType: key.type, flags, algorithm });
      // The signature in SSH wire format (RFC 8709 § 6, RFC 8332 § 3): string algorithm, string blob.
      return message(SSH_AGENT_SIGN_RESPONSE, sshString(Buffer.concat([sshString(algorithm), sshString(signature)])));
    }
    requests.push({ type: "unsupported", messageType: type });
    return message(SSH_AGENT_FAILURE);
  }

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
        const length = pending.readUInt32BE(0);
        const frame = pending.subarray(4, 4 + length);
        pending = pending.subarray(4 + length);
        let reply: Buffer;
        try {
          reply = length === 0 ? message(SSH_AGENT_FAILURE) : answer(frame[0], frame.subarray(1));
        } catch (error) {
          requests.push({ type: "sign-refused", reason: (error as Error).message });
          reply = message(SSH_AGENT_FAILURE);
        }
        socket.write(reply);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Like ssh-agent's socket: for its owner only.
  fs.chmodSync(socketPath, 0o600);

  return {
    socketPath,
    requests,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
