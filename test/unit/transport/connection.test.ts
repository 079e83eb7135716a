import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { utils } from "ssh2";
import {
  AuthenticationError,
  CommandFailedError,
  ConnectionPool,
  hostKeyFingerprint,
  HostKeyMismatchError,
  InvalidConnectionOptionsError,
  parseConnectionOptions,
  shellCommand,
  TransportError,
  type ConnectionOptionsInput,
} from "../../../provider/transport";
import { startTestSshAgent, type TestSshAgent } from "../../helpers/ssh-agent";
import { startTestSshServer, type TestSshServer } from "../../helpers/ssh-test-server";
import { generateKeyPair } from "../../../sim/keys";

const userKey = generateKeyPair();
const PASSPHRASE = "correct horse battery staple";
const encryptedKey = generateKeyPair({ passphrase: PASSPHRASE, cipher: "aes256-ctr", rounds: 4 });
const agentKey = generateKeyPair();
const agentRsaKey = utils.generateKeyPairSync("rsa", { bits: 2048 });
const otherFingerprint = (() => {
  const parsed = utils.parseKey(utils.generateKeyPairSync("ed25519").public);
  if (parsed instanceof Error) throw parsed;
  return hostKeyFingerprint(parsed.getPublicSSH());
})();

/** Every credential used in this file; none may ever show up in an error or an inspected object. */
const SECRETS = ["router-password", "wrong-password-123", PASSPHRASE, userKey.private, encryptedKey.private];

function expectNoSecrets(value: unknown): void {
  const texts = [inspect(value, { depth: Infinity, showHidden: true }), JSON.stringify(value) ?? "", String(value)];
  if (value instanceof Error) texts.push(value.message, value.stack ?? "");
  for (const text of texts) {
    for (const secret of SECRETS) {
      expect(text).not.toContain(secret);
      for (const line of secret.split("\n").filter((l) => l.length >= 16 && !l.startsWith("-----"))) {
        expect(text).not.toContain(line);
      }
    }
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

let server: TestSshServer;
let pool: ConnectionPool;

beforeAll(async () => {
  server = await startTestSshServer({ authorizedKeys: [userKey.public, encryptedKey.public, agentKey.public, agentRsaKey.public] });
});
afterAll(() => server.stop());
beforeEach(() => {
  pool = new ConnectionPool();
});
afterEach(() => pool.closeAll());

function options(extra: Partial<ConnectionOptionsInput> = {}) {
  return parseConnectionOptions({
    host: server.host,
    port: server.port,
    user: server.user,
    connectRetries: 0,
    ...(extra.privateKey === undefined && extra.agentSocketPath === undefined && !("password" in extra) ? { password: server.password } : {}),
    ...(extra.trustOnFirstUse || extra.insecureIgnoreHostKey ? {} : { hostKey: server.hostKeyFingerprint }),
    ...extra,
  });
}

describe("authentication", () => {
  it("logs in with a password", async () => {
    const result = await pool.exec(options(), "echo hello; echo oops >&2", { purpose: "smoke" });
    expect(result).toEqual({ code: 0, stdout: "hello\n", stderr: "oops\n" });
  });

  it("logs in with a private key", async () => {
    const result = await pool.exec(options({ privateKey: userKey.private }), "id -u >/dev/null && echo key", { purpose: "smoke" });
    expect(result.stdout).toBe("key\n");
  });

  it("logs in with a passphrase-protected private key", async () => {
    const opts = options({ privateKey: encryptedKey.private, privateKeyPassword: PASSPHRASE });
    expect((await pool.exec(opts, "echo enc", { purpose: "smoke" })).stdout).toBe("enc\n");
  });

  it("rejects a wrong or missing passphrase at validation time, without echoing key or passphrase", () => {
    for (const extra of [{ privateKeyPassword: "wrong-password-123" }, {}]) {
      let error: unknown;
      try {
        options({ privateKey: encryptedKey.private, ...extra });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(InvalidConnectionOptionsError);
      expect((error as Error).message).toMatch(/privateKey: privateKey cannot be used/);
      expectNoSecrets(error);
    }
  });

  // The agent is test/helpers/ssh-agent.ts, a real agent socket without openssh-client on the machine.
  describe("through an ssh-agent", () => {
    let dir: string;
    const agents: TestSshAgent[] = [];
    const startAgent = async (name: string, keys: string[]) => {
      const agent = await startTestSshAgent(join(dir, `${name}.sock`), keys);
      agents.push(agent);
      return agent;
    };

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "agent-test-"));
    });
    afterAll(async () => {
      await Promise.all(agents.map((agent) => agent.stop()));
      rmSync(dir, { recursive: true, force: true });
    });

    it("logs in with a key held by the agent", async () => {
      const agent = await startAgent("ed25519", [agentKey.private]);
      const result = await pool.exec(options({ agentSocketPath: agent.socketPath }), "echo agent", { purpose: "smoke" });
      expect(result.stdout).toBe("agent\n");
      expect(agent.requests).toEqual([{ type: "identities" }, { type: "sign", keyType: "ssh-ed25519", flags: 0, algorithm: "ssh-ed25519" }]);
    });

    it("logs in with an RSA key held by the agent, signed with SHA-2 as the client asks", async () => {
      const agent = await startAgent("rsa", [agentRsaKey.private]);
      const result = await pool.exec(options({ agentSocketPath: agent.socketPath }), "echo agent", { purpose: "smoke" });
      expect(result.stdout).toBe("agent\n");
      const signs = agent.requests.filter((r) => r.type === "sign");
      expect(signs).toHaveLength(1);
      expect(signs[0]).toMatchObject({ keyType: "ssh-rsa", algorithm: expect.stringMatching(/^rsa-sha2-(256|512)$/) });
    });

    it("fails with AuthenticationError when the agent holds no key the router accepts", async () => {
      const agent = await startAgent("stranger", [generateKeyPair().private]);
      const error = await rejection(pool.exec(options({ agentSocketPath: agent.socketPath }), "true", { purpose: "smoke" }));
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(agent.requests.some((r) => r.type === "identities")).toBe(true);
    });
  });

  it("fails with AuthenticationError on a wrong password, and never repeats it", async () => {
    const before = server.connections;
    const opts = options({ password: "wrong-password-123", connectRetries: 3 });
    const error = await rejection(pool.exec(opts, "true", { purpose: "smoke" }));
    expect(server.connections - before).toBe(1);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toMatch(/^root@127\.0\.0\.1:\d+: connect: authentication failed \(tried: password\)/);
    expectNoSecrets(error);
  });

  it("does not let a wrong password ride on a session someone else authenticated", async () => {
    await pool.exec(options(), "true", { purpose: "smoke" });
    const error = await rejection(pool.exec(options({ password: "wrong-password-123" }), "true", { purpose: "smoke" }));
    expect(error).toBeInstanceOf(AuthenticationError);
  });

  it("does not hand one caller's failed login to a concurrent caller with other credentials", async () => {
    const [wrong, right] = await Promise.allSettled([
      pool.exec(options({ password: "wrong-password-123" }), "true", { purpose: "smoke" }),
      pool.exec(options(), "echo ok", { purpose: "smoke" }),
    ]);
    expect(wrong.status === "rejected" && wrong.reason).toBeInstanceOf(AuthenticationError);
    expect(right.status === "fulfilled" && right.value.stdout).toBe("ok\n");
  });
});

describe("host keys", () => {
  it("accepts the pinned fingerprint (with or without the = padding)", async () => {
    const info = await pool.connect(options({ hostKey: `${server.hostKeyFingerprint}=` }));
    expect(info).toEqual({
      router: `root@127.0.0.1:${server.port}`,
      hostKey: server.hostKeyFingerprint,
      hostKeyType: "ssh-ed25519",
      hostPublicKey: expect.stringMatching(/^ssh-ed25519 AAAA[A-Za-z0-9+/]+=*$/),
    });
    // The key itself is as good a pin as its fingerprint (what @pulumi/command's hostKey holds).
    expect((await pool.connect(options({ hostKey: info.hostPublicKey }))).hostKey).toBe(server.hostKeyFingerprint);
  });

  it("fails on a mismatch, naming both fingerprints, and does not retry", async () => {
    const before = server.connections;
    const error = await rejection(pool.exec(options({ hostKey: otherFingerprint, connectRetries: 3 }), "true", { purpose: "smoke" }));
    expect(error).toBeInstanceOf(HostKeyMismatchError);
    expect(error.message).toContain(`expected ${otherFingerprint}`);
    expect(error.message).toContain(`seen ${server.hostKeyFingerprint} (ssh-ed25519)`);
    expect(error).toMatchObject({ expected: otherFingerprint, seen: server.hostKeyFingerprint, purpose: "connect" });
    expect(server.connections - before).toBe(1);
    expectNoSecrets(error);
  });

  it("checks each caller's pin against an already pooled connection", async () => {
    await pool.exec(options(), "true", { purpose: "smoke" });
    const error = await rejection(pool.exec(options({ hostKey: otherFingerprint }), "true", { purpose: "smoke" }));
    expect(error).toBeInstanceOf(HostKeyMismatchError);
    expect(pool.counters.snapshot().handshakes).toBe(1);
  });

  it("does not hand one caller's host-key mismatch to a concurrent caller with another policy", async () => {
    const [pinned, tofu] = await Promise.allSettled([
      pool.connect(options({ hostKey: otherFingerprint })),
      pool.connect(options({ trustOnFirstUse: true })),
    ]);
    expect(pinned.status === "rejected" && pinned.reason).toBeInstanceOf(HostKeyMismatchError);
    expect(tofu.status === "fulfilled" && tofu.value.hostKey).toBe(server.hostKeyFingerprint);
  });

  it("trust on first use returns the fingerprint it saw", async () => {
    const info = await pool.connect(options({ trustOnFirstUse: true }));
    expect(info.hostKey).toBe(server.hostKeyFingerprint);
    expect(info.hostKey).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it("connects without verification only when insecureIgnoreHostKey is set", async () => {
    const info = await pool.connect(options({ insecureIgnoreHostKey: true }));
    expect(info.hostKey).toBe(server.hostKeyFingerprint);
  });
});

describe("commands", () => {
  it("sends stdin and then EOF", async () => {
    const opts = options();
    expect((await pool.exec(opts, "cat", { purpose: "echo stdin", stdin: "line 1\nline 2" })).stdout).toBe("line 1\nline 2");
    expect((await pool.exec(opts, "cat; echo done", { purpose: "no stdin" })).stdout).toBe("done\n");
    const script = 'set -eu\nv=$(printf %s "$0")\necho "script ran"\n';
    expect((await pool.exec(opts, "sh -s", { purpose: "script", stdin: Buffer.from(script) })).stdout).toBe("script ran\n");
  });

  it("returns large outputs whole", async () => {
    const result = await pool.exec(options(), "head -c 3000000 /dev/zero | tr '\\0' a", { purpose: "big read" });
    expect(result.stdout.length).toBe(3_000_000);
  });

  it("fails a non-zero exit with router, purpose, exit code and stderr, unless the code is accepted", async () => {
    const opts = options();
    const error = await rejection(pool.exec(opts, "echo 'uci: Entry not found' >&2; exit 1", { purpose: "read flow_offloading" }));
    expect(error).toBeInstanceOf(CommandFailedError);
    expect(error.message).toBe(`root@127.0.0.1:${server.port}: read flow_offloading: command exited with code 1; stderr: uci: Entry not found`);
    expect(error).toMatchObject({ exitCode: 1, stderr: "uci: Entry not found", purpose: "read flow_offloading" });
    await expect(pool.exec(opts, "exit 1", { purpose: "check", okExitCodes: [0, 1] })).resolves.toMatchObject({ code: 1 });
    await expect(pool.exec(opts, "kill -9 $$", { purpose: "signal", okExitCodes: "any" })).resolves.toMatchObject({ code: null, signal: "SIGKILL" });
    await expect(pool.exec(opts, "kill -9 $$", { purpose: "signal" })).rejects.toThrow(/signal: command killed by signal SIGKILL/);
  });

  it("redacts credentials that show up in remote stderr", async () => {
    const opts = options();
    const error = await rejection(pool.exec(opts, `${shellCommand(["echo", `password is ${server.password}`])} >&2; exit 2`, { purpose: "leak" }));
    expect(error.message).toContain("password is [secret]");
    expect((error as TransportError).stderr).toBe("password is [secret]");
    expectNoSecrets(error);
  });
});

describe("secrets never show", () => {
  it("in parsed options", () => {
    for (const opts of [
      options(),
      options({ privateKey: userKey.private }),
      options({ privateKey: encryptedKey.private, privateKeyPassword: PASSPHRASE }),
    ]) {
      expectNoSecrets(opts);
      expect(inspect(opts)).toContain("[secret]");
    }
  });

  it("in validation errors", () => {
    let error: unknown;
    try {
      parseConnectionOptions({ host: "", port: 0, password: "router-password", privateKey: "not a key router-password" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidConnectionOptionsError);
    expectNoSecrets(error);
  });

  it("in a pool or its counters", async () => {
    await pool.exec(options({ privateKey: encryptedKey.private, privateKeyPassword: PASSPHRASE }), "true", { purpose: "smoke" });
    expectNoSecrets(pool);
    expectNoSecrets(pool.counters);
  });
});
