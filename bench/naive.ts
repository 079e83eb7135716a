import * as net from "net";
import { Client } from "ssh2";
import { flowtablePaths, renderFlowtable } from "../provider/resources/flowtable";
import { hostKeyFingerprint, shellQuote } from "../provider/transport";
import { flowtableSchema } from "../sdk/schemas";
import type { FleetRouter } from "./fleet";
import type { WireCounts } from "./meter";
import { FLOWTABLE_NAME, flowtableDevices, type BenchTool, type Operation } from "./workload";

interface Result {
  code: number | null;
  stdout: string;
}

const zero = (): WireCounts => ({ handshakes: 0, execs: 0, bytesSent: 0, bytesReceived: 0 });

const OFFLOAD_PACKAGE = "kmod-nft-offload";
const DEFAULTS = "firewall.@defaults[0]";

/**
 * The baseline: how tools that wrap one command per step talk to a router. pulumi-command's
 * remote.Command opens an SSH connection per command, WRTKit runs one exec per `uci` call, Ansible
 * makes round trips per task. So: a new connection (TCP, key exchange, host-key check, public-key
 * auth) for every command, closed after it; one `uci`/`nft`/`opkg` call per exec; a router's
 * commands one after another. It reads and writes what this project's four resources read and
 * write, and skips what the project adds on top (guard snapshots, validation, rollback timer).
 */
export class NaiveTool implements BenchTool {
  private totals = zero();
  readonly counts = {
    reset: () => {
      this.totals = zero();
    },
    read: () => ({ ...this.totals }),
  };

  async run(operation: Operation, router: FleetRouter): Promise<{ changed: number }> {
    switch (operation) {
      case "preview":
        return { changed: (await this.plan(router, (command) => this.exec(router, command))).length };
      case "refresh": {
        const seen = await this.readAll(router);
        const drifted = await this.plan(router, async (command) => {
          const result = seen.get(command);
          if (!result) throw new Error(`the plan reads \`${command}\`, which the refresh does not`);
          return result;
        });
        return { changed: drifted.length };
      }
      case "firstApply":
      case "noopApply":
        return { changed: await this.converge(router) };
    }
  }

  async finish(): Promise<void> {
    // Nothing stays open: every command closed its own connection.
  }

  /**
   * What a refresh of the four resources reads (facts, managed values, kernel state), one command
   * per value or listing; the outputs by command.
   */
  private async readAll(router: FleetRouter): Promise<Map<string, Result>> {
    const paths = flowtablePaths(FLOWTABLE_NAME);
    const commands = [
      // Router: release, kernel, board, devices, interfaces (zones), overlay space.
      "cat /etc/openwrt_release",
      "uname -r",
      "ubus call system board",
      "ubus call network.device status",
      "ubus call network.interface dump",
      "df -Pk /overlay",
      // FirewallDefaults: both options, staged changes, what the kernel runs.
      `uci get ${DEFAULTS}.flow_offloading`,
      `uci get ${DEFAULTS}.flow_offloading_hw`,
      "uci changes firewall",
      "nft list flowtables",
      // Flowtable: both include files, the live flowtable, the forward chain's rule.
      `cat ${paths.flowtable}`,
      `cat ${paths.rule}`,
      `nft list flowtable inet fw4 ${FLOWTABLE_NAME}`,
      "nft list chain inet fw4 forward",
      // OffloadPackages: the package, the kernel modules.
      listInstalled(router),
      "ls /sys/module",
    ];
    const seen = new Map<string, Result>();
    for (const command of commands) seen.set(command, await this.exec(router, command));
    return seen;
  }

  /**
   * What differs from the declared state, read the way `ansible --check --diff` would: only the
   * managed values, from the router (the tool keeps no state). Each entry is the write that fixes it.
   */
  private async plan(router: FleetRouter, read: (command: string) => Promise<Result>): Promise<{ command: string; stdin?: string; reload: boolean }[]> {
    const paths = flowtablePaths(FLOWTABLE_NAME);
    const wanted = renderFlowtable(
      flowtableSchema.parse({ connection: { host: router.host }, name: FLOWTABLE_NAME, devices: flowtableDevices(router), forwardRule: {} }),
    );
    const writes: { command: string; stdin?: string; reload: boolean }[] = [];
    if ((await read(`uci get ${DEFAULTS}.flow_offloading`)).stdout.trim() !== "1") {
      writes.push({ command: `uci set ${DEFAULTS}.flow_offloading=1`, reload: true });
    }
    const hw = await read(`uci get ${DEFAULTS}.flow_offloading_hw`);
    if (hw.code === 0 && hw.stdout.trim() !== "0") writes.push({ command: `uci set ${DEFAULTS}.flow_offloading_hw=0`, reload: true });
    const files: [string, string][] = [[paths.flowtable, wanted.flowtable], ...(wanted.rule ? [[paths.rule, wanted.rule] as [string, string]] : [])];
    for (const [path, content] of files) {
      if ((await read(`cat ${path}`)).stdout !== content) {
        writes.push({ command: `mkdir -p ${shellQuote(path.replace(/\/[^/]*$/, ""))} && cat > ${shellQuote(path)}`, stdin: content, reload: true });
      }
    }
    if (!(await read(listInstalled(router))).stdout.includes(OFFLOAD_PACKAGE)) {
      if (router.packageManager === "opkg") writes.push({ command: "opkg update", reload: false });
      writes.push({ command: `${router.packageManager === "apk" ? "apk add" : "opkg install"} ${OFFLOAD_PACKAGE}`, reload: false });
    }
    return writes;
  }

  /**
   * `up`: check each managed value, write what differs, commit, reload once, check the kernel.
   * Returns the writes made (none on a router already as declared).
   */
  private async converge(router: FleetRouter): Promise<number> {
    const writes = await this.plan(router, (command) => this.exec(router, command));
    for (const { command, stdin } of writes) await this.exec(router, command, stdin, { mustSucceed: true });
    if (writes.some((w) => w.command.startsWith("uci set"))) await this.exec(router, "uci commit firewall", undefined, { mustSucceed: true });
    if (writes.some((w) => w.reload)) {
      await this.exec(router, "/etc/init.d/firewall reload", undefined, { mustSucceed: true });
      const live = (await this.exec(router, "nft list flowtables")).stdout;
      if (!live.includes(`flowtable ${FLOWTABLE_NAME} `)) throw new Error(`${router.host}:${router.port}: flowtable ${FLOWTABLE_NAME} is not live after the reload`);
    }
    return writes.length;
  }

  /** One command on its own SSH connection: connect, authenticate, exec, disconnect. */
  private exec(router: FleetRouter, command: string, stdin?: string, { mustSucceed = false } = {}): Promise<Result> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: router.host, port: router.port, noDelay: true });
      const client = new Client();
      let result: Result | undefined;
      let failure: Error | undefined;
      client.on("error", (error) => (failure ??= error));
      client.on("close", () => {
        this.totals.bytesSent += socket.bytesWritten;
        this.totals.bytesReceived += socket.bytesRead;
        if (result && (!mustSucceed || result.code === 0)) resolve(result);
        else reject(failure ?? new Error(`${router.host}:${router.port}: \`${command}\` ${result ? `exited ${result.code}` : "got no exit status"}`));
      });
      client.once("ready", () => {
        this.totals.handshakes++;
        this.totals.execs++;
        client.exec(command, (error, stream) => {
          if (error) {
            failure = error;
            client.end();
            return;
          }
          const out: Buffer[] = [];
          let code: number | null = null;
          stream.on("data", (chunk: Buffer) => out.push(chunk));
          stream.stderr.resume();
          stream.on("exit", (exitCode: number | null) => (code = exitCode));
          stream.on("close", () => {
            result = { code, stdout: Buffer.concat(out).toString("utf8") };
            client.end();
          });
          stream.end(stdin);
        });
      });
      client.connect({
        sock: socket,
        username: router.user,
        privateKey: router.privateKey,
        readyTimeout: 60_000,
        hostVerifier: (key: Buffer) => hostKeyFingerprint(key) === router.hostKeyFingerprint,
      });
    });
  }
}

function listInstalled(router: FleetRouter): string {
  return router.packageManager === "apk" ? `apk list --installed ${OFFLOAD_PACKAGE}` : `opkg list-installed ${OFFLOAD_PACKAGE}`;
}
