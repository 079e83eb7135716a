import * as fs from "fs";
import * as net from "net";
import { execFileSync } from "child_process";
import type { RouterFs } from "./fs";

/**
 * How an emulated OpenWrt program (uci, fw4, nft, ubus, ...) runs: its path on the router is a
 * link to this shim, a busybox ash script that hands argv to the simulator through FIFOs and prints
 * what comes back. The router's shell stays real (pipes, redirections, `$?`, `&&` all behave), while
 * the program itself runs in the simulator process, next to the router's kernel state.
 *
 * The shim's own process is the program's (a real router starts one too). Beyond it, a call costs
 * the router processes a real one would not start: a mkfifo, and a cat for each of stdin, stdout
 * and stderr that carries something; the simulator removes the call's files itself. The simulator
 * counts them (shimProcessStarts), so that what a router runs can be told from what the shim adds.
 * The alternatives (starting node inside the chroot per call) cost ~50 ms each.
 */
export const RPC_DIR = "/lib/sim/rpc";
export const SHIM_PATH = "/lib/sim/tool";

export const SHIM_SCRIPT = `#!/bin/sh
# This OpenWrt program is emulated by the simulator; see sim/rpc.ts in pulumi-openwrt-offload.
f=${RPC_DIR}/$$
printf '%s\\000' "$PWD" "\${0##*/}" "$@" > "$f.a"
# A FIFO left by a process of the same PID killed mid-call (a reboot) is in the way: remove it first.
mkfifo "$f.r" 2>/dev/null || { rm -f "$f.r" && mkfifo "$f.r"; } || exit 126
exec 3<>"$f.r"
echo "$f" > ${RPC_DIR}/req
read -r reply <&3
if [ "$reply" = stdin ]; then
	cat > "$f.i"
	echo "$f i" > ${RPC_DIR}/req
	read -r reply <&3
fi
exec 3<&-
# The reply: exit status, then the sizes of stdout and stderr.
set -- $reply
[ "$2" -gt 0 ] && cat "$f.o"
[ "$3" -gt 0 ] && cat "$f.e" >&2
echo "$f x" > ${RPC_DIR}/req
exit "$1"
`;

export interface ToolCall {
  argv: string[];
  cwd: string;
  readStdin(): Promise<Buffer>;
}

export interface ToolCallResult {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
  /** The router died meanwhile (a power cut right after the program's work): nobody hears the answer. */
  unanswered?: boolean;
}

export type ToolDispatcher = (call: ToolCall) => Promise<ToolCallResult>;

/** The simulator's end of the shim protocol, one per router. */
export class ToolRpcServer {
  private socket?: net.Socket;
  private readonly stdinWaiters = new Map<string, () => void>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Processes the shim started on the router beyond the programs' own (see the top of this file). */
  shimProcessStarts = 0;

  constructor(
    private readonly fs: RouterFs,
    private readonly dispatch: ToolDispatcher,
  ) {}

  start(): void {
    this.fs.mkdirp(RPC_DIR);
    this.fs.writeAtomic(SHIM_PATH, SHIM_SCRIPT, 0o755);
    const reqPath = this.fs.resolve(`${RPC_DIR}/req`);
    fs.rmSync(reqPath, { force: true });
    execFileSync("mkfifo", ["-m", "0622", reqPath]);
    // Opened read-write so the FIFO never reports EOF between callers, and non-blocking so a
    // net.Socket can watch it on the event loop instead of parking a thread-pool thread.
    const fd = fs.openSync(reqPath, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    const socket = new net.Socket({ fd, readable: true, writable: false });
    let pending = "";
    socket.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        this.onRequest(line);
      }
    });
    socket.on("error", () => undefined);
    this.socket = socket;
  }

  stop(): void {
    this.socket?.destroy();
    this.socket = undefined;
    for (const wake of this.stdinWaiters.values()) wake();
    this.stdinWaiters.clear();
  }

  /** Removes what calls killed with their router left behind (everything but the request FIFO). */
  forgetCalls(): void {
    for (const name of this.fs.list(RPC_DIR)) if (name !== "req") this.fs.remove(`${RPC_DIR}/${name}`);
  }

  /** Resolves once every program call already started has finished its work (a power cut waits for it). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private onRequest(line: string): void {
    const [prefix, phase] = line.split(" ");
    if (!prefix.startsWith(`${RPC_DIR}/`) || prefix.includes("/", RPC_DIR.length + 1)) return;
    if (phase === "x") {
      for (const suffix of ["a", "i", "o", "e", "r"]) this.fs.remove(`${prefix}.${suffix}`);
      return;
    }
    if (phase === "i") {
      const wake = this.stdinWaiters.get(prefix);
      this.stdinWaiters.delete(prefix);
      wake?.();
      return;
    }
    const serving = this.serve(prefix);
    this.inFlight.add(serving);
    void serving.finally(() => this.inFlight.delete(serving));
  }

  private async serve(prefix: string): Promise<void> {
    let words: string[];
    try {
      words = this.fs.readBytes(`${prefix}.a`).toString("utf8").split("\0");
    } catch {
      return;
    }
    words.pop(); // the terminator after the last word
    const [cwd, ...argv] = words;
    // mkfifo, then a cat for stdin (if read) and for each output that carries something.
    let shimStarts = 1;
    const call: ToolCall = {
      argv,
      cwd,
      readStdin: () =>
        new Promise<Buffer>((resolve) => {
          shimStarts++;
          this.stdinWaiters.set(prefix, () => resolve(this.fs.tryReadBytes(`${prefix}.i`) ?? Buffer.alloc(0)));
          this.reply(prefix, "stdin");
        }),
    };
    let result: ToolCallResult;
    try {
      result = await this.dispatch(call);
    } catch (err) {
      // A bug in an emulated program must be loud, never a silent success.
      result = { code: 134, stdout: Buffer.alloc(0), stderr: Buffer.from(`simulator: ${argv[0]} crashed: ${(err as Error).stack}\n`) };
    }
    if (result.unanswered) return;
    try {
      this.fs.writeAtomic(`${prefix}.o`, result.stdout);
      this.fs.writeAtomic(`${prefix}.e`, result.stderr);
      this.reply(prefix, `${result.code} ${result.stdout.length} ${result.stderr.length}`);
      this.shimProcessStarts += shimStarts + (result.stdout.length > 0 ? 1 : 0) + (result.stderr.length > 0 ? 1 : 0);
    } catch {
      // The caller is gone (killed by a reboot, or its router stopped): nobody to answer.
    }
  }

  private reply(prefix: string, message: string): void {
    const fd = fs.openSync(this.fs.resolve(`${prefix}.r`), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      fs.writeSync(fd, `${message}\n`);
    } finally {
      fs.closeSync(fd);
    }
  }
}
