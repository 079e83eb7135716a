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
 * One call costs the shell a mkfifo, a cat and an rm (busybox applets) and no extra process in the
 * simulator; the alternatives (starting node inside the chroot per call) cost ~50 ms each.
 */
export const RPC_DIR = "/lib/sim/rpc";
export const SHIM_PATH = "/lib/sim/tool";

export const SHIM_SCRIPT = `#!/bin/sh
# This OpenWrt program is emulated by the simulator; see sim/rpc.ts in pulumi-openwrt-offload.
f=${RPC_DIR}/$$
[ -e "$f.r" ] && rm -f "$f".?
printf '%s\\000' "$PWD" "\${0##*/}" "$@" > "$f.a"
mkfifo "$f.r" || exit 126
exec 3<>"$f.r"
echo "$f" > ${RPC_DIR}/req
read -r reply <&3
if [ "$reply" = stdin ]; then
	cat > "$f.i"
	echo "$f i" > ${RPC_DIR}/req
	read -r reply <&3
fi
exec 3<&-
[ -s "$f.o" ] && cat "$f.o"
[ -s "$f.e" ] && cat "$f.e" >&2
rm -f "$f".?
exit "$reply"
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

  /** Resolves once every program call already started has finished its work (a power cut waits for it). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private onRequest(line: string): void {
    const [prefix, phase] = line.split(" ");
    if (!prefix.startsWith(`${RPC_DIR}/`)) return;
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
    const call: ToolCall = {
      argv,
      cwd,
      readStdin: () =>
        new Promise<Buffer>((resolve) => {
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
      this.reply(prefix, String(result.code));
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
