import { AsyncLocalStorage } from "node:async_hooks";
import { EventEmitter } from "node:events";
import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import { DynamicProviderPlugin, type DiffResult, type PluginLogLine } from "./plugin";
import { StateStore, type ResourceState } from "./state";
import {
  annotateSecrets,
  differingKeys,
  fromSdk,
  makeSecret,
  markSecretKeys,
  revealMap,
  sameValue,
  secretKeysOf,
  toDisplay,
  type DisplayOptions,
  type PropertyMap,
} from "./values";

/** Creates the stack's resources; what it returns (Outputs allowed) becomes the stack outputs. */
export type Program = () => Promise<Record<string, unknown> | void>;

export interface MiniEngineOptions {
  project: string;
  stack: string;
  /** The plugin runs here, so require() calls in serialized providers resolve against this directory's node_modules. */
  programDir: string;
  statePath: string;
  /** Encrypts secrets in the state file. */
  passphrase: string;
  /** Keys without a namespace get the project's, as `pulumi config set` does. */
  config?: Record<string, string>;
  secretConfig?: Record<string, string>;
  /** Another build of `cmd/dynamic-provider` (default: the one in this project's @pulumi/pulumi). */
  pluginPath?: string;
}

export type OperationKind = "preview" | "up" | "refresh" | "destroy";
export type StepOp = "create" | "update" | "same" | "replace" | "delete" | "read";

export interface ResourceResult {
  urn: string;
  type: string;
  name: string;
  op: StepOp;
  /** Top-level properties that differ (update, replace), or that drifted (refresh). */
  changedKeys?: string[];
  /** The properties the provider said force a replacement. */
  replaceKeys?: string[];
  /** refresh only: the live resource no longer matches its inputs, or is gone. */
  drift?: boolean;
  note?: string;
  error?: string;
}

export interface OperationSummary {
  operation: OperationKind;
  ok: boolean;
  error?: string;
  /** Registration order, then deletions in the order they ran. */
  resources: ResourceResult[];
  /** Display form: secrets as "[secret]", preview unknowns as "[unknown]". See MiniEngine.outputs() for values. */
  outputs: Record<string, unknown>;
}

export type EngineEvent =
  | { kind: "start"; operation: OperationKind }
  | { kind: "stepStart"; urn: string; type: string; name: string; op: StepOp }
  | { kind: "stepDone"; result: ResourceResult }
  | ({ kind: "log" } & PluginLogLine)
  | { kind: "done"; summary: OperationSummary };

export const NOT_DRIVEN = "not driven (no plugin here)";
const DYNAMIC_TYPE_PREFIX = "pulumi-nodejs:dynamic";
const PROVIDER_KEY = "__provider";

/** setMocks and the SDK's settings are process-wide, so two operations at once would register into each other. */
let operationInProgress = false;

/**
 * Runs Pulumi programs without the Pulumi CLI. The program runs in this process under `pulumi.runtime.setMocks`; the
 * mocks play the engine's step generator against the real dynamic-provider plugin, so Check, Diff, Create, Update,
 * Read and Delete reach the providers as `pulumi up` would send them. Progress is emitted as "event" (EngineEvent).
 */
export class MiniEngine extends EventEmitter {
  private readonly store: StateStore;

  constructor(private readonly opts: MiniEngineOptions) {
    super();
    this.store = new StateStore(opts.statePath, opts.passphrase, opts.project, opts.stack);
  }

  /** Check and Diff only: nothing is created, updated or deleted, and the state file is not written. */
  preview(program: Program): Promise<OperationSummary> {
    return this.operate("preview", (op) => new Deployment(op, true).run(program));
  }

  up(program: Program): Promise<OperationSummary> {
    return this.operate("up", (op) => new Deployment(op, false).run(program));
  }

  /** Reads every resource back; drift is what the provider's diff reports between the live outputs and the inputs. */
  refresh(): Promise<OperationSummary> {
    return this.operate("refresh", (op) => refresh(op));
  }

  /** Deletes every resource, last registered first. */
  destroy(): Promise<OperationSummary> {
    return this.operate("destroy", (op) => destroy(op));
  }

  /** The stack outputs of the last successful `up`. */
  async outputs(opts: DisplayOptions = {}): Promise<Record<string, unknown>> {
    return display((await this.store.load()).outputs, opts);
  }

  private async operate(
    kind: OperationKind,
    body: (op: Operation) => Promise<Omit<OperationSummary, "operation">>,
  ): Promise<OperationSummary> {
    if (operationInProgress) throw new Error("another engine operation is running in this process");
    operationInProgress = true;
    const op = new Operation(this.opts, this.store, (e) => this.emit("event", e));
    try {
      op.emit({ kind: "start", operation: kind });
      const summary: OperationSummary = { operation: kind, ...(await body(op)) };
      op.emit({ kind: "done", summary });
      return summary;
    } finally {
      await op.close();
      operationInProgress = false;
    }
  }
}

/** What every operation shares: the state store, events, and one plugin process started on first need. */
class Operation {
  private plugin: Promise<DynamicProviderPlugin> | undefined;

  constructor(
    readonly opts: MiniEngineOptions,
    readonly store: StateStore,
    readonly emit: (e: EngineEvent) => void,
  ) {}

  /** Config with namespaced keys, as the program (setAllConfig) and the plugin (Configure) both expect it. */
  config(): { values: Record<string, string>; secretKeys: string[] } {
    const key = (k: string) => (k.includes(":") ? k : `${this.opts.project}:${k}`);
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.opts.config ?? {})) values[key(k)] = v;
    const secretKeys = Object.keys(this.opts.secretConfig ?? {}).map(key);
    for (const [k, v] of Object.entries(this.opts.secretConfig ?? {})) values[key(k)] = v;
    return { values, secretKeys };
  }

  provider(): Promise<DynamicProviderPlugin> {
    this.plugin ??= this.startPlugin();
    return this.plugin;
  }

  async deleteResource(r: ResourceState): Promise<void> {
    const plugin = await this.provider();
    await plugin.delete({ urn: r.urn, id: r.id ?? "", properties: revealMap(r.outputs), oldInputs: revealMap(r.inputs) });
  }

  stepStart(r: ResourceResult): void {
    this.emit({ kind: "stepStart", urn: r.urn, type: r.type, name: r.name, op: r.op });
  }

  async close(): Promise<void> {
    const plugin = await this.plugin?.catch(() => undefined);
    await plugin?.close();
  }

  private async startPlugin(): Promise<DynamicProviderPlugin> {
    const { values, secretKeys } = this.config();
    const plugin = await DynamicProviderPlugin.start({
      cwd: this.opts.programDir,
      project: this.opts.project,
      stack: this.opts.stack,
      config: values,
      secretKeys,
      pluginPath: this.opts.pluginPath,
    });
    plugin.on("log", (line: PluginLogLine) => this.emit({ kind: "log", ...line }));
    const args: PropertyMap = {};
    for (const [k, v] of Object.entries(values)) args[k] = secretKeys.includes(k) ? makeSecret(v) : v;
    try {
      await plugin.configure(args);
    } catch (err) {
      // close() only sees plugins that started fully, so this one must not be left running.
      await plugin.close();
      throw err;
    }
    return plugin;
  }
}

type MockResult = pulumi.runtime.MockResourceResult;

/** preview and up: one run of the program, each registration turned into a step. */
class Deployment {
  private old = new Map<string, ResourceState>();
  private oldOrder: ResourceState[] = [];
  private oldOutputs: PropertyMap = {};
  private readonly registered: string[] = [];
  /** Registered URNs whose state this run changed; null once deleted. */
  private readonly current = new Map<string, ResourceState | null>();
  private readonly results = new Map<string, ResourceResult>();
  private readonly deletions: ResourceResult[] = [];
  private failure: string | undefined;

  constructor(
    private readonly op: Operation,
    private readonly preview: boolean,
  ) {}

  async run(program: Program): Promise<Omit<OperationSummary, "operation">> {
    // Nearly every step needs the plugin, and it takes most of a second to start: let that overlap loading the state
    // and evaluating the program. A start failure is reported by the first step that needs the plugin.
    this.op.provider().catch(() => undefined);
    const prior = await this.op.store.load();
    this.oldOrder = prior.resources;
    this.old = new Map(prior.resources.map((r) => [r.urn, r]));
    this.oldOutputs = prior.outputs;

    const { outputs, programError } = await this.runProgram(program);
    const error = this.failure ?? programError;
    if (!error) await this.deleteUnregistered();
    const ok = !error && !this.failure;
    if (!this.preview) await this.save(ok ? outputs : this.oldOutputs);
    return {
      ok,
      ...(ok ? {} : { error: this.failure ?? error }),
      resources: [...this.registered.map((urn) => this.results.get(urn)!), ...this.deletions],
      outputs: display(outputs),
    };
  }

  /**
   * Runs the program under mocks whose newResource is this engine's step. The mocks only see type, name and inputs, so
   * each RegisterResource request (parent, dependencies, additionalSecretOutputs, deleteBeforeReplace...) is handed to
   * the step through an AsyncLocalStorage set around the mock monitor's registerResource.
   */
  private async runProgram(program: Program): Promise<{ outputs: PropertyMap; programError?: string }> {
    const requests = new AsyncLocalStorage<RegisterResourceRequest>();
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => this.register(args, requests.getStore()),
        call: (args) => {
          throw new Error(`${args.token}: provider functions (invokes) are not supported by the mini engine`);
        },
      },
      this.op.opts.project,
      this.op.opts.stack,
      this.preview,
    );
    const monitor = pulumi.runtime.getMonitor() as unknown as {
      registerResource(req: RegisterResourceRequest, cb: unknown): unknown;
    };
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => requests.run(req, () => registerResource(req, cb));
    const { values, secretKeys } = this.op.config();
    pulumi.runtime.setAllConfig(values, secretKeys);

    // The SDK rejects every output of a failed resource and of whatever consumed them, mostly with nobody awaiting;
    // the first step failure already says what went wrong, and without a listener node would exit on them.
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    let outputs: PropertyMap = {};
    let programError: string | undefined;
    try {
      const result = await program();
      outputs = fromSdk(await pulumi.runtime.serializeProperties("stack outputs", result ?? {}), "") as PropertyMap;
    } catch (err) {
      programError = `program failed: ${errorMessage(err)}`;
    } finally {
      // Registrations the program never awaited (resources whose outputs it did not use) still have to finish.
      await pulumi.runtime.disconnect();
      // Rejections already settled are reported on a later turn; they must still find the listener.
      await new Promise((resolve) => setImmediate(resolve));
      process.off("unhandledRejection", onRejection);
    }
    if (!programError && rejections.length > 0) programError = `program failed: ${errorMessage(rejections[0])}`;
    return { outputs, programError };
  }

  private async register(
    args: pulumi.runtime.MockResourceArgs,
    req: RegisterResourceRequest | undefined,
  ): Promise<MockResult> {
    // Only the mock monitor's readResource calls newResource outside registerResource.
    if (!req) throw new Error(`${args.name}: reading existing resources (get, or the id option) is not supported`);
    const parent = req.getParent() || undefined;
    const urn = urnOf(this.op.opts, parent, args.type, args.name);
    if (this.failure) throw new Error(`${urn}: not processed because an earlier step failed`);
    if (this.results.has(urn)) throw new Error(`${urn}: a resource with this URN was already registered`);
    this.registered.push(urn);
    const old = this.old.get(urn);
    const result: ResourceResult = { urn, type: args.type, name: args.name, op: old ? "same" : "create" };
    this.results.set(urn, result);
    try {
      rejectUnsupportedOptions(req);
      const base: ResourceState = {
        urn,
        type: args.type,
        name: args.name,
        ...(parent ? { parent } : {}),
        custom: Boolean(args.custom),
        inputs: fromSdk(args.inputs ?? {}, "") as PropertyMap,
        outputs: {},
        secretOutputs: [],
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        dependencies: req.getDependenciesList(),
      };
      const mock = !args.custom
        ? await this.componentStep(result, base)
        : args.type.startsWith(DYNAMIC_TYPE_PREFIX)
          ? await this.dynamicStep(result, base, old, req)
          : await this.notDrivenStep(result, base, old);
      this.op.emit({ kind: "stepDone", result });
      return mock;
    } catch (err) {
      result.error = errorMessage(err);
      this.failure ??= `${urn}: ${result.error}`;
      this.op.emit({ kind: "stepDone", result });
      throw err;
    }
  }

  /** Components have no provider: they are only recorded, so their children have a parent in the state. */
  private async componentStep(result: ResourceResult, base: ResourceState): Promise<MockResult> {
    this.op.stepStart(result);
    await this.record(base.urn, base);
    return { id: undefined, state: {} };
  }

  /** Other custom resources need their own provider plugin, which this engine does not run: recorded, never applied. */
  private async notDrivenStep(result: ResourceResult, base: ResourceState, old?: ResourceState): Promise<MockResult> {
    result.note = NOT_DRIVEN;
    if (old) {
      result.changedKeys = differingKeys(old.inputs, base.inputs);
      if (result.changedKeys.length > 0) result.op = "update";
    }
    this.op.stepStart(result);
    await this.record(base.urn, { ...base, outputs: base.inputs });
    return { id: "", state: base.inputs };
  }

  private async dynamicStep(
    result: ResourceResult,
    base: ResourceState,
    old: ResourceState | undefined,
    req: RegisterResourceRequest,
  ): Promise<MockResult> {
    const plugin = await this.op.provider();
    const { urn } = base;
    const news = base.inputs;
    const checked = await plugin.check({ urn, olds: revealMap(old?.inputs ?? {}), news: revealMap(news) });
    if (checked.failures.length > 0) {
      throw new Error(`check failed: ${checked.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
    }
    const inputs = annotateSecrets(checked.inputs, news);
    const next: ResourceState = { ...base, inputs };
    const outputsFrom = (props: PropertyMap) =>
      markSecretKeys(annotateSecrets(props, inputs), base.additionalSecretOutputs);

    const create = async (): Promise<MockResult> => {
      const created = await plugin.create({ urn, properties: revealMap(inputs) });
      const outputs = outputsFrom(created.properties);
      await this.record(urn, { ...next, id: created.id, outputs });
      return { id: created.id, state: outputs };
    };

    if (!old) {
      this.op.stepStart(result);
      return this.preview ? { id: "", state: inputs } : create();
    }

    const id = old.id ?? "";
    const diff = await plugin.diff({
      urn,
      id,
      olds: revealMap(old.outputs),
      news: revealMap(inputs),
      oldInputs: revealMap(old.inputs),
    });
    const plan = planStep(diff, old, inputs, req);
    result.op = plan.op;
    if (plan.op !== "same") result.changedKeys = plan.changedKeys;
    if (plan.op === "replace") result.replaceKeys = plan.replaceKeys;
    this.op.stepStart(result);

    if (plan.op === "same") {
      const outputs = outputsFrom(old.outputs);
      await this.record(urn, { ...next, id, outputs });
      return { id, state: outputs };
    }
    // The plugin does not support preview (supportsPreview=false), so like the engine we never send it
    // Create or Update during a preview: the checked inputs stand in for the outputs.
    if (this.preview) return { id: plan.op === "update" ? id : "", state: inputs };
    if (plan.op === "update") {
      const props = await plugin.update({
        urn,
        id,
        olds: revealMap(old.outputs),
        news: revealMap(inputs),
        oldInputs: revealMap(old.inputs),
      });
      const outputs = outputsFrom(props);
      await this.record(urn, { ...next, id, outputs });
      return { id, state: outputs };
    }
    if (plan.deleteBeforeReplace) {
      await this.op.deleteResource(old);
      await this.record(urn, null);
      return create();
    }
    const replacement = await create();
    try {
      await this.op.deleteResource(old);
    } catch (err) {
      throw new Error(`created the replacement, but deleting the old resource ${id} failed: ${errorMessage(err)}`);
    }
    return replacement;
  }

  /** Like the engine, only after the program ran cleanly: last registered first, so dependents go before dependencies. */
  private async deleteUnregistered(): Promise<void> {
    for (const r of [...this.oldOrder].reverse()) {
      if (this.results.has(r.urn)) continue;
      const result: ResourceResult = { urn: r.urn, type: r.type, name: r.name, op: "delete" };
      if (isNotDriven(r)) result.note = NOT_DRIVEN;
      this.deletions.push(result);
      this.op.stepStart(result);
      if (!this.preview) {
        try {
          if (isDynamic(r)) await this.op.deleteResource(r);
          await this.record(r.urn, null);
        } catch (err) {
          result.error = errorMessage(err);
          this.failure = `${r.urn}: ${result.error}`;
          this.op.emit({ kind: "stepDone", result });
          return;
        }
      }
      this.op.emit({ kind: "stepDone", result });
    }
  }

  private async record(urn: string, state: ResourceState | null): Promise<void> {
    this.current.set(urn, state && { ...state, secretOutputs: secretKeysOf(state.outputs) });
    if (!this.preview) await this.save(this.oldOutputs);
  }

  /**
   * This run's registrations in order (each with its new state, or its old one while its step has not changed it),
   * then the old resources the program did not register and that are not deleted yet.
   */
  private save(outputs: PropertyMap): Promise<void> {
    const resources: ResourceState[] = [];
    for (const urn of this.registered) {
      const state = this.current.has(urn) ? this.current.get(urn) : this.old.get(urn);
      if (state) resources.push(state);
    }
    for (const r of this.oldOrder) {
      if (!this.results.has(r.urn) && this.current.get(r.urn) !== null) resources.push(r);
    }
    return this.op.store.save({ resources, outputs });
  }
}

interface Plan {
  op: "same" | "update" | "replace";
  changedKeys: string[];
  replaceKeys: string[];
  deleteBeforeReplace: boolean;
}

/**
 * The step generator's decision. DIFF_UNKNOWN (a provider without diff()) makes the engine compare the inputs itself,
 * `__provider` included, and only then do replaceOnChanges apply: the plugin never reports changed keys.
 */
function planStep(diff: DiffResult, old: ResourceState, inputs: PropertyMap, req: RegisterResourceRequest): Plan {
  const deleteBeforeReplaceOption = req.getDeletebeforereplace();
  if (diff.changes === "unknown") {
    const changedKeys = differingKeys(old.inputs, inputs);
    const triggers = req.getReplaceonchangesList();
    const replaceKeys = changedKeys.filter((k) => triggers.includes("*") || triggers.includes(k));
    const op = changedKeys.length === 0 ? "same" : replaceKeys.length > 0 ? "replace" : "update";
    return { op, changedKeys, replaceKeys, deleteBeforeReplace: deleteBeforeReplaceOption };
  }
  if (diff.changes === "none") return { op: "same", changedKeys: [], replaceKeys: [], deleteBeforeReplace: false };
  const changedKeys = [...new Set([...changedInputKeys(old, inputs), ...diff.replaces])].sort();
  return {
    op: diff.replaces.length > 0 ? "replace" : "update",
    changedKeys,
    replaceKeys: diff.replaces,
    deleteBeforeReplace: diff.deleteBeforeReplace || deleteBeforeReplaceOption,
  };
}

/** For display only: what each input was (its output if the provider echoed it, which shows repaired drift) and is now. */
function changedInputKeys(old: ResourceState, inputs: PropertyMap): string[] {
  const keys = new Set([...Object.keys(old.inputs), ...Object.keys(inputs)]);
  keys.delete(PROVIDER_KEY);
  return [...keys].filter((k) => !sameValue(k in old.outputs ? old.outputs[k] : old.inputs[k], inputs[k]));
}

/** Options the engine implements but this one does not: failing beats silently deploying something else. */
function rejectUnsupportedOptions(req: RegisterResourceRequest): void {
  const unsupported: string[] = [];
  if (req.getProtect()) unsupported.push("protect");
  if (req.getRetainondelete()) unsupported.push("retainOnDelete");
  if (req.getIgnorechangesList().length > 0) unsupported.push("ignoreChanges");
  if (req.getImportid()) unsupported.push("import");
  if (req.getAliasesList().length > 0) unsupported.push("aliases");
  if (req.getDeletedwith()) unsupported.push("deletedWith");
  if (unsupported.length > 0) {
    throw new Error(`resource options not supported by the mini engine: ${unsupported.join(", ")}`);
  }
}

async function refresh(op: Operation): Promise<Omit<OperationSummary, "operation">> {
  const prior = await op.store.load();
  const refreshed = await Promise.all(prior.resources.map((r) => refreshOne(op, r)));
  const errors = refreshed.flatMap(({ result }) => (result.error ? [`${result.urn}: ${result.error}`] : []));
  const resources = refreshed.flatMap(({ state }) => (state ? [state] : []));
  await op.store.save({ resources, outputs: prior.outputs });
  return {
    ok: errors.length === 0,
    ...(errors.length > 0 ? { error: errors.join("\n") } : {}),
    resources: refreshed.map(({ result }) => result),
    outputs: display(prior.outputs),
  };
}

/**
 * The engine's refresh: Read with the old outputs and inputs, then drift is diff(id, refreshed outputs, old inputs).
 * A provider without diff() shows drift only by returning inputs that differ from the old ones.
 */
async function refreshOne(
  op: Operation,
  r: ResourceState,
): Promise<{ result: ResourceResult; state: ResourceState | null }> {
  const result: ResourceResult = { urn: r.urn, type: r.type, name: r.name, op: "same" };
  if (!isDynamic(r)) {
    if (r.custom) result.note = NOT_DRIVEN;
    op.emit({ kind: "stepDone", result });
    return { result, state: r };
  }
  result.op = "read";
  op.stepStart(result);
  try {
    const plugin = await op.provider();
    const oldInputs = revealMap(r.inputs);
    const read = await plugin.read({ urn: r.urn, id: r.id ?? "", properties: revealMap(r.outputs), inputs: oldInputs });
    if (read.id === "") {
      Object.assign(result, { op: "delete", drift: true, note: "no longer exists; removed from the state" });
      op.emit({ kind: "stepDone", result });
      return { result, state: null };
    }
    const inputs = read.inputs ? annotateSecrets(read.inputs, r.inputs) : r.inputs;
    const outputs = markSecretKeys(annotateSecrets(read.properties, r.inputs), r.additionalSecretOutputs);
    const diff = await plugin.diff({ urn: r.urn, id: read.id, olds: revealMap(outputs), news: oldInputs, oldInputs });
    const changedKeys =
      diff.changes === "some"
        ? changedInputKeys({ ...r, outputs }, r.inputs)
        : diff.changes === "unknown"
          ? differingKeys(r.inputs, inputs)
          : [];
    result.drift = diff.changes === "some" || changedKeys.length > 0;
    if (result.drift) result.changedKeys = changedKeys;
    op.emit({ kind: "stepDone", result });
    return { result, state: { ...r, id: read.id, inputs, outputs, secretOutputs: secretKeysOf(outputs) } };
  } catch (err) {
    result.error = errorMessage(err);
    op.emit({ kind: "stepDone", result });
    return { result, state: r };
  }
}

async function destroy(op: Operation): Promise<Omit<OperationSummary, "operation">> {
  const prior = await op.store.load();
  const remaining = [...prior.resources];
  const results: ResourceResult[] = [];
  while (remaining.length > 0) {
    const r = remaining[remaining.length - 1];
    const result: ResourceResult = { urn: r.urn, type: r.type, name: r.name, op: "delete" };
    if (isNotDriven(r)) result.note = NOT_DRIVEN;
    results.push(result);
    op.stepStart(result);
    try {
      if (isDynamic(r)) await op.deleteResource(r);
    } catch (err) {
      result.error = errorMessage(err);
      op.emit({ kind: "stepDone", result });
      return { ok: false, error: `${r.urn}: ${result.error}`, resources: results, outputs: display(prior.outputs) };
    }
    remaining.pop();
    await op.store.save({ resources: remaining, outputs: remaining.length > 0 ? prior.outputs : {} });
    op.emit({ kind: "stepDone", result });
  }
  return { ok: true, resources: results, outputs: {} };
}

/** The mock monitor's URN formula, which is what the program sees as `urn`; the engine's differs only for grandchildren. */
function urnOf(opts: MiniEngineOptions, parent: string | undefined, type: string, name: string): string {
  const qualified = parent ? `${parent.split("::")[2].split("$").pop()}$${type}` : type;
  return `urn:pulumi:${opts.stack}::${opts.project}::${qualified}::${name}`;
}

function isDynamic(r: ResourceState): boolean {
  return r.custom && r.type.startsWith(DYNAMIC_TYPE_PREFIX);
}

function isNotDriven(r: ResourceState): boolean {
  return r.custom && !r.type.startsWith(DYNAMIC_TYPE_PREFIX);
}

function display(m: PropertyMap, opts: DisplayOptions = {}): Record<string, unknown> {
  return toDisplay(m, opts) as Record<string, unknown>;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
