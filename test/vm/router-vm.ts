import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { getPool, parseConnectionOptions, shellQuote, type ConnectionOptions } from "../../provider/transport";
import type { RouterShell } from "../../provider/device/shell";
import type { RouterConnection } from "../../sdk/types";
import { onPath } from "../../sim/busybox/host-tools";
import { describeIf, type Availability } from "../helpers/requirements";

/**
 * A real Linux kernel with nftables flowtables, in QEMU, reached over SSH on a loopback port. The image comes from
 * test/vm/build-image.sh (Debian's cloud kernel, busybox, dash, the host's nft/ip/kmod, dropbear, iperf3).
 */

export const IMAGE_DIR = path.join(__dirname, "../../.cache/router-vm/out");
const IMAGE_FILES = ["vmlinux", "initramfs.cpio.lz4", "id_ed25519", "host_key.pub"];
const QEMU = "qemu-system-x86_64";
/** Under TCG on a busy 2-core machine boots take 3.5-5 s; the margin is for CI running other suites alongside. */
const BOOT_TIMEOUT_MS = 90_000;

export function routerVmAvailability(): Availability {
  if (process.platform !== "linux" || process.arch !== "x64") return { ok: false, reason: `the router VM needs x86-64 Linux (this is ${process.platform}/${process.arch})` };
  if (!onPath(QEMU)) return { ok: false, reason: `${QEMU} is not installed (apt-get install qemu-system-x86)` };
  if (!onPath("setpriv")) return { ok: false, reason: "setpriv is not installed (apt-get install util-linux)" };
  const missing = IMAGE_FILES.filter((f) => !fs.existsSync(path.join(IMAGE_DIR, f)));
  if (missing.length > 0) return { ok: false, reason: `no router VM image in .cache/router-vm (run: bash test/vm/build-image.sh)` };
  return { ok: true };
}

/**
 * KVM when it can run a stock kernel, TCG otherwise. A /dev/kvm backed by kvm_pvm (nested PVM, no VMX/SVM)
 * opens fine but cannot: QEMU aborts setting MSR 0x10a, or the guest crawls and hangs in early boot.
 */
function accelerator(): string[] {
  let kvm = !fs.existsSync("/sys/module/kvm_pvm");
  try {
    fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    kvm = false;
  }
  return kvm ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg,thread=multi", "-cpu", "max"];
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True once the guest's sshd answers: QEMU's user network accepts TCP at once and drops it while nothing listens. */
function sshBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let seen = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on("data", (d: Buffer) => {
      seen += d.toString("latin1");
      if (seen.startsWith("SSH-")) done(true);
    });
    socket.on("error", () => done(false));
    socket.on("close", () => done(seen.startsWith("SSH-")));
  });
}

export interface VmExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RouterVm {
  readonly pid: number;
  readonly port: number;
  /** What a Router resource would be given for this machine (the host key is pinned). */
  readonly connection: RouterConnection;
  readonly options: ConnectionOptions;
  /** From starting QEMU to the guest's SSH banner. */
  readonly bootMs: number;
  /** Runs `command` through the guest's /bin/sh (dash) over the project's own SSH transport; any exit code returns. */
  exec(command: string, options?: { stdin?: string; timeoutMs?: number }): Promise<VmExecResult>;
  /** The same, inside one of the guest's network namespaces. */
  execIn(netns: string, command: string, options?: { stdin?: string; timeoutMs?: number }): Promise<VmExecResult>;
  /** A RouterShell whose commands run inside `netns`, for the provider's device code. */
  shellIn(netns: string): RouterShell;
  stop(): Promise<void>;
}

class QemuRouterVm implements RouterVm {
  readonly connection: RouterConnection;
  readonly options: ConnectionOptions;

  constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    readonly port: number,
    readonly bootMs: number,
    private readonly runDir: string,
  ) {
    this.connection = {
      host: "127.0.0.1",
      port,
      user: "root",
      privateKey: fs.readFileSync(path.join(IMAGE_DIR, "id_ed25519"), "utf8"),
      hostKey: fs.readFileSync(path.join(IMAGE_DIR, "host_key.pub"), "utf8").trim(),
    };
    this.options = parseConnectionOptions(this.connection);
  }

  async exec(command: string, { stdin, timeoutMs = 60_000 }: { stdin?: string; timeoutMs?: number } = {}): Promise<VmExecResult> {
    const { code, stdout, stderr } = await getPool().exec(this.options, command, { purpose: "router VM command", stdin, timeoutMs, okExitCodes: "any" });
    return { code, stdout, stderr };
  }

  execIn(netns: string, command: string, options?: { stdin?: string; timeoutMs?: number }): Promise<VmExecResult> {
    return this.exec(`ip netns exec ${shellQuote(netns)} sh -c ${shellQuote(command)}`, options);
  }

  shellIn(netns: string): RouterShell {
    const run: RouterShell["run"] = (command, execOptions) => getPool().exec(this.options, `ip netns exec ${shellQuote(netns)} sh -c ${shellQuote(command)}`, execOptions);
    // Nothing else reads this namespace: every read runs its own probe.
    return { router: `${this.options.router} (netns ${netns})`, run, read: (_kind, _options, probe) => probe(run) };
  }

  async stop(): Promise<void> {
    await getPool().closeAll();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
      process.kill(this.pid, "SIGTERM");
      const killed = await Promise.race([exited.then(() => true), delay(5000, undefined, { ref: false }).then(() => false)]);
      if (!killed) {
        process.kill(this.pid, "SIGKILL");
        await exited;
      }
    }
    fs.rmSync(this.runDir, { recursive: true, force: true });
  }
}

/** Boots the image on a free loopback port and resolves once SSH answers. */
export async function startRouterVm(): Promise<RouterVm> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "router-vm-"));
    const args = [
      // If this process dies, so does the VM: its only owner is the test that booted it.
      "--pdeathsig",
      "KILL",
      QEMU,
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-machine",
      "q35",
      ...accelerator(),
      "-smp",
      "2",
      // Below ~128 MB the unpacked initramfs does not fit.
      "-m",
      "256",
      "-kernel",
      path.join(IMAGE_DIR, "vmlinux"),
      "-initrd",
      path.join(IMAGE_DIR, "initramfs.cpio.lz4"),
      "-append",
      "console=ttyS0 quiet panic=-1",
      "-no-reboot",
      "-serial",
      `file:${path.join(runDir, "console.log")}`,
      // restrict=on: the guest reaches nothing outside; the only way in is SSH forwarded from loopback.
      "-netdev",
      `user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:22`,
      "-device",
      "virtio-net-pci,netdev=mgmt",
    ];
    const started = Date.now();
    const child = spawn("setpriv", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.once("error", (e) => (stderr += String(e)));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    let up = false;
    while (!up && child.exitCode === null && child.signalCode === null && Date.now() - started < BOOT_TIMEOUT_MS) {
      up = await sshBanner(port);
      if (!up) await Promise.race([delay(100), exited]);
    }
    if (up && child.pid !== undefined) return new QemuRouterVm(child, child.pid, port, Date.now() - started, runDir);
    const consoleLog = fs.existsSync(path.join(runDir, "console.log")) ? fs.readFileSync(path.join(runDir, "console.log"), "utf8") : "";
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
    fs.rmSync(runDir, { recursive: true, force: true });
    // Another process may take the port between the probe and QEMU's bind.
    if (/host forwarding rule/.test(stderr) && attempt < 3) continue;
    throw new Error(
      `router VM did not reach SSH within ${BOOT_TIMEOUT_MS} ms (QEMU ${child.exitCode === null ? "killed" : `exited ${child.exitCode}`})\n` +
        `QEMU stderr: ${stderr.trim()}\nconsole tail:\n${consoleLog.split("\n").slice(-30).join("\n")}`,
    );
  }
}

/** Declares `body` as a suite when the router VM can run (see describeIf). */
export function describeWithRouterVm(title: string, body: () => void): void {
  describeIf(routerVmAvailability(), title, body);
}
