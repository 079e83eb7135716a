import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startSimulatedRouter, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { ensureNodeLts, ensurePulumiCli, PulumiCli, pulumiCliAvailability } from "../../tools/pulumi/index.cjs";
import { run } from "../helpers/sim-client";
import { describeIf } from "../helpers/requirements";

/**
 * examples/quickstart through the real Pulumi CLI (tools/pulumi: the user's recent-enough `pulumi`, else the one
 * pinned in tools/pulumi/go.mod, built on first use), against a simulated router: as a Pulumi.yaml project
 * (preview, up, up --expect-no-changes, refresh, destroy), on this Node.js and on the 24 LTS, and as an Automation
 * API inline program. A smoke test: the full lifecycle is in test/plugin/quickstart.test.ts.
 */
const REPO = path.join(__dirname, "../..");
const QUICKSTART = path.join(REPO, "examples/quickstart");
const PROGRAM = path.join(QUICKSTART, "index.ts");
const BUILD_TIMEOUT = 30 * 60_000; // a cold build of the CLI (Go module downloads included)
const STEP_TIMEOUT = 5 * 60_000;

let cli: PulumiCli;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runPulumi(cwd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Result> {
  // Asynchronous: the simulated router's SSH server runs in this process.
  return new Promise((resolve, reject) => {
    const child = spawn(cli.bin, [...args, "--non-interactive"], { cwd, env, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

async function okIn(cwd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<string> {
  const r = await runPulumi(cwd, args, env, input);
  if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The `node` that the language host, the program and the dynamic-provider plugin run on. */
function nodeVersion(env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("node", ["--version"], { env });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", () => resolve(out.trim()));
  });
}

const offloadHw = async (sim: SimulatedRouter) =>
  (await run(sim, "uci -q get firewall.@defaults[0].flow_offloading_hw || echo unset")).stdout.trim();

/** A fresh router, Pulumi home and file backend; nothing is written into the repository. */
async function sandbox(nodeBinDir?: string) {
  const sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-smoke-"));
  fs.mkdirSync(path.join(dir, "state"));
  const env: NodeJS.ProcessEnv = {
    ...cli.env,
    PULUMI_HOME: path.join(dir, "home"),
    PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "smoke test passphrase",
  };
  if (nodeBinDir) env.PATH = `${nodeBinDir}${path.delimiter}${env.PATH}`;
  const cleanup = async () => {
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { sim, dir, env, cleanup };
}

/**
 * A copy of one of the repository's Pulumi.yaml files in a temp directory, its `main` rebased to point back at
 * the program: `pulumi stack init` writes Pulumi.<stack>.yaml (the passphrase salt) next to Pulumi.yaml whatever
 * --config-file says, and the test must not write into the repository. Everything else (runtime options, main
 * naming a file) is the committed file as it is; the program directory, where ts-node and the dynamic-provider
 * plugin run, is the real one.
 */
function projectCopy(pulumiYaml: string, into: string): string {
  const text = fs.readFileSync(pulumiYaml, "utf8");
  const main = /^main: (.+)$/m.exec(text)?.[1];
  if (!main) throw new Error(`${pulumiYaml} has no main`);
  const program = path.resolve(path.dirname(pulumiYaml), main);
  const dir = path.join(into, "project");
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), text.replace(/^main: .+$/m, `main: ${path.relative(dir, program)}`));
  return dir;
}

describeIf(pulumiCliAvailability(), "examples/quickstart through the real Pulumi CLI", () => {
  beforeAll(async () => {
    if (!fs.existsSync(path.join(REPO, "dist/provider/index.js"))) {
      throw new Error("the programs load this package from dist/: run `npm run build` first (npm test does)");
    }
    cli = await ensurePulumiCli({ log: (line) => process.stderr.write(`${line}\n`) });
  }, BUILD_TIMEOUT);

  // The repository's root Pulumi.yaml on this Node.js, and examples/quickstart/Pulumi.yaml on the 24 LTS.
  const cases: [string, string, () => string | undefined][] = [
    ["Pulumi.yaml", `this Node.js (${process.version})`, () => undefined],
    ["examples/quickstart/Pulumi.yaml", "Node.js 24 LTS", () => path.dirname(ensureNodeLts({ log: (l) => process.stderr.write(`${l}\n`) }))],
  ];

  describe.each(cases)("%s on %s", (project, _node, nodeDir) => {
    let box: Awaited<ReturnType<typeof sandbox>>;
    let dir: string;
    const ok = (args: string[], env: NodeJS.ProcessEnv, input?: string) => okIn(dir, args, env, input);
    const pulumi = (args: string[], env: NodeJS.ProcessEnv) => runPulumi(dir, args, env);

    beforeAll(async () => {
      box = await sandbox(nodeDir());
      dir = projectCopy(path.join(REPO, project), box.dir);
      await ok(["stack", "init", "sim"], box.env);
      const { sim, env } = box;
      for (const [k, v] of Object.entries({ host: sim.host, port: String(sim.port), hostKey: sim.hostKeyFingerprint })) {
        await ok(["config", "set", k, v], env);
      }
      // From stdin: a private key as an argument would start with "-----".
      await ok(["config", "set", "--secret", "sshKey"], env, sim.privateKey);
    }, STEP_TIMEOUT);

    afterAll(async () => {
      await box?.cleanup();
    });

    test("preview, up, up --expect-no-changes, refresh and destroy", async () => {
      const { sim, env } = box;
      expect((await ok(["version"], env)).trim()).toBe(cli.version);
      if (nodeDir()) expect(await nodeVersion(env)).toMatch(/^v24\./);

      const before = await offloadHw(sim);
      const connections = sim.stats.connections;
      const preview = await ok(["preview", "--diff"], env);
      expect(preview).toMatch(/\+ 4 to create/);
      expect(sim.stats.connections).toBe(connections);

      const up = await ok(["up", "--yes", "--skip-preview"], env);
      expect(up).toMatch(/\+ 4 created/);
      expect(await offloadHw(sim)).toBe("1");
      const outputs = JSON.parse(await ok(["stack", "output", "--json"], env));
      expect(outputs).toMatchObject({ target: "ramips/mt7621", hwOffloadCapable: true, runningMode: "hardware" });

      const again = await pulumi(["up", "--yes", "--expect-no-changes"], env);
      expect(again.code).toBe(0);

      const refresh = await ok(["refresh", "--yes"], env);
      expect(refresh).toMatch(/4 unchanged/);

      const destroy = await ok(["destroy", "--yes"], env);
      expect(destroy).toMatch(/- 4 deleted/);
      expect(await offloadHw(sim)).toBe(before);
    }, 4 * STEP_TIMEOUT);
  });

  describe("Automation API inline program", () => {
    let box: Awaited<ReturnType<typeof sandbox>>;

    beforeAll(async () => {
      box = await sandbox();
    }, STEP_TIMEOUT);

    afterAll(async () => {
      await box?.cleanup();
    });

    test("up and destroy", async () => {
      const { LocalWorkspace, PulumiCommand } = await import("@pulumi/pulumi/automation");
      const { sim, env } = box;
      const pulumiCommand = await PulumiCommand.get({ root: cli.root });
      const workDir = path.join(box.dir, "inline");
      fs.mkdirSync(workDir);
      const envVars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
      const stack = await LocalWorkspace.createOrSelectStack(
        {
          projectName: "openwrt-offload-quickstart",
          stackName: "inline",
          // The program module as an inline program: it runs once here (destroy does not run the program). Not
          // through jest.isolateModules, which would give it a second @pulumi/pulumi whose protobuf classes the
          // Automation API's runtime rejects.
          program: async () => require(PROGRAM),
        },
        {
          pulumiCommand,
          envVars,
          workDir,
          // `main` is where the engine starts the dynamic-provider plugin: @pulumi/pulumi must resolve from it.
          projectSettings: { name: "openwrt-offload-quickstart", runtime: "nodejs", main: QUICKSTART },
        },
      );
      await stack.setAllConfig({
        host: { value: sim.host },
        port: { value: String(sim.port) },
        hostKey: { value: sim.hostKeyFingerprint },
        sshKey: { value: sim.privateKey, secret: true },
      });

      const before = await offloadHw(sim);
      const up = await stack.up();
      expect(up.summary.result).toBe("succeeded");
      expect(up.summary.resourceChanges).toMatchObject({ create: 4 }); // the stack and three resources
      expect(up.outputs.runningMode.value).toBe("hardware");
      expect(await offloadHw(sim)).toBe("1");

      const destroy = await stack.destroy();
      expect(destroy.summary.result).toBe("succeeded");
      expect(await offloadHw(sim)).toBe(before);
      await stack.workspace.removeStack("inline");
    }, 4 * STEP_TIMEOUT);
  });
});
