import { execFileSync } from "child_process";
import * as path from "path";
import type { OutputMap } from "@pulumi/pulumi/automation";
import { pulumiCliAvailability } from "../../tools/pulumi/index.cjs";
import { describeIf, type Availability } from "../helpers/requirements";
import {
  CliStack,
  EXAMPLES,
  inlineProgram,
  inlineStack,
  routerState,
  Sandbox,
  sandboxTest,
  stepCollector,
  type Config,
  type RouterState,
} from "./harness";

/**
 * One example's whole lifecycle through the real CLI, twice: as `pulumi` commands on a copy of its Pulumi.yaml, and
 * as an Automation API inline program. preview (writes nothing), up, up --expect-no-changes, a hand edit on a router,
 * refresh --expect-no-changes (fails, naming the resource and the drift class), up (repairs it exactly), destroy (the
 * routers are as they were: firewall config, ruleset, include files, packages, no guard lock).
 */
export interface ExampleSpec {
  example: string;
  projectName: string;
  profiles: string[];
  /** The stack's config (connection, inventory, ...). */
  config(box: Sandbox): Config;
  /** Registrations, the stack included: what a first up creates and destroy deletes. */
  resources: number;
  /** Checks the routers and the stack outputs after the first up. */
  checkUp(box: Sandbox, outputs: Record<string, unknown>): Promise<void>;
  /** Someone edits a router by hand (LuCI, ssh). */
  handEdit(box: Sandbox): Promise<void>;
  /** What refresh must report: the resource and its drift class. */
  drift: { resource: string; class: string };
  /**
   * Packages that OffloadPackages installed and destroy leaves (removeOnDelete defaults to false), by router index:
   * everything else destroy must put back exactly.
   */
  packagesLeftInstalled?: Record<number, string[]>;
  /** What the suite needs besides a Pulumi CLI (default: nothing); `dir` goes first on the sandboxes' PATH. */
  availability?: () => Availability & { dir?: string };
  /** Run the Pulumi.yaml variant on the Node.js in this directory (first on PATH). */
  nodeBinDir?: () => string;
  /** More steps for the Pulumi.yaml variant, after destroy (the routers are back to `before`). */
  extraCli?: (ctx: { stack: CliStack; before: RouterState[]; afterUp: RouterState[]; outputsAfterUp: Record<string, unknown> }) => Promise<void>;
}

export const states = (box: Sandbox) => Promise.all(box.routers.map((r) => routerState(r)));

/** After destroy: every router as it was before the first up, but for the packages the spec says stay installed. */
export async function expectAsBefore(spec: Pick<ExampleSpec, "packagesLeftInstalled">, box: Sandbox, before: RouterState[]): Promise<void> {
  const after = await states(box);
  const added = (i: number) => {
    const had = new Set(before[i].packages.split("\n"));
    return after[i].packages.split("\n").filter((l) => l && !had.has(l)).map((l) => l.split(" - ")[0]);
  };
  expect(after.map((_, i) => added(i))).toEqual(after.map((_, i) => spec.packagesLeftInstalled?.[i] ?? []));
  expect(after.map((s) => ({ ...s, packages: undefined }))).toEqual(before.map((s) => ({ ...s, packages: undefined })));
}

/** The `--diff` block of one resource in a refresh or preview: from its `[urn=…::name]` line to the next resource. */
export function diffBlock(output: string, name: string): string {
  const lines = output.split("\n");
  const start = lines.findIndex((l) => l.includes("[urn=") && l.trimEnd().endsWith(`::${name}]`));
  if (start < 0) return "";
  const end = lines.findIndex((l, i) => i > start + 1 && /^\s*[~+\-= ]*\s*[\w-]+:[\w/:.-]+: \(/.test(l));
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

function plainOutputs(outputs: OutputMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]));
}

export function exampleSuites(spec: ExampleSpec): void {
  const cli = pulumiCliAvailability();
  const extra = spec.availability?.() ?? { ok: true };
  const availability = !cli.ok ? cli : extra;
  describeIf(availability, `examples/${spec.example} through the real Pulumi CLI`, () => {
    const n = spec.resources;
    const pathFirst = (dirs: (string | undefined)[]) => dirs.filter((d): d is string => Boolean(d)).join(path.delimiter) || undefined;

    sandboxTest(
      `Pulumi.yaml: preview, up, up --expect-no-changes, drift, refresh --expect-no-changes fails, up repairs, destroy${spec.nodeBinDir ? " (Node.js 24)" : ""}`,
      { profiles: spec.profiles, nodeBinDir: pathFirst([spec.nodeBinDir?.(), extra.dir]) },
      async (box) => {
        const stack = await CliStack.init(box, spec.example, "sim", spec.config(box));
        if (spec.nodeBinDir) {
          // The CLI's children (language host, program, dynamic-provider plugin) run on what PATH gives.
          expect((await stack.ok(["version"])).trim()).toBe(box.cli.version);
          expect(execFileSync("node", ["--version"], { env: box.env, encoding: "utf8" })).toMatch(/^v24\./);
        }
        const before = await states(box);

        const preview = await stack.ok(["preview", "--diff"]);
        expect(preview).toMatch(new RegExp(`\\+ ${n} to create`));
        expect(await states(box)).toEqual(before);

        const up = await stack.ok(["up", "--yes", "--skip-preview"]);
        expect(up).toMatch(new RegExp(`\\+ ${n} created`));
        const outputsAfterUp = await stack.outputs();
        await spec.checkUp(box, outputsAfterUp);
        const afterUp = await states(box);
        expect(afterUp.map((s) => s.guardLock)).toEqual(afterUp.map(() => false));

        // Right after an up that changed the router, the inputs it stored still hold the plan it carried out: a
        // refresh finds no drift.
        const clean = await stack.run(["refresh", "--yes", "--skip-preview", "--expect-no-changes"]);
        expect({ code: clean.code, output: clean.code === 0 ? "" : clean.output }).toEqual({ code: 0, output: "" });

        const again = await stack.run(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
        expect({ code: again.code, output: again.code === 0 ? "" : again.output }).toEqual({ code: 0, output: "" });
        expect(again.stdout).toMatch(new RegExp(`${n} unchanged`));
        expect(await states(box)).toEqual(afterUp);

        await spec.handEdit(box);
        const refresh = await stack.run(["refresh", "--yes", "--skip-preview", "--diff", "--expect-no-changes"]);
        expect(refresh.code).not.toBe(0);
        expect(refresh.stderr).toMatch(/no changes were expected for refresh but changes were proposed/);
        expect(refresh.stdout).toMatch(/~ 1 updated/);
        const block = diffBlock(refresh.stdout.slice(refresh.stdout.indexOf("Refreshing (")), spec.drift.resource);
        expect(block).toMatch(/\(update\)|\[urn=/);
        expect(block).toMatch(new RegExp(`class\\s*:\\s*"${spec.drift.class}"`));

        const repair = await stack.ok(["up", "--yes", "--skip-preview"]);
        expect(repair).toMatch(/~ 1 updated/);
        expect(await states(box)).toEqual(afterUp);

        const destroy = await stack.ok(["destroy", "--yes", "--skip-preview"]);
        expect(destroy).toMatch(new RegExp(`- ${n} deleted`));
        await expectAsBefore(spec, box, before);

        await spec.extraCli?.({ stack, before, afterUp, outputsAfterUp });
      },
    );

    sandboxTest(
      "Automation API inline program: the same lifecycle",
      { profiles: spec.profiles, nodeBinDir: pathFirst([extra.dir]) },
      async (box) => {
        const stack = await inlineStack(box, {
          projectName: spec.projectName,
          stackName: "inline",
          program: inlineProgram(spec.example),
          main: path.join(EXAMPLES, spec.example),
          config: spec.config(box),
        });
        const before = await states(box);

        const preview = await stack.preview();
        expect(preview.changeSummary).toEqual({ create: n });
        expect(await states(box)).toEqual(before);

        const up = await stack.up();
        expect(up.summary.result).toBe("succeeded");
        expect(up.summary.resourceChanges).toEqual({ create: n });
        await spec.checkUp(box, plainOutputs(up.outputs));
        const afterUp = await states(box);
        expect((await stack.refresh({ expectNoChanges: true })).summary.resourceChanges).toEqual({ same: n });

        const again = await stack.up({ expectNoChanges: true });
        expect(again.summary.resourceChanges).toEqual({ same: n });
        expect(await states(box)).toEqual(afterUp);

        await spec.handEdit(box);
        const steps = stepCollector();
        const refresh = await stack.refresh({ expectNoChanges: true, onEvent: steps.onEvent }).then(
          () => undefined,
          (err: Error) => err,
        );
        expect(refresh?.message).toMatch(/no changes were expected for refresh but changes were proposed/);
        expect(refresh?.message).toContain(spec.drift.resource);
        const drifted = steps.steps.filter((s) => s.op === "update");
        expect(drifted.map((s) => s.name)).toEqual([spec.drift.resource]);
        expect(drifted[0].outputs?.drift).toEqual([expect.objectContaining({ class: spec.drift.class })]);

        const repair = await stack.up();
        expect(repair.summary.resourceChanges).toEqual({ update: 1, same: n - 1 });
        expect(await states(box)).toEqual(afterUp);

        const destroy = await stack.destroy();
        expect(destroy.summary.resourceChanges).toEqual({ delete: n });
        await expectAsBefore(spec, box, before);
        await stack.workspace.removeStack("inline");
      },
    );
  });
}
