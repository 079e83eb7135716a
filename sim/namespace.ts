import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import type { BaseImage } from "./base-image";

/** The mount points a router's root needs from the host (bind mounts, private to the router). */
export const DEVICE_NODES = ["null", "zero", "full", "random", "urandom", "tty"];

// "ready" comes from inside the chroot: only then may execs join this process's root. ash's `wait`
// reaps every child (waitpid(-1)), orphans included, so PID 1 starts no process of its own after boot
// and the namespace's PID counter counts only what the router runs.
const INIT_LOOP = "echo ready; cd /root; exec 3<&0; /bin/cat <&3 >/dev/null & c=$!; exec 3<&-; while kill -0 $c 2>/dev/null; do wait $c; done";

export const ROUTER_ENV = {
  PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
  USER: "root",
  LOGNAME: "root",
  SHELL: "/bin/ash",
  PWD: "/root",
};

/**
 * One boot of a router: its own mount, PID and network namespaces with the root directory as `/`
 * (and, unless the simulator runs as root, a user namespace that owns them).
 *
 * Its init (PID 1 inside) is a busybox ash loop, so every process the router starts — including
 * `cmd &` children and daemons that outlive their SSH channel — belongs to this namespace and dies
 * with it, as on a reboot. The network namespace has only loopback: nothing a router script runs
 * can reach another host.
 */
export class RouterNamespace {
  private holder?: ChildProcess;
  private initPid?: number;
  /** Processes this boot started only to read its PID counter (see processStarts). */
  private counterReads = 0;
  /** Reads one at a time: each reader must know how many took a PID before it. */
  private counterQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly rootDir: string,
    private readonly image: BaseImage,
  ) {}

  get running(): boolean {
    return this.initPid !== undefined;
  }

  async start(): Promise<void> {
    // Paths travel as environment variables, so nothing host-side is ever spliced into shell text.
    const setup = [
      "set -e",
      'ro_bind() { "$BB" mount --bind "$1" "$R$2" && "$BB" mount -o remount,bind,ro "$R$2"; }',
      'ro_bind "$BB" "$BBPATH"',
      'for d in $LIBDIRS; do ro_bind "$d" "$d"; done',
      'for n in $DEVNODES; do "$BB" mount --bind "/dev/$n" "$R/dev/$n"; done',
      '"$BB" ip link set lo up',
      // PID 1: reaps orphans and exits — taking the whole router with it — when the simulator's end
      // of its stdin closes.
      `exec "$BB" chroot "$R" /bin/sh -c '${INIT_LOOP}'`,
    ].join("\n");
    const holder = spawn(
      "unshare",
      [...userNamespaceArgs(), "--mount", "--pid", "--net", "--fork", "--kill-child", "--propagation", "private", "/bin/sh", "-c", setup],
      {
        stdio: ["pipe", "pipe", "pipe"],
        env: {
          PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
          R: this.rootDir,
          BB: this.image.busybox,
          BBPATH: this.image.mountPath,
          LIBDIRS: this.image.libraryDirs.join(" "),
          DEVNODES: DEVICE_NODES.join(" "),
        },
      },
    );
    this.holder = holder;
    let stderr = "";
    holder.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const onExit = (code: number | null) =>
        reject(new Error(`simulated router failed to start (exit ${code}): ${stderr.trim() || "no output"}`));
      holder.once("exit", onExit);
      holder.once("error", reject);
      holder.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("ready")) {
          holder.off("exit", onExit);
          resolve();
        }
      });
    });
    this.initPid = await waitForChild(holder.pid!);
    this.counterReads = 0;
    holder.once("exit", () => {
      this.initPid = undefined;
    });
  }

  /** Kills every process of this boot at once, as a power cut would. */
  async stop(): Promise<void> {
    const holder = this.holder;
    this.holder = undefined;
    this.initPid = undefined;
    if (!holder || holder.exitCode !== null || holder.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => holder.once("exit", () => resolve()));
    holder.kill("SIGKILL");
    await exited;
  }

  /**
   * Processes started inside the router since this boot, init and these reads excepted (boot
   * scripts included). PIDs in a namespace are handed out in order, so the namespace's last PID
   * counts every fork; it is read by a process that joins only the PID namespace (the host's
   * /proc answers for the reader's own namespace), which takes a PID itself.
   */
  processStarts(): Promise<number> {
    const read = this.counterQueue.then(() => this.readPidCounter());
    this.counterQueue = read.catch(() => undefined);
    return read;
  }

  private async readPidCounter(): Promise<number> {
    if (this.initPid === undefined) throw new Error("the simulated router is not running");
    const user = asRoot() ? [] : ["-U", "--preserve-credentials"];
    const child = spawn("nsenter", ["-t", String(this.initPid), ...user, "-p", "--", "cat", "/proc/sys/kernel/ns_last_pid"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    const last = Number(out.trim());
    if (code !== 0 || !Number.isInteger(last)) throw new Error(`could not read the router's PID counter (exit ${code}): ${err.trim() || out.trim()}`);
    this.counterReads++;
    return last - 1 - this.counterReads;
  }

  /** Runs `sh -c command` inside the router, as its SSH server would, with the router's login environment. */
  exec(command: string | undefined): ChildProcess {
    if (this.initPid === undefined) throw new Error("the simulated router is not running");
    const shellArgs = command === undefined ? ["/bin/sh"] : ["/bin/sh", "-c", command];
    const user = asRoot() ? [] : ["-U", "--preserve-credentials"];
    return spawn("nsenter", ["-t", String(this.initPid), ...user, "-m", "-p", "-n", "-r", "-w", ...shellArgs], {
      env: ROUTER_ENV,
      stdio: ["pipe", "pipe", "pipe"],
    });
  }
}

function asRoot(): boolean {
  return process.getuid?.() === 0;
}

let userNamespaceChecked = false;

/**
 * Root needs no user namespace. Anyone else gets one in which they are root (their own uid mapped
 * to 0), which owns the router's other namespaces; the kernel must allow that, so try it once.
 */
function userNamespaceArgs(): string[] {
  if (asRoot()) return [];
  if (!userNamespaceChecked) {
    const probe = spawnSync("unshare", ["--user", "--map-root-user", "--mount", "--pid", "--net", "--fork", "true"], { encoding: "utf8" });
    if (probe.status !== 0) {
      throw new Error(
        `simulated routers need namespaces; as a non-root user that takes an unprivileged user namespace, which this kernel refused (${(probe.stderr || probe.error?.message || "").trim()}). ` +
          "Run as root, or allow them: sysctl -w kernel.unprivileged_userns_clone=1 (Debian/Ubuntu kernels), " +
          "sysctl -w user.max_user_namespaces=10000 where it is 0, and on Ubuntu 23.10+ sysctl -w kernel.apparmor_restrict_unprivileged_userns=0.",
      );
    }
    userNamespaceChecked = true;
  }
  return ["--user", "--map-root-user"];
}

/** The router's init is the holder's only child; its host PID is what nsenter needs. */
async function waitForChild(pid: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    try {
      const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
      if (children) return Number(children.split(/\s+/)[0]);
    } catch {
      // not there yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`simulated router init did not appear under pid ${pid}`);
}

