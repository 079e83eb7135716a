import * as pulumi from "@pulumi/pulumi";

/**
 * The example programs under runtime mocks: which resources they register, with which inputs, and
 * that secrets stay secret on the way (the mocks play the engine, applying additionalSecretOutputs).
 */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const isSecret = (v: unknown) => typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] !== undefined;
const secret = (value: unknown) => ({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", value });
const unwrap = (v: unknown) => (isSecret(v) ? (v as { value: unknown }).value : v);

const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n";
const HOST_KEY = "SHA256:" + "A".repeat(43);

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** Outputs a created resource would have, as the engine returns them (secret keys wrapped). */
function stateFor(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const plain = Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== "__provider"));
  if (type.endsWith("openwrt:Router")) {
    return {
      ...plain,
      connection: secret({ host: unwrap(inputs.host), port: unwrap(inputs.port), user: "root", privateKey: unwrap(inputs.privateKey), hostKey: "ssh-ed25519 AAAA" }),
      target: "ramips/mt7621",
      hwOffloadCapable: true,
      release: { version: "23.05.4" },
    };
  }
  if (type.endsWith("openwrt:FirewallDefaults")) return { ...plain, runtime: { mode: "hardware" }, drift: [] };
  if (type === "command:remote:Command") return { ...plain, stdout: "" };
  return plain;
}

async function runProgram(project: string, modulePath: string): Promise<{ registered: Registered[]; exports: Record<string, unknown> }> {
  const registered: Registered[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: stateFor(args.type, args.inputs) };
      },
      call: (args) => args.inputs,
    },
    project,
    "test",
    false,
  );
  pulumi.runtime.setAllConfig(
    {
      [`${project}:host`]: "192.0.2.1",
      [`${project}:port`]: "2222",
      [`${project}:sshKey`]: PRIVATE_KEY,
      [`${project}:hostKey`]: HOST_KEY,
    },
    [`${project}:sshKey`],
  );
  let exports: Record<string, unknown> = {};
  await jest.isolateModulesAsync(async () => {
    exports = await import(modulePath);
  });
  const resolved: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(exports)) {
    resolved[k] = pulumi.Output.isInstance(v) ? await new Promise((r) => (v as pulumi.Output<unknown>).apply(r)) : v;
  }
  // Let every registration reach the mocks.
  await new Promise((r) => setTimeout(r, 50));
  return { registered, exports: resolved };
}

describe("examples/quickstart", () => {
  let run: Awaited<ReturnType<typeof runProgram>>;
  beforeAll(async () => {
    run = await runProgram("openwrt-offload-quickstart", "../../examples/quickstart/index");
  });

  test("registers Router, OffloadPackages and FirewallDefaults as dynamic resources", () => {
    expect(run.registered.map((r) => [r.type, r.name])).toEqual([
      ["pulumi-nodejs:dynamic/openwrt:Router", "edge-1"],
      ["pulumi-nodejs:dynamic/openwrt:OffloadPackages", "edge-1-pkgs"],
      ["pulumi-nodejs:dynamic/openwrt:FirewallDefaults", "edge-1-offload"],
    ]);
  });

  test("the Router gets the config, with the SSH key as a secret", () => {
    const router = run.registered[0].inputs;
    expect(router).toMatchObject({ host: "192.0.2.1", port: 2222, user: "root", hostKey: HOST_KEY });
    expect(isSecret(router.privateKey)).toBe(true);
    expect(unwrap(router.privateKey)).toBe(PRIVATE_KEY);
  });

  test("dependent resources take the Router's pinned connection, still secret", () => {
    const [, pkgs, offload] = run.registered;
    for (const r of [pkgs, offload]) {
      expect(isSecret(r.inputs.connection)).toBe(true);
      expect(unwrap(r.inputs.connection)).toMatchObject({ host: "192.0.2.1", port: 2222, hostKey: "ssh-ed25519 AAAA" });
    }
    expect(offload.inputs).toMatchObject({ flowOffloading: true, flowOffloadingHw: true });
  });

  test("__provider is a thin shim: small, identical per kind, no secrets, loads the installed code", () => {
    const texts = run.registered.map((r) => r.inputs.__provider as string);
    for (const text of texts) {
      expect(text.length).toBeLessThan(2500);
      expect(text).toContain('require("pulumi-openwrt-offload/provider")');
      expect(text).not.toContain("not-a-real-key");
      expect(text).not.toMatch(/ssh2|readFacts|probeScript/);
    }
  });

  test("stack outputs come from the resources", () => {
    expect(run.exports).toMatchObject({ target: "ramips/mt7621", release: "23.05.4", hwOffloadCapable: true, runningMode: "hardware" });
  });
});

describe("examples/command-interop", () => {
  test("remote.Command accepts Router.connection and receives it as a secret", async () => {
    const { registered } = await runProgram("openwrt-offload-command", "../../examples/command-interop/index");
    const command = registered.find((r) => r.type === "command:remote:Command")!;
    expect(command).toBeDefined();
    expect(isSecret(command.inputs.connection)).toBe(true);
    expect(unwrap(command.inputs.connection)).toMatchObject({ host: "192.0.2.1", port: 2222, user: "root", privateKey: PRIVATE_KEY });
    expect(command.inputs.create).toBe('logger -t offload "flow offloading is hardware"');
  });
});

describe("examples/flowtable", () => {
  test("registers a Flowtable with its forward rule and fw4's offloading off", async () => {
    const { registered } = await runProgram("openwrt-offload-flowtable", "../../examples/flowtable/index");
    expect(registered.find((r) => r.type.endsWith("openwrt:FirewallDefaults"))!.inputs).toMatchObject({ flowOffloading: false });
    expect(registered.find((r) => r.type.endsWith("openwrt:Flowtable"))!.inputs).toMatchObject({
      name: "lanwan",
      devices: ["lan1", "wan"],
      hardware: false,
      forwardRule: { protocols: ["tcp", "udp"], outputInterfaces: ["wan"] },
    });
  });
});
