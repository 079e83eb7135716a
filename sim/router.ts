import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EventEmitter } from "events";
import { utils } from "ssh2";
import { baseImage } from "./base-image";
import type { Faults } from "./faults";
import { installFirmware } from "./firmware";
import { RouterFs } from "./fs";
import { generateKeyPair } from "./keys";
import { SimKernel } from "./kernel";
import { RouterNamespace } from "./namespace";
import { SimNetifd } from "./netifd";
import { getProfile } from "./profiles";
import { layoutRoot, wipeVolatile } from "./rootfs";
import { ToolRpcServer } from "./rpc";
import { fingerprintOf, RouterSshServer, SshSession } from "./ssh-server";
import { dispatcherFor, programPathsFor } from "./tools/registry";
import { overlayUsage } from "./tools/df";
import { generateFlows, TrafficOptions } from "./traffic";
import type { ConntrackEntry, FaultState, Profile, RouterHandle, ToolResult } from "./types";
import { KernelViews } from "./kernel-views";
import { BOOT_SEQUENCE } from "./init-scripts";

export interface SimulatedRouterOptions {
  /** Profile id, e.g. "mt7621-23.05" (see `listProfiles()`). */
  profile?: string;
  /** Loopback address to listen on (default 127.0.0.1). Only loopback is allowed. */
  host?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /**
   * Where the router keeps its flash (root filesystem and keys). Reusing a directory restarts the
   * same router: same /etc, same host key. Default: a new temp directory, removed on stop().
   */
  stateDir?: string;
  /** root's password (default: random). */
  password?: string;
  faults?: Faults;
}

interface PersistedIdentity {
  profile: string;
  password: string;
  clientPrivateKey: string;
  clientPublicKey: string;
  hostKey: string;
  impostorHostKey: string;
}

export interface SimStats {
  /** SSH connections accepted (one handshake each). */
  connections: number;
  execs: number;
  boots: number;
}

/** A simulated OpenWrt router behind a real SSH server on loopback. */
export class SimulatedRouter extends EventEmitter implements RouterHandle {
  readonly host: string;
  port = 0;
  readonly username = "root";
  readonly password: string;
  /** OpenSSH private key that root accepts. */
  readonly privateKey: string;
  /** The router's own host key fingerprint (`SHA256:...`), stable across reboots and restarts. */
  readonly hostKeyFingerprint: string;
  /** The router's `/`, on the host. */
  readonly rootDir: string;
  readonly stateDir: string;
  readonly profile: Profile;
  readonly fs: RouterFs;
  readonly kernel: SimKernel;
  readonly netifd: SimNetifd;
  readonly stats: SimStats = { connections: 0, execs: 0, boots: 0 };
  /** The faults emulated programs act on (fw4 clears failNextFirewallReload once it has failed). */
  readonly faults: FaultState = { failNextFirewallReload: false, overlayFull: false };

  private readonly identity: PersistedIdentity;

  get identityPublicKey(): string {
    return this.identity.clientPublicKey;
  }

  private readonly ownsStateDir: boolean;
  private readonly ns: RouterNamespace;
  private readonly rpc: ToolRpcServer;
  private readonly views: KernelViews;
  private readonly ssh: RouterSshServer;
  private faultConfig: Faults = {};
  private execsSinceDropArmed = 0;
  private booting?: Promise<void>;
  private crashTimer?: NodeJS.Timeout;
  private loadTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(options: SimulatedRouterOptions = {}) {
    super();
    this.host = options.host ?? "127.0.0.1";
    if (!isLoopback(this.host)) throw new Error(`simulated routers listen on loopback only, not ${this.host}`);
    this.ownsStateDir = options.stateDir === undefined;
    this.stateDir = options.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "openwrt-sim-"));
    this.identity = loadOrCreateIdentity(this.stateDir, options);
    this.profile = getProfile(this.identity.profile);
    this.password = this.identity.password;
    this.privateKey = this.identity.clientPrivateKey;
    this.hostKeyFingerprint = fingerprintOf(this.identity.hostKey);
    this.rootDir = path.join(this.stateDir, "root");
    fs.mkdirSync(this.rootDir, { recursive: true });
    const image = baseImage();
    this.fs = layoutRoot(this.rootDir, image, programPathsFor(this.profile));
    this.kernel = new SimKernel(this.profile);
    this.netifd = new SimNetifd(this.profile, this.fs);
    this.ns = new RouterNamespace(this.rootDir, image);
    this.views = new KernelViews(this);
    this.rpc = new ToolRpcServer(this.fs, dispatcherFor(this, () => this.views.sync()));
    this.ssh = new RouterSshServer({
      host: this.host,
      port: options.port ?? 0,
      username: this.username,
      password: this.password,
      hostKey: this.identity.hostKey,
      authorizedKeys: () => this.authorizedKeys(),
      onSession: (session) => void this.serveSession(session),
      onConnection: () => this.stats.connections++,
    });
    this.setFaults(options.faults ?? {});
  }

  async start(): Promise<this> {
    if (!fs.existsSync(path.join(this.stateDir, ".firmware-installed"))) {
      installFirmware(this);
      fs.writeFileSync(path.join(this.stateDir, ".firmware-installed"), this.profile.id);
    }
    this.rpc.start();
    this.ssh.setAccepting(false);
    this.port = await this.ssh.listen();
    await this.boot();
    return this;
  }

  /** Replaces the current faults (pass {} to clear them). */
  setFaults(faults: Faults): void {
    this.faultConfig = { ...faults };
    this.faults.failNextFirewallReload = faults.failNextFirewallReload === true;
    this.faults.overlayFull = faults.overlayFull === true;
    this.execsSinceDropArmed = 0;
    this.ssh.replaceHostKey(faults.hostKeyChanged ? this.identity.impostorHostKey : this.identity.hostKey);
  }

  get currentFaults(): Readonly<Faults> {
    return { ...this.faultConfig, ...this.faults };
  }

  overlayFreeKiB(): number {
    return overlayUsage(this).availKiB;
  }

  /** What `reboot` on the router does: everything running dies, RAM is lost, the firmware boots again. */
  requestReboot(reason: string): void {
    void this.reboot(reason);
  }

  async reboot(reason = "reboot requested"): Promise<void> {
    if (this.booting) return this.booting;
    if (this.stopped) return;
    this.emit("reboot", reason);
    this.booting = (async () => {
      this.ssh.setAccepting(false);
      this.ssh.dropAll();
      this.clearTimers();
      await this.ns.stop();
      await this.bootNow();
    })().finally(() => {
      this.booting = undefined;
    });
    return this.booting;
  }

  /** Resolves once the router is up (immediately when it is). */
  async waitForBoot(): Promise<void> {
    await this.booting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopLoad();
    this.clearTimers();
    await this.booting?.catch(() => undefined);
    await this.ssh.close();
    await this.ns.stop();
    this.rpc.stop();
    if (this.ownsStateDir) fs.rmSync(this.stateDir, { recursive: true, force: true });
  }

  /**
   * Runs a command inside the router without SSH — a serial console for tests. It is not counted
   * in `stats` and ignores faults.
   */
  async console(command: string, stdin?: string): Promise<ToolResult> {
    await this.booting;
    const child = this.ns.exec(command);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on("data", (d: Buffer) => out.push(d));
    child.stderr!.on("data", (d: Buffer) => err.push(d));
    child.stdin!.end(stdin ?? "");
    const code = await new Promise<number>((resolve) => child.on("close", (c, signal) => resolve(c ?? (signal ? 128 + 9 : 1))));
    return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  }

  /** Forwards flows through the router now; returns the conntrack entries they produced. */
  traffic(options: TrafficOptions = {}): ConntrackEntry[] {
    const flows = generateFlows(this, options);
    this.kernel.conntrack.push(...flows);
    this.views.sync();
    if (this.profile.crashesUnderHwOffload && flows.some((f) => f.offload === "hardware")) this.scheduleCrash();
    return flows;
  }

  /** Keeps traffic flowing (a busy router) until stopLoad(); needed for crash-prone drivers to crash. */
  startLoad(intervalMs = 250): void {
    this.stopLoad();
    const tick = () => {
      if (!this.booting) this.traffic({ flows: 2 });
    };
    tick();
    this.loadTimer = setInterval(tick, intervalMs);
  }

  stopLoad(): void {
    if (this.loadTimer) clearInterval(this.loadTimer);
    this.loadTimer = undefined;
  }

  private scheduleCrash(): void {
    if (this.crashTimer) return;
    this.crashTimer = setTimeout(() => {
      this.crashTimer = undefined;
      this.emit("crash", "kernel oops in the flow offload driver under load");
      void this.reboot("crash: hardware flow offload under load");
    }, this.faultConfig.crashAfterMs ?? 1500);
  }

  private clearTimers(): void {
    if (this.crashTimer) clearTimeout(this.crashTimer);
    this.crashTimer = undefined;
  }

  private async boot(): Promise<void> {
    this.booting = this.bootNow().finally(() => {
      this.booting = undefined;
    });
    return this.booting;
  }

  private async bootNow(): Promise<void> {
    wipeVolatile(this.rootDir);
    this.kernel.powerOn(this.fs);
    this.netifd.reload();
    this.views.invalidate();
    this.views.sync();
    await this.ns.start();
    this.stats.boots++;
    this.fs.writeAtomic("/lib/sim/boot", BOOT_SEQUENCE, 0o755);
    const bootLog = await this.runInside("/lib/sim/boot");
    this.fs.writeAtomic("/lib/sim/boot.log", bootLog.stdout + bootLog.stderr);
    if (!this.stopped) this.ssh.setAccepting(true);
    this.emit("up");
  }

  private async runInside(command: string): Promise<ToolResult> {
    const child = this.ns.exec(command);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdin!.end();
    const code = await exitOf(child);
    return { code, stdout, stderr };
  }

  private authorizedKeys(): Buffer[] {
    const text = this.fs.tryReadText("/etc/dropbear/authorized_keys") ?? "";
    const keys: Buffer[] = [];
    for (const line of text.split("\n")) {
      if (!line.trim() || line.startsWith("#")) continue;
      const parsed = utils.parseKey(line.trim());
      if (!(parsed instanceof Error)) keys.push(parsed.getPublicSSH());
    }
    return keys;
  }

  private async serveSession(session: SshSession): Promise<void> {
    const { channel, command } = session;
    this.stats.execs++;
    const latency = this.faultConfig.latencyMs ?? 0;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    const cutAfterRun = this.shouldCutLink(command);
    if (this.booting || !this.ns.running) {
      session.cutLink();
      return;
    }
    const child = this.ns.exec(command);
    channel.on("data", (d: Buffer) => child.stdin!.write(d));
    channel.on("end", () => child.stdin!.end());
    channel.on("error", () => undefined);
    child.stdin!.on("error", () => undefined);
    if (!cutAfterRun) {
      child.stdout!.on("data", (d: Buffer) => channel.write(d));
      child.stderr!.on("data", (d: Buffer) => channel.stderr.write(d));
    }
    const code = await exitOf(child);
    if (cutAfterRun) {
      session.cutLink();
      return;
    }
    try {
      channel.exit(code);
      channel.end();
    } catch {
      // The client went away first.
    }
  }

  /** Decides, before a command runs, whether the link dies once it has run (the dropConnection fault). */
  private shouldCutLink(command: string | undefined): boolean {
    const drop = this.faultConfig.dropConnection;
    if (!drop) return false;
    const matches =
      drop.matching !== undefined && command !== undefined &&
      (typeof drop.matching === "string" ? command.includes(drop.matching) : drop.matching.test(command));
    const countReached = drop.afterExecs !== undefined && this.execsSinceDropArmed++ >= drop.afterExecs;
    if (!matches && !countReached) return false;
    this.faultConfig = { ...this.faultConfig, dropConnection: undefined };
    return true;
  }
}

/**
 * A child's exit status once its output has been read. A background process that inherited the
 * pipes can hold them open for minutes; like dropbear, we do not wait for it, but only once the
 * pipes have been quiet for a while. The final resolve waits two setImmediate turns: after an event
 * loop stall, expired timers run before the poll phase that reads what is still in the pipes, so
 * resolving from the timer alone would cut the output short.
 */
function exitOf(child: import("child_process").ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    let code: number | undefined;
    let open = 2;
    let quiet: NodeJS.Timeout | undefined;
    const done = () => {
      if (quiet) clearTimeout(quiet);
      if (code !== undefined) resolve(code);
    };
    const settleSoon = () => setImmediate(() => setImmediate(done));
    const armQuiet = () => {
      if (quiet) clearTimeout(quiet);
      quiet = setTimeout(settleSoon, 100);
    };
    const ended = () => {
      if (--open === 0) done();
    };
    child.stdout!.once("end", ended);
    child.stderr!.once("end", ended);
    const onData = () => code !== undefined && armQuiet();
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (c, signal) => {
      code = c ?? 128 + (signal === "SIGKILL" ? 9 : 15);
      if (open === 0) done();
      else armQuiet();
    });
  });
}

function loadOrCreateIdentity(stateDir: string, options: SimulatedRouterOptions): PersistedIdentity {
  const file = path.join(stateDir, "identity.json");
  if (fs.existsSync(file)) {
    const identity = JSON.parse(fs.readFileSync(file, "utf8")) as PersistedIdentity;
    if (options.profile && options.profile !== identity.profile) {
      throw new Error(`state dir ${stateDir} holds a ${identity.profile} router, not ${options.profile}`);
    }
    return identity;
  }
  const client = generateKeyPair();
  const identity: PersistedIdentity = {
    profile: getProfile(options.profile ?? "mt7621-23.05").id,
    password: options.password ?? `sim-${Math.random().toString(36).slice(2, 12)}`,
    clientPrivateKey: client.private,
    clientPublicKey: client.public,
    hostKey: generateKeyPair().private,
    impostorHostKey: generateKeyPair().private,
  };
  fs.mkdirSync(stateDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(identity, null, 2), { mode: 0o600 });
  return identity;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
