import * as path from "path";
import type { RouterFs } from "../../fs";
import type { RouterHandle, Tool, ToolResult } from "../../types";
import { type KernelEnv, type NftKernel, STRERROR } from "./kernel";
import { NftSyntaxError, NftSyntaxErrors, makeSource } from "./lexer";
import { type ListOptions, NFT_RELEASE_NAME, NFT_VERSION, formatError, runList } from "./output";
import { parseScript } from "./parser";

export { NftKernel } from "./kernel";
export type { FlowtableInfo, FlowOffloadRule, KernelEnv } from "./kernel";

export interface NftInput {
  text: string;
  /** File name for error locations; `null` for the command line. */
  sourceName: string | null;
  check: boolean;
  json: boolean;
  list: ListOptions;
}

/** What the kernel knows about the router outside nf_tables. */
export function kernelEnvOf(router: RouterHandle): KernelEnv {
  return {
    modules: router.kernel.modules,
    deviceExists: (name) => name === "lo" || router.netifd.device(name) !== undefined,
    acceptsHwOffload: (devices) => router.kernel.acceptsHwOffload(devices),
  };
}

/**
 * nft's run: parse and evaluate everything first (any error aborts), answer list commands from the
 * current ruleset, then submit all changes as one transaction.
 */
export function runNft(kernel: NftKernel, env: KernelEnv, fs: RouterFs, input: NftInput): ToolResult {
  const source = makeSource(input.sourceName, input.text);
  let script;
  try {
    script = parseScript(source, fs);
  } catch (e) {
    if (e instanceof NftSyntaxError) return { code: 1, stdout: "", stderr: formatError(e.message, e.loc) };
    if (e instanceof NftSyntaxErrors) return { code: 1, stdout: "", stderr: e.errors.map((err) => formatError(err.message, err.loc)).join("") };
    throw e;
  }
  let stdout = "";
  let stderr = "";
  for (const cmd of script.lists) {
    const res = runList(kernel.state, cmd, input.list, input.json);
    if (res.output === undefined) stderr += formatError(STRERROR.ENOENT, res.missing);
    else stdout += res.output;
  }
  if (stderr) return { code: 1, stdout: "", stderr };
  if (script.ops.length) {
    let errors;
    try {
      errors = kernel.transaction(env, input.check, (batch) => script.ops.forEach((op) => op(batch)));
    } catch (e) {
      if (e instanceof NftSyntaxError) return { code: 1, stdout: "", stderr: formatError(e.message, e.loc) };
      throw e;
    }
    if (errors.length) {
      return { code: 1, stdout, stderr: errors.map((e) => formatError(`Could not process rule: ${STRERROR[e.errno]}`, e.loc)).join("") };
    }
  }
  return { code: 0, stdout, stderr: "" };
}

const USAGE_ERROR = (arg: string) => `nft: unrecognized option '${arg}'\n`;

/** `nft [options] [cmd...]` / `nft [options] -f file` as nftables 1.0.6 behaves. */
export const nftTool: Tool = async (ctx) => {
  const args = ctx.argv.slice(1);
  const input: NftInput = { text: "", sourceName: null, check: false, json: false, list: { handles: false, terse: false, stateless: false } };
  let file: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("-") || arg === "-") break;
    if (arg.startsWith("--")) {
      const [name, value] = arg.split("=", 2);
      switch (name) {
        case "--check":
          input.check = true;
          break;
        case "--json":
          input.json = true;
          break;
        case "--terse":
          input.list.terse = true;
          break;
        case "--handle":
          input.list.handles = true;
          break;
        case "--stateless":
          input.list.stateless = true;
          break;
        case "--echo":
        case "--numeric":
          break;
        case "--version":
          ctx.stdout(`nftables v${NFT_VERSION} (${NFT_RELEASE_NAME})\n`);
          return 0;
        case "--file":
          file = value ?? args[++i];
          break;
        default:
          ctx.stderr(USAGE_ERROR(arg));
          return 1;
      }
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const flag = arg[j];
      if (flag === "f") {
        file = j + 1 < arg.length ? arg.slice(j + 1) : args[++i];
        break;
      }
      if (flag === "v") {
        ctx.stdout(`nftables v${NFT_VERSION} (${NFT_RELEASE_NAME})\n`);
        return 0;
      }
      const flags: Record<string, () => void> = {
        c: () => (input.check = true),
        j: () => (input.json = true),
        t: () => (input.list.terse = true),
        a: () => (input.list.handles = true),
        s: () => (input.list.stateless = true),
        e: () => undefined,
        n: () => undefined,
      };
      if (!flags[flag]) {
        ctx.stderr(`nft: invalid option -- '${flag}'\n`);
        return 1;
      }
      flags[flag]();
    }
  }
  if (file !== undefined) {
    // fw4 pipes into `nft -f /dev/stdin`; nft itself names `-` that way in its errors.
    if (file === "-" || file === "/dev/stdin") {
      input.text = (await ctx.readStdin()).toString("utf8");
      input.sourceName = "/dev/stdin";
    } else {
      const text = ctx.fs.tryReadText(path.posix.resolve(ctx.cwd, file));
      if (text === undefined) {
        ctx.stderr(`internal:0:0-0: Error: Could not open file "${file}": No such file or directory\n\n\n`);
        return 1;
      }
      input.text = text;
      input.sourceName = file;
    }
  } else {
    if (i >= args.length) {
      ctx.stderr("nft: no command specified\n");
      return 1;
    }
    input.text = args.slice(i).join(" ");
  }
  const res = runNft(ctx.router.kernel.nft, kernelEnvOf(ctx.router), ctx.fs, input);
  if (res.stdout) ctx.stdout(res.stdout);
  if (res.stderr) ctx.stderr(res.stderr);
  return res.code;
};
