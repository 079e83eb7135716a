import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EventEmitter } from "events";
import { utils } from "ssh2";
import { baseImage } from "./base-image";
import type { CrashFault, Faults } from "./faults";
import { Flash, type PowerLoss } from "./flash";
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

/** What the router ran since it last booted (see SimulatedRouter.counters). */
export interface RouterCounters {
  /**
   * Processes started inside the router: each exec's shell, the applets and programs it runs,
   * daemons, and the RPC shim's own helpers (shimProcessStarts). Boot scripts included.
   */
  processStarts: number;
  /** Of processStarts, those the simulator's RPC shim adds to emulated-program calls; a real router does not start them. */
  shimProcessStarts: number;
  /** Emulated-program calls (uci, nft, ubus, opkg, …). */
  toolCalls: number;
}

export interface SimStats {
  /** SSH connections accepted (one handshake each). */
  connections: number;
  execs: number;
  /** Emulated program calls (uci, fw4, nft, opkg, sync, …) made by router scripts. */
  toolCalls: number;
  boots: number;
  /** Power cuts (crash faults, crash-prone drivers, crash()). */
  crashes: number;
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
  readonly stats: SimStats = { connections: 0, execs: 0, toolCalls: 0, boots: 0, crashes: 0 };
  /** The router's flash: a power cut keeps only what was synced (see sim/flash.ts). */
  readonly flash: Flash;
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
  private execsSinceCrashArmed = 0;
  private callsSinceCrashArmed = 0;
  private crashMatches = 0;
  private booting?: Promise<void>;
  private crashTimer?: NodeJS.Timeout;
  private loadTimer?: NodeJS.Timeout;
  private stopped = false;
  /** The counters' values when the router last booted. */
  private atBoot = { shimProcessStarts: 0, toolCalls: 0 };

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
    this.flash = new Flash(this.rootDir, path.join(this.stateDir, "flash"), image.libraryDirs);
    this.kernel = new SimKernel(this.profile);
    this.netifd = new SimNetifd(this.profile, this.fs);
    this.ns = new RouterNamespace(this.rootDir, image);
    this.views = new KernelViews(this);
    this.rpc = new ToolRpcServer(
      this.fs,
      dispatcherFor(this, (argv) => {
        this.stats.toolCalls++;
        this.views.sync();
        return !this.crashAfterCall(argv);
      }),
    );
    this.ssh = new RouterSshServer({
      host: this.host,
      port: options.port ?? 0,
      username: this.username,
      password: this.password,
      hostKey: this.identity.hostKey,
      authorizedKeys: () => this.authorizedKeys(),
      onSession: (session) => void this.serveSession(session),
      onConnection: () => this.stats.connections++,
      roundTripMs: () => this.faultConfig.latencyMs ?? 0,
    });
    this.setFaults(options.faults ?? {});
  }

  async start(): Promise<this> {
    if (!fs.existsSync(path.join(this.stateDir, ".firmware-installed"))) {
      installFirmware(this);
      fs.writeFileSync(path.join(this.stateDir, ".firmware-installed"), this.profile.id);
    }
    // A state dir from before the flash model: what is there now counts as written.
    if (!this.flash.initialized) this.flash.sync();
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
    this.execsSinceCrashArmed = 0;
    this.callsSinceCrashArmed = 0;
    this.crashMatches = 0;
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

  /** A clean reboot: processes die, the flash is synced (as busybox `reboot` does), the firmware boots again. */
  async reboot(reason = "reboot requested"): Promise<void> {
    return this.restart(reason, undefined);
  }

  /**
   * A power cut (or a kernel oops): everything dies at once and the router boots with only what was
   * synced to flash; `lose: "some-unsynced"` keeps a random part of the rest.
   */
  async crash(options: { reason?: string; lose?: PowerLoss; seed?: number } = {}): Promise<void> {
    return this.restart(options.reason ?? "power cut", { lose: options.lose ?? "unsynced", seed: options.seed });
  }

  private async restart(reason: string, powerCut: { lose: PowerLoss; seed?: number } | undefined): Promise<void> {
    if (this.booting) return this.booting;
    if (this.stopped) return;
    this.emit("reboot", reason);
    if (powerCut) {
      this.stats.crashes++;
      this.emit("crash", reason);
    }
    this.booting = (async () => {
      this.ssh.setAccepting(false);
      this.ssh.dropAll();
      this.clearTimers();
      await this.ns.stop();
      // A program call already under way finishes its work first; it lands in RAM like the rest.
      await this.rpc.idle();
      if (powerCut) this.flash.powerLoss(powerCut.lose, seededRandom(powerCut.seed ?? 1));
      else this.flash.sync();
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
    await this.rpc.idle();
    this.rpc.stop();
    // Stopping the simulator is a clean power-off: a later start from this state dir finds what was written.
    if (!this.ownsStateDir) this.flash.sync();
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
    // A command that exits without reading all of its stdin closes the pipe under us (EPIPE): its
    // exit status and output are still the result, as on a serial console. Other pipe errors are reported.
    let stdinError: Error | undefined;
    child.stdin!.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") stdinError = error;
    });
    child.stdin!.end(stdin ?? "");
    const code = await new Promise<number>((resolve) => child.on("close", (c, signal) => resolve(c ?? (signal ? 128 + 9 : 1))));
    if (stdinError) throw stdinError;
    return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  }

  /**
   * Counts since the router last booted (a reboot starts them again; `stats.boots` says when), read
   * from its PID namespace: differences between two calls count what ran in between.
   */
  async counters(): Promise<RouterCounters> {
    await this.booting;
    const processStarts = await this.ns.processStarts();
    return { processStarts, shimProcessStarts: this.rpc.shimProcessStarts - this.atBoot.shimProcessStarts, toolCalls: this.stats.toolCalls - this.atBoot.toolCalls };
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
      void this.crash({ reason: "kernel oops in the flow offload driver under load" });
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
    this.rpc.forgetCalls();
    this.atBoot = { shimProcessStarts: this.rpc.shimProcessStarts, toolCalls: this.stats.toolCalls };
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
    // Tests that sweep faults through an operation learn its steps from this (what ran, and when).
    this.emit("exec", command ?? "");
    const cutAfterRun = this.shouldCutLink(command);
    const crashAfterRun = this.shouldCrashAfterExec(command);
    if (this.booting || !this.ns.running) {
      session.cutLink();
      return;
    }
    const child = this.ns.exec(command);
    channel.on("data", (d: Buffer) => child.stdin!.write(d));
    channel.on("end", () => child.stdin!.end());
    channel.on("error", () => undefined);
    child.stdin!.on("error", () => undefined);
    // What it prints reaches the caller even when the link or the power goes once it has run: a
    // command that converses with its caller (prints, reads the answer, acts) must get to its end.
    child.stdout!.on("data", (d: Buffer) => channel.write(d));
    child.stderr!.on("data", (d: Buffer) => channel.stderr.write(d));
    const code = await exitOf(child);
    if (crashAfterRun) {
      void this.crash({ reason: "power cut (crash fault)", lose: crashAfterRun.lose, seed: crashAfterRun.seed });
      return;
    }
    if (cutAfterRun) {
      if (cutAfterRun.downForMs) this.ssh.linkDown(cutAfterRun.downForMs);
      else session.cutLink();
      return;
    }
    try {
      channel.exit(code);
      channel.end();
    } catch {
      // The client went away first.
    }
  }

  /** Decides, before a command runs, whether the router loses power once it has run (the crash fault). */
  private shouldCrashAfterExec(command: string | undefined): CrashFault | undefined {
    const crash = this.faultConfig.crash;
    if (!crash || (crash.afterExecs === undefined && crash.matching === undefined)) return undefined;
    const countReached = crash.afterExecs !== undefined && this.execsSinceCrashArmed++ >= crash.afterExecs;
    if (!countReached && !matches(crash.matching, command)) return undefined;
    this.faultConfig = { ...this.faultConfig, crash: undefined };
    return crash;
  }

  /** After an emulated program's work: does the power go now (the crash fault's call-level trigger)? */
  private crashAfterCall(argv: string[]): boolean {
    const crash = this.faultConfig.crash;
    if (!crash || (crash.afterCalls === undefined && crash.callMatching === undefined)) return false;
    const countReached = crash.afterCalls !== undefined && this.callsSinceCrashArmed++ >= crash.afterCalls;
    const matched = matches(crash.callMatching, argv.join(" ")) && ++this.crashMatches >= (crash.occurrence ?? 1);
    if (!countReached && !matched) return false;
    this.faultConfig = { ...this.faultConfig, crash: undefined };
    void this.crash({ reason: `power cut after \`${argv.join(" ")}\``, lose: crash.lose, seed: crash.seed });
    return true;
  }

  /** Decides, before a command runs, whether the link dies once it has run (the dropConnection fault). */
  private shouldCutLink(command: string | undefined): Faults["dropConnection"] | undefined {
    const drop = this.faultConfig.dropConnection;
    if (!drop) return undefined;
    const countReached = drop.afterExecs !== undefined && this.execsSinceDropArmed++ >= drop.afterExecs;
    if (!matches(drop.matching, command) && !countReached) return undefined;
    this.faultConfig = { ...this.faultConfig, dropConnection: undefined };
    return drop;
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

function matches(pattern: string | RegExp | undefined, text: string | undefined): boolean {
  if (pattern === undefined || text === undefined) return false;
  return typeof pattern === "string" ? text.includes(pattern) : pattern.test(text);
}

/** mulberry32: a tiny seeded generator, so a power cut that kept "some" writes can be replayed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
