import * as fs from "fs";
import { createRequire } from "module";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { utils } from "ssh2";
import * as openwrt from "pulumi-openwrt-offload";
import { startSimulatedRouter, type SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { shellQuote } from "../../provider/transport";
import { generateKeyPair } from "../../sim/keys";
import { startTestSshAgent } from "../helpers/ssh-agent";

/**
 * examples/command-interop without @pulumi/command's provider plugin (which cannot be had here: see
 * tools/pulumi/README.md): the program runs under `pulumi.runtime.setMocks`, but the mocks run what the engine would
 * for our resources, the serialized dynamic provider itself (check, then create) against a simulated router. So the
 * `connection` that remote.Command receives is the one the real Router outputs, and these tests check it is what
 * @pulumi/command's remote.ConnectionArgs takes: only its field names (read from its type declarations), a host key
 * in the authorized_keys form its provider parses (the router's own key), and the credentials as given.
 */
const REPO = path.join(__dirname, "../..");
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const nativeRequire = createRequire(__filename);

type Props = Record<string, unknown>;
const isSecret = (v: unknown): v is { value: unknown } => typeof v === "object" && v !== null && SECRET_SIG in v;
const secret = (value: unknown) => ({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", value });

function reveal(v: unknown): unknown {
  if (isSecret(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
  return v;
}

/** The field names of @pulumi/command's remote.ConnectionArgs, from its type declarations. */
function connectionArgsFields(): string[] {
  const dts = fs.readFileSync(path.join(REPO, "node_modules/@pulumi/command/types/input.d.ts"), "utf8");
  const body = /interface ConnectionArgs \{([\s\S]*?)\n {4}\}/.exec(dts)![1];
  return [...body.matchAll(/^ {8}(\w+)\??:/gm)].map((m) => m[1]).sort();
}

interface Registered {
  type: string;
  name: string;
  inputs: Props;
}

/** Runs `program` under mocks that create our dynamic resources with their real, serialized provider. */
async function runWithProviders(project: string, config: Record<string, string>, secretKeys: string[], program: () => unknown): Promise<Registered[]> {
  const registered: Registered[] = [];
  pulumi.runtime.setMocks(
    {
      async newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        if (!args.type.startsWith("pulumi-nodejs:dynamic/openwrt:")) return { id: `${args.name}-id`, state: { ...args.inputs, stdout: "" } };
        // What the dynamic-provider plugin does with the text in __provider: load it, check, create.
        const provider = nativeRequire("require-from-string")(args.inputs.__provider as string).handler();
        const news = reveal(args.inputs) as Props;
        const checked = await provider.check({}, news);
        if (checked.failures?.length) throw new Error(`${args.name}: ${JSON.stringify(checked.failures)}`);
        const { id, outs } = await provider.create(checked.inputs);
        // The engine marks additionalSecretOutputs secret (Router: connection and the credentials).
        const state = { ...outs, connection: secret(outs.connection) };
        return { id, state };
      },
      call: (args) => args.inputs,
    },
    project,
    "test",
    false,
  );
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`${project}:${k}`, v])), secretKeys.map((k) => `${project}:${k}`));
  await program();
  // Let every registration reach the mocks.
  for (let i = 0; i < 50 && !registered.some((r) => r.type === "command:remote:Command"); i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 100));
  return registered;
}

function commandConnection(registered: Registered[]): Props {
  const command = registered.find((r) => r.type === "command:remote:Command");
  if (!command) throw new Error(`no remote.Command registered: ${registered.map((r) => r.type).join(", ")}`);
  expect(isSecret(command.inputs.connection)).toBe(true);
  return reveal(command.inputs.connection) as Props;
}

/** The router's host key in OpenSSH's authorized_keys form, as @pulumi/command's provider parses hostKey. */
function expectRoutersHostKey(hostKey: unknown, sim: SimulatedRouter): void {
  expect(hostKey).toMatch(/^ssh-ed25519 [A-Za-z0-9+/=]+$/);
  const parsed = utils.parseKey(hostKey as string);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  const fingerprint = `SHA256:${require("crypto").createHash("sha256").update(key.getPublicSSH()).digest("base64").replace(/=+$/, "")}`;
  expect(fingerprint).toBe(sim.hostKeyFingerprint);
}

let sim: SimulatedRouter;
let work: string;

beforeAll(async () => {
  if (!fs.existsSync(path.join(REPO, "dist/provider/index.js"))) throw new Error("the serialized providers load this package from dist/: run `npm run build` first");
  sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
  work = fs.mkdtempSync(path.join(os.tmpdir(), "command-interop-"));
});

afterAll(async () => {
  await nativeRequire(path.join(REPO, "dist/provider/transport")).getPool().closeAll();
  await sim?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe("examples/command-interop: remote.Command gets Router.connection as @pulumi/command takes it", () => {
  test("the example: host, port, user, privateKey and the router's own host key; nothing remote.ConnectionArgs lacks", async () => {
    const registered = await runWithProviders(
      "openwrt-offload-command",
      { host: sim.host, port: String(sim.port), hostKey: sim.hostKeyFingerprint, sshKey: sim.privateKey },
      ["sshKey"],
      () => jest.isolateModulesAsync(async () => void (await import("../../examples/command-interop/index"))),
    );
    const connection = commandConnection(registered);
    const fields = connectionArgsFields();
    expect(fields).toEqual(
      ["agentSocketPath", "dialErrorLimit", "host", "hostKey", "password", "perDialTimeout", "port", "privateKey", "privateKeyPassword", "proxy", "user"].sort(),
    );
    expect(Object.keys(connection).filter((k) => !fields.includes(k))).toEqual([]);
    // remote.Command fills in its own defaults (dialErrorLimit, perDialTimeout); the rest is the Router's.
    expect(connection).toEqual({ host: sim.host, port: sim.port, user: "root", privateKey: sim.privateKey, hostKey: expect.any(String), dialErrorLimit: 10, perDialTimeout: 15 });
    expectRoutersHostKey(connection.hostKey, sim);
    const command = registered.find((r) => r.type === "command:remote:Command")!;
    expect(command.inputs.create).toBe('logger -t offload "flow offloading is software"'); // FirewallDefaults ran for real: flowOffloading, no flowOffloadingHw
  }, 60_000);

  test("an encrypted key: privateKeyPassword passes through under @pulumi/command's name", async () => {
    // A second key of the router's, encrypted (no ssh-keygen needed: the tests run without openssh-client).
    const pair = generateKeyPair({ passphrase: "key passphrase", cipher: "aes256-ctr", rounds: 4 });
    await sim.console(`echo ${shellQuote(pair.public)} >> /etc/dropbear/authorized_keys`);
    const encrypted = pair.private;
    expect(utils.parseKey(encrypted)).toBeInstanceOf(Error); // unreadable without its passphrase
    const registered = await runWithProviders("interop", {}, [], () => {
      const edge = new openwrt.Router("edge-enc", {
        host: sim.host,
        port: sim.port,
        privateKey: pulumi.secret(encrypted),
        privateKeyPassword: pulumi.secret("key passphrase"),
        hostKey: sim.hostKeyFingerprint,
      });
      new remote.Command("note", { connection: edge.connection, create: "true" });
    });
    const connection = commandConnection(registered);
    expect(connection).toMatchObject({ privateKey: encrypted, privateKeyPassword: "key passphrase" });
    expect(Object.keys(connection).filter((k) => !connectionArgsFields().includes(k))).toEqual([]);
    expectRoutersHostKey(connection.hostKey, sim);
  }, 60_000);

  test("an SSH agent: agentSocketPath passes through under @pulumi/command's name (and the Router really used it)", async () => {
    // A real agent socket (test/helpers/ssh-agent.ts), holding the router's key.
    const agent = await startTestSshAgent(path.join(work, "agent.sock"), [sim.privateKey]);
    const socket = agent.socketPath;
    try {
      const registered = await runWithProviders("interop", {}, [], () => {
        const edge = new openwrt.Router("edge-agent", { host: sim.host, port: sim.port, agentSocketPath: socket, hostKey: sim.hostKeyFingerprint });
        new remote.Command("note", { connection: edge.connection, create: "true" });
      });
      const connection = commandConnection(registered);
      expect(connection).toEqual({ host: sim.host, port: sim.port, user: "root", agentSocketPath: socket, hostKey: expect.any(String), dialErrorLimit: 10, perDialTimeout: 15 });
      expectRoutersHostKey(connection.hostKey, sim);
      expect(agent.requests.filter((r) => r.type === "sign").length).toBeGreaterThan(0);
    } finally {
      await agent.stop();
    }
  }, 60_000);
});
