import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import * as readline from "node:readline";
import type * as grpcModule from "@grpc/grpc-js";
import type * as providerGrpcModule from "@pulumi/pulumi/proto/provider_grpc_pb";
import type * as providerPbModule from "@pulumi/pulumi/proto/provider_pb";
import type * as structPbModule from "google-protobuf/google/protobuf/struct_pb";
import type { PropertyMap } from "./values";

/*
 * Loaded the way @pulumi/pulumi resolves them, so the client, its credentials (grpc-js checks them with instanceof) and
 * the messages come from the copies its generated stubs were built with, even if the project hoists other versions.
 */
const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = pulumiRequire("@grpc/grpc-js") as typeof grpcModule;
const providerGrpc = pulumiRequire("./proto/provider_grpc_pb") as typeof providerGrpcModule;
const pb = pulumiRequire("./proto/provider_pb") as typeof providerPbModule;
const { Struct } = pulumiRequire("google-protobuf/google/protobuf/struct_pb") as typeof structPbModule;

const DEFAULT_PLUGIN_PATH = pulumiRequire.resolve("./cmd/dynamic-provider/index.js");

export interface PluginStartOptions {
  /** The program's directory. require() calls inside serialized providers resolve from here, as under `pulumi up`. */
  cwd: string;
  project: string;
  stack: string;
  /** The whole stack config with namespaced keys, exposed as PULUMI_CONFIG like the engine does. */
  config?: Record<string, string>;
  secretKeys?: string[];
  pluginPath?: string;
}

export interface PluginLogLine {
  stream: "stdout" | "stderr";
  line: string;
}

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface CheckResult {
  inputs: PropertyMap;
  failures: CheckFailure[];
}

export interface DiffResult {
  /** "unknown" means the provider has no diff(); the engine then diffs the inputs itself. */
  changes: "none" | "some" | "unknown";
  replaces: string[];
  deleteBeforeReplace: boolean;
}

export interface CreateResult {
  id: string;
  properties: PropertyMap;
}

export interface ReadResult {
  /** "" when the resource no longer exists. */
  id: string;
  properties: PropertyMap;
  inputs?: PropertyMap;
}

/** A failed RPC. `message` is the plugin's `details`, which for provider exceptions is the exception's message. */
export class PluginError extends Error {
  constructor(
    readonly rpc: string,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "PluginError";
  }
}

type Input = Record<string, unknown>;
type Callback<Res> = (err: grpcModule.ServiceError | null, res: Res) => void;

/**
 * The real dynamic-provider plugin shipped in @pulumi/pulumi (`pulumi-resource-pulumi-nodejs`), started and spoken to
 * over gRPC the way the Pulumi engine does. Provider console output arrives as "log" events (PluginLogLine) and in `logs`.
 */
export class DynamicProviderPlugin extends EventEmitter {
  readonly logs: PluginLogLine[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly client: providerGrpcModule.ResourceProviderClient,
    private readonly exited: Promise<void>,
  ) {
    super();
  }

  static async start(opts: PluginStartOptions): Promise<DynamicProviderPlugin> {
    const child = spawn(process.execPath, [opts.pluginPath ?? DEFAULT_PLUGIN_PATH, "127.0.0.1:0"], {
      cwd: opts.cwd,
      env: {
        ...process.env,
        PULUMI_NODEJS_PROJECT: opts.project,
        PULUMI_PROJECT: opts.project,
        PULUMI_NODEJS_STACK: opts.stack,
        PULUMI_STACK: opts.stack,
        PULUMI_CONFIG: JSON.stringify(opts.config ?? {}),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(opts.secretKeys ?? []),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const early: PluginLogLine[] = [];
    let deliver = (entry: PluginLogLine): void => void early.push(entry);
    let onPort: ((line: string) => void) | undefined;
    const onLine = (stream: PluginLogLine["stream"]) => (line: string) => {
      if (stream === "stdout" && onPort) onPort(line);
      else deliver({ stream, line });
    };
    // One listener from the start: readline emits a chunk's lines synchronously, so a listener added once the port
    // line has been handled could miss the provider output that arrived in the same chunk.
    readline.createInterface({ input: child.stdout! }).on("line", onLine("stdout"));
    readline.createInterface({ input: child.stderr! }).on("line", onLine("stderr"));

    const port = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      onPort = (line) => {
        onPort = undefined;
        const n = Number(line.trim());
        if (Number.isInteger(n) && n > 0) resolve(n);
        else reject(new Error(`dynamic provider plugin printed ${JSON.stringify(line)} instead of its port`));
      };
      void exited.then(() =>
        reject(new Error(`dynamic provider plugin ${describeExit(child)} before it listened: ${tail(early)}`)),
      );
    }).catch((err: Error) => {
      child.kill("SIGKILL");
      throw err;
    });

    const client = new providerGrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const plugin = new DynamicProviderPlugin(child, client, exited);
    for (const entry of early) plugin.record(entry);
    deliver = (entry) => plugin.record(entry);
    return plugin;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** `config` has namespaced keys; secret values go wrapped, and the plugin unwraps them before `configure` sees them. */
  async configure(config: PropertyMap): Promise<{ acceptSecrets: boolean; supportsPreview: boolean }> {
    const req = new pb.ConfigureRequest();
    req.setArgs(toStruct(config));
    req.setAcceptsecrets(true);
    req.setAcceptresources(true);
    const res = await this.call<providerPbModule.ConfigureResponse>("Configure", (cb) => this.client.configure(req, cb));
    return { acceptSecrets: res.getAcceptsecrets(), supportsPreview: res.getSupportspreview() };
  }

  /** `olds` are the old *inputs*. */
  async check(args: { urn: string; olds: Input; news: Input }): Promise<CheckResult> {
    const req = new pb.CheckRequest();
    req.setUrn(args.urn);
    req.setOlds(toStruct(args.olds));
    req.setNews(toStruct(args.news));
    const res = await this.call<providerPbModule.CheckResponse>("Check", (cb) => this.client.check(req, cb));
    return {
      inputs: fromStruct(res.getInputs()),
      failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  /** `olds` are the old *outputs*, `news` the checked inputs. */
  async diff(args: { urn: string; id: string; olds: Input; news: Input; oldInputs: Input }): Promise<DiffResult> {
    const req = new pb.DiffRequest();
    req.setUrn(args.urn);
    req.setId(args.id);
    req.setOlds(toStruct(args.olds));
    req.setNews(toStruct(args.news));
    req.setOldInputs(toStruct(args.oldInputs));
    const res = await this.call<providerPbModule.DiffResponse>("Diff", (cb) => this.client.diff(req, cb));
    const changes = res.getChanges();
    return {
      changes:
        changes === pb.DiffResponse.DiffChanges.DIFF_SOME
          ? "some"
          : changes === pb.DiffResponse.DiffChanges.DIFF_NONE
            ? "none"
            : "unknown",
      replaces: res.getReplacesList(),
      deleteBeforeReplace: res.getDeletebeforereplace(),
    };
  }

  async create(args: { urn: string; properties: Input }): Promise<CreateResult> {
    const req = new pb.CreateRequest();
    req.setUrn(args.urn);
    req.setProperties(toStruct(args.properties));
    const res = await this.call<providerPbModule.CreateResponse>("Create", (cb) => this.client.create(req, cb));
    return { id: res.getId(), properties: fromStruct(res.getProperties()) };
  }

  /** `properties` are the old outputs, `inputs` the old inputs. */
  async read(args: { urn: string; id: string; properties: Input; inputs: Input }): Promise<ReadResult> {
    const req = new pb.ReadRequest();
    req.setUrn(args.urn);
    req.setId(args.id);
    req.setProperties(toStruct(args.properties));
    req.setInputs(toStruct(args.inputs));
    const res = await this.call<providerPbModule.ReadResponse>("Read", (cb) => this.client.read(req, cb));
    const inputs = res.getInputs();
    return {
      id: res.getId(),
      properties: fromStruct(res.getProperties()),
      ...(inputs ? { inputs: fromStruct(inputs) } : {}),
    };
  }

  async update(args: { urn: string; id: string; olds: Input; news: Input; oldInputs: Input }): Promise<PropertyMap> {
    const req = new pb.UpdateRequest();
    req.setUrn(args.urn);
    req.setId(args.id);
    req.setOlds(toStruct(args.olds));
    req.setNews(toStruct(args.news));
    req.setOldInputs(toStruct(args.oldInputs));
    const res = await this.call<providerPbModule.UpdateResponse>("Update", (cb) => this.client.update(req, cb));
    return fromStruct(res.getProperties());
  }

  /** `properties` are the old outputs: the provider code that runs is the `__provider` stored there. */
  async delete(args: { urn: string; id: string; properties: Input; oldInputs: Input }): Promise<void> {
    const req = new pb.DeleteRequest();
    req.setUrn(args.urn);
    req.setId(args.id);
    req.setProperties(toStruct(args.properties));
    req.setOldInputs(toStruct(args.oldInputs));
    await this.call<unknown>("Delete", (cb) => this.client.delete(req, cb));
  }

  /** Kills the plugin and waits for it to go; safe to call more than once. */
  async close(): Promise<void> {
    this.client.close();
    if (!this.hasExited()) this.child.kill("SIGTERM");
    await this.exited;
  }

  private hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  private record(entry: PluginLogLine): void {
    this.logs.push(entry);
    this.emit("log", entry);
  }

  private call<Res>(rpc: string, invoke: (cb: Callback<Res>) => void): Promise<Res> {
    return new Promise((resolve, reject) => {
      invoke((err, res) => {
        if (!err) return resolve(res);
        // Provider exceptions come back as UNKNOWN; anything else may be the plugin dying, which deserves its stderr.
        const settled = err.code === grpc.status.UNKNOWN ? Promise.resolve() : Promise.race([this.exited, delay(500)]);
        void settled.then(() => {
          const gone = this.hasExited() ? ` (plugin ${describeExit(this.child)}: ${tail(this.logs)})` : "";
          reject(new PluginError(rpc, err.code, `${err.details || err.message}${gone}`));
        });
      });
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function describeExit(child: ChildProcess): string {
  return child.signalCode ? `killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
}

function tail(lines: PluginLogLine[]): string {
  const stderr = lines.filter((l) => l.stream === "stderr").map((l) => l.line);
  return stderr.slice(-5).join("\n") || "no stderr";
}

/** Struct rejects `undefined` ("Unexpected struct type"); JSON drops it from objects and nulls it in arrays, as here. */
function toStruct(obj: Input): structPbModule.Struct {
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(obj)) as Record<string, structPbModule.JavaScriptValue>);
}

function fromStruct(s: structPbModule.Struct | undefined): PropertyMap {
  return (s?.toJavaScript() ?? {}) as PropertyMap;
}
