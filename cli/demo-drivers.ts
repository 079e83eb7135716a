import * as fs from "fs";
import * as path from "path";
import type { EngineEvent as AutomationEvent, Stack } from "@pulumi/pulumi/automation";
import { MiniEngine, programFromModule, type EngineEvent, type OperationSummary, type ResourceResult, type StepOp } from "./engine";
import type { RouterSummary } from "../sdk/fleet";
import type * as PulumiTools from "../tools/pulumi/index.cjs";

/**
 * The two ways the demo (and test/demo/engine-parity.test.ts) runs examples/fleet: the real Pulumi CLI through the
 * Automation API, and `cli/engine`, the project's model of the engine driving @pulumi/pulumi's dynamic-provider plugin,
 * for machines where no CLI can be had. Both report the same OperationSummary: per resource (components and dynamic
 * resources, in the order the engine reported them) the operation, and for a refresh whether it found drift.
 */
export const FLEET_PROJECT = "openwrt-offload-fleet";
const ROOT = path.resolve(__dirname, "../..");

export interface Driver {
  kind: "cli" | "engine";
  description: string;
  preview(): Promise<OperationSummary>;
  up(): Promise<OperationSummary>;
  refresh(): Promise<OperationSummary>;
  destroy(): Promise<OperationSummary>;
  summary(): Promise<RouterSummary[]>;
  /** What each wave's gate found, from the stack's outputs (true after a failed up too). */
  waves(): Promise<string[]>;
}

export interface DriverOptions {
  /** A directory of the driver's own (state, workspace). */
  work: string;
  /** examples/fleet's config (inventory, waveSize, ...). */
  config: Record<string, string>;
  /** The program module (default: dist/examples/fleet/index.js). */
  program?: string;
  /** Called with every step as it completes (progress display). */
  onStep?: (r: ResourceResult) => void;
}

const defaultProgram = () => path.join(ROOT, "dist/examples/fleet/index.js");

/** tools/pulumi (the repository's CLI provisioning), when this is a checkout that has it. */
function pulumiTools(): typeof PulumiTools | undefined {
  const file = path.join(ROOT, "tools/pulumi/index.cjs");
  return fs.existsSync(file) ? (require(file) as typeof PulumiTools) : undefined;
}

/**
 * The real Pulumi CLI, as tools/pulumi gives it (a recent-enough `pulumi` on PATH, else the pinned one, built with Go
 * on first use, saying so through `log`), or undefined with the reason when none can be had.
 */
export async function findPulumiCli(log: (line: string) => void): Promise<{ cli?: PulumiTools.PulumiCli; reason?: string }> {
  const tools = pulumiTools();
  if (!tools) return { reason: "tools/pulumi is not here (not a checkout of the repository)" };
  const availability = tools.pulumiCliAvailability();
  if (!availability.ok) return { reason: availability.reason };
  try {
    return { cli: await tools.ensurePulumiCli({ log }) };
  } catch (err) {
    // The demo still runs, on cli/engine, and says why; the build's log is named in the message.
    return { reason: `it could not be provisioned: ${(err as Error).message.split("\n")[0]}` };
  }
}

/** cli/engine: the program in this process under mocks, the real dynamic-provider plugin, a JSON state file. */
export function engineDriver(opts: DriverOptions): Driver {
  const programPath = opts.program ?? defaultProgram();
  const engine = new MiniEngine({
    project: FLEET_PROJECT,
    stack: "demo",
    programDir: path.dirname(programPath),
    statePath: path.join(opts.work, "state.json"),
    passphrase: "demo",
    config: opts.config,
  });
  const program = programFromModule(programPath);
  engine.on("event", (e: EngineEvent) => {
    if (e.kind === "stepDone" && opts.onStep) opts.onStep(e.result);
  });
  const keep = (s: OperationSummary): OperationSummary => ({ ...s, resources: s.resources.filter(shown) });
  return {
    kind: "engine",
    description:
      "running examples/fleet through @pulumi/pulumi's dynamic-provider plugin, driven over gRPC by cli/engine (local state, passphrase secrets).",
    preview: async () => keep(await engine.preview(program)),
    up: async () => keep(await engine.up(program)),
    refresh: async () => keep(await engine.refresh()),
    destroy: async () => keep(await engine.destroy()),
    summary: async () => ((await engine.outputs({ showSecrets: false })).summary ?? []) as RouterSummary[],
    waves: async () => ((await engine.outputs({ showSecrets: false })).waves ?? []) as string[],
  };
}

/** Components and dynamic resources: what both drivers report (the engine also has the stack and its providers). */
function shown(r: { type: string }): boolean {
  return r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:");
}

/**
 * The real Pulumi CLI through the Automation API: the program as an inline program (evaluated afresh on every run), a
 * file backend and a Pulumi home under `work`, passphrase secrets. `main` is the program's directory, where the engine
 * starts the dynamic-provider plugin, so @pulumi/pulumi resolves from there.
 */
export async function automationDriver(opts: DriverOptions & { cli: PulumiTools.PulumiCli }): Promise<Driver> {
  const { LocalWorkspace, PulumiCommand } = await import("@pulumi/pulumi/automation");
  const programPath = opts.program ?? defaultProgram();
  const program = programFromModule(programPath);
  const backend = path.join(opts.work, "backend");
  fs.mkdirSync(backend, { recursive: true });
  const envVars: Record<string, string> = {};
  for (const [k, v] of Object.entries({
    ...opts.cli.env,
    PULUMI_HOME: path.join(opts.work, "pulumi-home"),
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: "demo",
  })) {
    if (v !== undefined) envVars[k] = v;
  }
  const workDir = path.join(opts.work, "workspace");
  fs.mkdirSync(workDir, { recursive: true });
  const stack: Stack = await LocalWorkspace.createOrSelectStack(
    { projectName: FLEET_PROJECT, stackName: "demo", program },
    {
      pulumiCommand: await PulumiCommand.get({ root: opts.cli.root }),
      envVars,
      workDir,
      projectSettings: { name: FLEET_PROJECT, runtime: "nodejs", main: path.dirname(programPath) },
    },
  );
  await stack.setAllConfig(Object.fromEntries(Object.entries(opts.config).map(([k, v]) => [k, { value: v }])));

  /** Runs one operation, turning its engine events into per-resource results. */
  const operate = async (
    operation: OperationSummary["operation"],
    run: (onEvent: (e: AutomationEvent) => void) => Promise<unknown>,
  ): Promise<OperationSummary> => {
    const resources: ResourceResult[] = [];
    const errors = new Map<string, string>();
    const onEvent = (e: AutomationEvent) => {
      const diag = e.diagnosticEvent;
      if (diag?.severity === "error" && diag.urn) errors.set(diag.urn, diag.message.trim());
      const preview = operation === "preview" ? e.resourcePreEvent?.metadata : undefined;
      const done = e.resOutputsEvent?.metadata;
      const failed = e.resOpFailedEvent?.metadata;
      const m = preview ?? done ?? failed;
      if (!m || !shown(m) || (operation === "preview" && !preview)) return;
      const result: ResourceResult = {
        urn: m.urn,
        type: m.type,
        name: m.urn.split("::").pop()!,
        op: stepOp(operation, m.type, m.op),
        note: `engine: ${m.op}`,
      };
      // A refresh step that changed the state is drift (the engine shows it as an update, or a delete when gone).
      if (operation === "refresh") result.drift = m.op === "update" || m.op === "delete";
      // The engine reports a step's error as a diagnostic, before the step's failure.
      if (failed) result.error = errors.get(m.urn) ?? `${m.op} failed`;
      resources.push(result);
      opts.onStep?.(result);
    };
    try {
      await run(onEvent);
      return { operation, ok: true, resources, outputs: {} };
    } catch (err) {
      // The CommandError carries the whole engine transcript; what failed is in the resources' error diagnostics.
      const stackUrn = /::pulumi:pulumi:Stack::/;
      const causes = [...errors].filter(([urn]) => !stackUrn.test(urn)).map(([, message]) => message);
      const error = causes.join("; ") || (err as Error).message.split("\n")[0];
      return { operation, ok: false, error, resources, outputs: {} };
    }
  };

  return {
    kind: "cli",
    description: `running examples/fleet through the Automation API on the Pulumi CLI ${opts.cli.version} (${opts.cli.source === "built" ? "built from tools/pulumi" : opts.cli.bin}; local file backend, passphrase secrets).`,
    preview: () => operate("preview", (onEvent) => stack.preview({ onEvent })),
    up: () => operate("up", (onEvent) => stack.up({ onEvent })),
    refresh: () => operate("refresh", (onEvent) => stack.refresh({ onEvent })),
    destroy: () => operate("destroy", (onEvent) => stack.destroy({ onEvent })),
    summary: async () => ((await stack.outputs()).summary?.value ?? []) as RouterSummary[],
    waves: async () => ((await stack.outputs()).waves?.value ?? []) as string[],
  };
}

/** The engine's operation names in cli/engine's terms: a refresh reads every dynamic resource (components stay the same). */
function stepOp(operation: OperationSummary["operation"], type: string, op: string): StepOp {
  if (operation === "refresh") return !type.startsWith("pulumi-nodejs:dynamic") ? "same" : op === "delete" ? "delete" : "read";
  if (op === "create-replacement" || op === "delete-replaced" || op === "replace") return "replace";
  return op as StepOp;
}
