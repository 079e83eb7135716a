import * as path from "node:path";
import type { Program } from "./engine";

export interface ProgramModuleOptions {
  /** Modules under this directory are re-evaluated on every run (default: the program module's directory). */
  root?: string;
}

/**
 * A Program from a module that creates its resources when evaluated, as Pulumi programs do. Each run evaluates the
 * module afresh, so a second `up` registers resources again instead of getting the first run's cached exports.
 * Packages under node_modules stay cached: @pulumi/pulumi must stay the instance the engine set mocks on.
 *
 * Like the Pulumi Node.js host: a module exporting a function (or `default` function) is called and its result
 * becomes the stack outputs; otherwise the module's exports are the stack outputs.
 */
export function programFromModule(modulePath: string, opts: ProgramModuleOptions = {}): Program {
  const resolved = require.resolve(path.resolve(modulePath));
  const root = path.resolve(opts.root ?? path.dirname(resolved)) + path.sep;
  return async () => {
    for (const file of Object.keys(require.cache)) {
      if (file.startsWith(root) && !file.includes(`${path.sep}node_modules${path.sep}`)) delete require.cache[file];
    }
    const exported = require(resolved) as unknown;
    const main = callable(exported) ?? callable((exported as { default?: unknown } | null)?.default);
    return (main ? await main() : exported) as Record<string, unknown> | undefined;
  };
}

function callable(v: unknown): (() => unknown) | undefined {
  return typeof v === "function" ? (v as () => unknown) : undefined;
}
