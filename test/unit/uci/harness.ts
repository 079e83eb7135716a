import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Flash } from "../../../sim/flash";
import { RouterFs } from "../../../sim/fs";
import { uciTool } from "../../../sim/tools/uci";
import type { RouterHandle, ToolContext } from "../../../sim/types";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export const STOCK_FIREWALL = fs.readFileSync(
  path.join(__dirname, "../../../sim/profiles/configs/firewall-stock"),
  "utf8",
);

/** A router root in a temp dir, with just enough of a RouterHandle for uci. */
export class TestRouter {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), "uci-test-"));
  readonly fs = new RouterFs(this.root);
  readonly faults = { overlayFull: false, failNextFirewallReload: false };
  /** What uci leaves on flash (its fsync covers only the temp file of a commit). */
  readonly flash = new Flash(this.root, `${this.root}.flash`);
  /** How many times a program asked for its stdin. */
  stdinReads = 0;

  constructor(configs: Record<string, string> = {}) {
    this.fs.mkdirp("/etc/config");
    this.fs.mkdirp("/tmp");
    for (const [name, text] of Object.entries(configs)) this.write(`/etc/config/${name}`, text);
  }

  write(p: string, text: string): void {
    this.fs.writeAtomic(p, text);
  }

  read(p: string): string | undefined {
    return this.fs.tryReadText(p);
  }

  /** Runs `uci ARGS...` (argv[0] is "uci"), feeding `stdin` when given. */
  async uci(args: string[], stdin = ""): Promise<Run> {
    let stdout = "";
    let stderr = "";
    const ctx: ToolContext = {
      argv: ["uci", ...args],
      cwd: "/root",
      env: {},
      fs: this.fs,
      router: { faults: this.faults, flash: this.flash } as unknown as RouterHandle,
      readStdin: async () => {
        this.stdinReads++;
        return Buffer.from(stdin);
      },
      stdout: (d) => (stdout += d.toString()),
      stderr: (d) => (stderr += d.toString()),
      run: async () => ({ code: 127, stdout: "", stderr: "" }),
    };
    const code = await uciTool(ctx);
    return { code, stdout, stderr };
  }

  /** `uci batch` with the given script on stdin. */
  batch(script: string, opts: string[] = []): Promise<Run> {
    return this.uci([...opts, "batch"], script);
  }

  dispose(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
