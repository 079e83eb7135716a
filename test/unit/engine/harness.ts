import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import type { EngineEvent, MiniEngineOptions, OperationSummary, ResourceState } from "../../../cli/engine";

const FIXTURES = path.join(__dirname, "../../fixtures/engine");
const REPO_ROOT = path.join(__dirname, "../../..");
const REPLY_PREFIX = "@@driver ";

export interface DriverReply {
  summary: OperationSummary;
  events: EngineEvent[];
}

type Command = { op: string; engine: MiniEngineOptions; program?: string; showSecrets?: boolean };
type RawReply = Partial<DriverReply> & { outputs?: Record<string, unknown>; error?: string };

/**
 * MiniEngine in a plain node process (test/fixtures/engine/driver.js). Jest would run the engine, but pulumi's closure
 * serialization of the providers differs under jest's module registry and coverage instrumentation, and the engine
 * reloads program modules through node's require cache, which jest replaces.
 */
export class EngineDriver {
  /** Program console output and anything else the driver printed that is not a reply. */
  readonly output: string[] = [];
  private readonly waiting: ((reply: RawReply) => void)[] = [];
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once("close", () => resolve()));
    readline.createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.startsWith(REPLY_PREFIX)) this.waiting.shift()?.(JSON.parse(line.slice(REPLY_PREFIX.length)) as RawReply);
      else this.output.push(line);
    });
    readline.createInterface({ input: child.stderr! }).on("line", (line) => this.output.push(line));
    void this.exited.then(() => {
      for (const waiter of this.waiting.splice(0)) waiter({ error: `driver exited: ${this.output.slice(-20).join("\n")}` });
    });
  }

  static start(): EngineDriver {
    return new EngineDriver(
      spawn(process.execPath, [path.join(FIXTURES, "driver.js")], { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"] }),
    );
  }

  async send(command: Command): Promise<RawReply> {
    const reply = new Promise<RawReply>((resolve) => this.waiting.push(resolve));
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
    return reply;
  }

  /** Closing stdin lets the driver finish; it is killed if it lingers, so no process outlives the test file. */
  async stop(): Promise<void> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

interface StateFile {
  outputs: Record<string, unknown>;
  resources: ResourceState[];
}

/** One stack: a temp dir holding its state file and the directories FileKv writes to. */
export class TestStack {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), "mini-engine-"));
  readonly kvDir = path.join(this.root, "kv");
  readonly otherKvDir = path.join(this.root, "kv2");
  readonly statePath = path.join(this.root, "state.json");
  passphrase = "correct horse";

  constructor(private readonly driver: EngineDriver) {
    fs.mkdirSync(this.kvDir);
    fs.mkdirSync(this.otherKvDir);
  }

  engineOptions(config: Record<string, string> = {}, secretConfig: Record<string, string> = {}): MiniEngineOptions {
    return {
      project: "proj",
      stack: "dev",
      programDir: REPO_ROOT,
      statePath: this.statePath,
      passphrase: this.passphrase,
      config: { dir: this.kvDir, ...config },
      secretConfig,
    };
  }

  /** Runs an operation and fails the test on a driver-level error (an operation's own failure is in the summary). */
  async run(
    op: "preview" | "up" | "refresh" | "destroy",
    program?: string,
    config?: Record<string, string>,
    secretConfig?: Record<string, string>,
  ): Promise<DriverReply> {
    const reply = await this.driver.send({ op, program, engine: this.engineOptions(config, secretConfig) });
    if (reply.error !== undefined || !reply.summary || !reply.events) {
      throw new Error(`driver: ${reply.error ?? JSON.stringify(reply)}`);
    }
    return { summary: reply.summary, events: reply.events };
  }

  async outputs(showSecrets: boolean): Promise<Record<string, unknown>> {
    const reply = await this.driver.send({ op: "outputs", engine: this.engineOptions(), showSecrets });
    if (!reply.outputs) throw new Error(`driver: ${reply.error ?? JSON.stringify(reply)}`);
    return reply.outputs;
  }

  /** The driver's answer to a command expected to fail before any operation starts. */
  async failure(op: "up" | "refresh", program?: string): Promise<string | undefined> {
    return (await this.driver.send({ op, program, engine: this.engineOptions() })).error;
  }

  kvFile(name: string, dir = this.kvDir): string | undefined {
    const file = path.join(dir, name);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  }

  journal(): string[] {
    const file = path.join(this.root, "journal");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
  }

  stateText(): string {
    return fs.readFileSync(this.statePath, "utf8");
  }

  state(): StateFile {
    return JSON.parse(this.stateText()) as StateFile;
  }

  resource(name: string): ResourceState {
    const found = this.state().resources.find((r) => r.name === name);
    if (!found) throw new Error(`no resource ${name} in the state`);
    return found;
  }

  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** name -> op, the shape most assertions want. */
export function ops(summary: OperationSummary): Record<string, string> {
  return Object.fromEntries(summary.resources.map((r) => [r.name, r.op]));
}

export function result(summary: OperationSummary, name: string): OperationSummary["resources"][number] {
  const found = summary.resources.find((r) => r.name === name);
  if (!found) throw new Error(`no result for ${name}: ${JSON.stringify(summary.resources)}`);
  return found;
}
