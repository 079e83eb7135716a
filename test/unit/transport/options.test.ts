import { inspect } from "node:util";
import { utils } from "ssh2";
import {
  InvalidConnectionOptionsError,
  parseConnectionOptions,
  redactSecrets,
  Secret,
  type ConnectionIssue,
  type ConnectionOptionsInput,
} from "../../../provider/transport";

const FP = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";
const base: ConnectionOptionsInput = { host: "192.0.2.1", password: "pw-123456", hostKey: FP };

function issues(input: unknown): ConnectionIssue[] {
  try {
    parseConnectionOptions(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConnectionOptionsError);
    return [...(error as InvalidConnectionOptionsError).issues];
  }
  throw new Error("expected invalid options");
}

describe("connection options", () => {
  it("applies defaults and derives the router label and host-key policy", () => {
    const options = parseConnectionOptions(base);
    expect(options).toMatchObject({
      host: "192.0.2.1",
      port: 22,
      user: "root",
      connectTimeoutMs: 15_000,
      execTimeoutMs: 60_000,
      idleCloseMs: 30_000,
      connectRetries: 2,
      maxConcurrentExecs: 8,
      router: "root@192.0.2.1:22",
      hostKeyPolicy: { mode: "pinned", fingerprint: FP },
    });
    expect(options.password?.reveal()).toBe("pw-123456");
    expect(parseConnectionOptions({ ...base, host: "fd00::1", port: 2222, user: "admin" }).router).toBe("admin@[fd00::1]:2222");
    expect(parseConnectionOptions({ host: "r", agentSocketPath: "/run/agent.sock", trustOnFirstUse: true }).hostKeyPolicy).toEqual({
      mode: "trustOnFirstUse",
    });
    expect(parseConnectionOptions({ host: "r", password: "", insecureIgnoreHostKey: true }).hostKeyPolicy).toEqual({
      mode: "insecureIgnoreHostKey",
    });
  });

  it("requires a host-key mode and says how to get a fingerprint", () => {
    const [issue] = issues({ host: "r", password: "x" });
    expect(issue.path).toBe("hostKey");
    expect(issue.message).toMatch(/set hostKey to the router's SHA256 fingerprint \(ssh-keyscan .* \| ssh-keygen -lf -\), or trustOnFirstUse: true .* or insecureIgnoreHostKey: true/);
    expect(issues({ host: "r", password: "x", trustOnFirstUse: false })[0].path).toBe("hostKey");
  });

  it("allows only one host-key mode", () => {
    expect(issues({ ...base, trustOnFirstUse: true })).toEqual([
      {
        path: "trustOnFirstUse",
        message: "hostKey, trustOnFirstUse and insecureIgnoreHostKey are exclusive; set exactly one (got hostKey and trustOnFirstUse)",
        code: "host-key-exclusive",
      },
    ]);
    expect(issues({ host: "r", password: "", trustOnFirstUse: true, insecureIgnoreHostKey: true })[0].path).toBe("insecureIgnoreHostKey");
  });

  it("rejects fingerprints that are not OpenSSH SHA256", () => {
    const [issue] = issues({ ...base, hostKey: "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48" });
    expect(issue.path).toBe("hostKey");
    expect(issue.message).toMatch(/OpenSSH SHA256 fingerprint/);
  });

  it("requires an authentication method", () => {
    const [issue] = issues({ host: "r", hostKey: FP });
    expect(issue.path).toBe("password");
    expect(issue.message).toMatch(/set password .*, privateKey, or agentSocketPath/);
    expect(issue.code).toBe("auth-required");
    expect(issues({ ...base, privateKeyPassword: "p" })[0]).toEqual({
      path: "privateKeyPassword",
      message: "privateKeyPassword needs privateKey",
      code: "passphrase-without-key",
    });
  });

  it("rejects unknown fields (typos) and bad numbers by name", () => {
    expect(issues({ ...base, hostkey: FP }).map((i) => i.message)).toContain('Unrecognized key: "hostkey"');
    expect(issues({ ...base, port: 70000 })[0].path).toBe("port");
    expect(issues({ ...base, execTimeoutMs: 0 })[0].path).toBe("execTimeoutMs");
  });

  it("reports a key that cannot be parsed as a privateKey issue", () => {
    const [issue] = issues({ ...base, privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n" });
    expect(issue.path).toBe("privateKey");
  });
});

describe("secrets", () => {
  it("print as [secret] and are only reachable through reveal()", () => {
    const secret = new Secret("hunter2");
    expect(String(secret)).toBe("[secret]");
    expect(`${secret}`).toBe("[secret]");
    expect(JSON.stringify({ secret })).toBe('{"secret":"[secret]"}');
    expect(inspect({ secret }, { showHidden: true, depth: Infinity })).toBe("{ secret: [secret] }");
    expect(secret.reveal()).toBe("hunter2");
  });

  it("are redacted from text, including single lines of a private key", () => {
    const key = utils.generateKeyPairSync("ed25519").private;
    const options = parseConnectionOptions({ ...base, password: "pw-123456", privateKey: key });
    const line = key.split("\n")[1];
    expect(redactSecrets(`a pw-123456 b ${line} c`, options)).toBe("a [secret] b [secret] c");
    expect(redactSecrets(`whole: ${key}`, options)).toBe("whole: [secret]");
    expect(redactSecrets("nothing here", parseConnectionOptions({ ...base, password: "" }))).toBe("nothing here");
  });
});
