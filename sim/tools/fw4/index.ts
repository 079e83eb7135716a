import type { Tool, ToolContext } from "../../types";
import { kernelEnvOf, runNft } from "../nft";
import { makeSource } from "../nft/lexer";
import { formatError } from "../nft/output";
import { loadEffectivePackage } from "../uci";
import type { UciPackage } from "../uci/model";
import { type Fw4Include, type Fw4State, renderFw4 } from "./render";

export { renderFw4 } from "./render";
export type { Fw4Flavor, Fw4Include, Fw4Render, Fw4RenderInput, Fw4State } from "./render";

const STATE = "/var/run/fw4.state";

/**
 * /etc/init.d/firewall in the OpenWrt rc.common style (START=19). firewall4's script is procd based;
 * the simulator's rc.common runs plain start/stop/reload/restart/boot functions, which map to the
 * same fw4 calls. One script serves fw4 and fw3 images, so it picks the firewall that is installed.
 */
export const FIREWALL_INIT_SCRIPT = `#!/bin/sh /etc/rc.common

START=19
QUIET=""

[ -x /sbin/fw4 ] && FW=fw4 || FW=fw3

start() {
	$FW \${QUIET} start
}

stop() {
	$FW flush
}

reload() {
	$FW reload
}

restart() {
	$FW restart
}

boot() {
	# Be silent on boot, firewall might be started by hotplug already,
	# so don't complain in syslog.
	QUIET=-q
	start
}
`;

/** What /sbin/fw4 prints for an unknown command (a heredoc with `$0`). */
function usage(argv0: string): string {
  return `Usage:

  ${argv0} [-v] [-q] start|stop|flush|restart|reload

    Start, stop, flush, restart or reload the firewall respectively.


  ${argv0} [-v] [-q] reload-sets

    Reload the contents of all declared sets but do not touch the
    ruleset.


  ${argv0} [-q] print

    Print the rendered ruleset.


  ${argv0} [-q] check

    Test the rendered ruleset using nftables' check mode without
    applying it to the running system.


  ${argv0} [-q] network {net}

    Print the name of the firewall zone covering the given network.

    Exits with code 1 if the network is not found or if no zone is
    covering it.


  ${argv0} [-q] device {dev}

    Print the name of the firewall zone covering the given device.

    Exits with code 1 if the device is not found or if no zone is
    covering it.


  ${argv0} [-q] zone {zone} [dev]

    Print all covered devices of the given zone, optionally restricted
    to only the given device name.

    Exits with code 1 if zone is not found or if a device is specified
    and not covered by the given zone.

`;
}

const AUTO_INCLUDE_DIRS: [string, string][] = [
  ["ruleset-pre", "ruleset-prepend"],
  ["ruleset-post", "ruleset-append"],
  ["table-pre", "table-prepend"],
  ["table-post", "table-append"],
];

/** /usr/share/nftables.d snippets, found the way fw4's load() globs them. */
function autoIncludes(ctx: ToolContext): Fw4Include[] {
  const base = "/usr/share/nftables.d";
  const nftFiles = (dir: string) => ctx.fs.list(dir).filter((n) => n.endsWith(".nft")).map((n) => `${dir}/${n}`);
  const out: Fw4Include[] = [];
  for (const [dir, position] of AUTO_INCLUDE_DIRS) for (const path of nftFiles(`${base}/${dir}`)) out.push({ position, path });
  for (const [dir, position] of [
    ["chain-pre", "chain-prepend"],
    ["chain-post", "chain-append"],
  ]) {
    for (const chain of ctx.fs.list(`${base}/${dir}`)) for (const path of nftFiles(`${base}/${dir}/${chain}`)) out.push({ position, chain, path });
  }
  return out;
}

function effectiveFirewall(ctx: ToolContext): UciPackage | undefined {
  try {
    return loadEffectivePackage(ctx.fs, "firewall");
  } catch {
    // A firewall config uci cannot parse leaves fw4's cursor empty: it renders the bare defaults.
    return undefined;
  }
}

/** fw4's check_flowtable(): asks nft, exactly as fw4 does, whether `inet fw4` has flowtable `ft`. */
async function flowtableLoaded(ctx: ToolContext): Promise<boolean> {
  const res = await ctx.run(["nft", "--terse", "--json", "list", "flowtables", "inet"]);
  try {
    const items = (JSON.parse(res.stdout) as { nftables?: { flowtable?: { table?: string; name?: string } }[] }).nftables ?? [];
    return items.some((i) => i.flowtable?.table === "fw4" && i.flowtable?.name === "ft");
  } catch {
    return false;
  }
}

/** fw4's nft_try_hw_offload(): an `nft -c` dry run of an offload flowtable on the candidate devices. */
function hwOffloadProbe(ctx: ToolContext, devices: string[]): boolean {
  const text = `
\t\tadd table inet fw4-hw-offload-test;
\t\tadd flowtable inet fw4-hw-offload-test ft {
\t\t\thook ingress priority 0;
\t\t\tdevices = { "${devices.join('", "')}" };
\t\t\tflags offload;
\t\t}
\t`;
  const res = runNft(ctx.router.kernel.nft, kernelEnvOf(ctx.router), ctx.fs, {
    text,
    sourceName: null,
    check: true,
    json: false,
    list: { handles: false, terse: false, stateless: false },
  });
  return res.code === 0;
}

async function render(ctx: ToolContext, quiet: boolean, writeState: boolean): Promise<string> {
  const { router } = ctx;
  const out = renderFw4({
    flavor: router.profile.fw4Flavor ?? "master",
    config: effectiveFirewall(ctx),
    interfaces: router.netifd.interfaces(),
    devices: router.netifd.devices(),
    hwTcOffload: (dev) => router.kernel.hwTcOffload.get(dev) === true,
    flowtableLoaded: await flowtableLoaded(ctx),
    hwOffloadProbe: (devices) => hwOffloadProbe(ctx, devices),
    autoIncludes: autoIncludes(ctx),
  });
  if (!quiet) for (const w of out.warnings) ctx.stderr(`[!] ${w}\n`);
  if (writeState) ctx.fs.writeAtomic(STATE, `${JSON.stringify(out.state)}\n`);
  return out.ruleset;
}

function readState(ctx: ToolContext): Fw4State | undefined {
  const text = ctx.fs.tryReadText(STATE);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Fw4State;
  } catch {
    return undefined;
  }
}

/**
 * The injected fault: the kernel rejects the batch (as it does when a device goes away mid-reload),
 * reported the way nft reports a failing `-f` batch. Nothing of the batch is applied.
 */
function injectedNftFailure(ruleset: string): string {
  const source = makeSource("/dev/stdin", ruleset);
  const line = 2;
  const col = source.lines[line - 1].lastIndexOf("fw4") + 1;
  return formatError("Could not process rule: Device or resource busy", { source, line, col, endLine: line, endCol: col + 2 });
}

/** `utpl | nft -f $STDIN`: nft's messages pass through; the exit status is the caller's business. */
async function apply(ctx: ToolContext, ruleset: string): Promise<number> {
  if (ctx.router.faults.failNextFirewallReload) {
    ctx.router.faults.failNextFirewallReload = false;
    ctx.stderr(injectedNftFailure(ruleset));
    return 1;
  }
  const res = await ctx.run(["nft", "-f", "/dev/stdin"], ruleset);
  if (res.stdout) ctx.stdout(res.stdout);
  if (res.stderr) ctx.stderr(res.stderr);
  return res.code;
}

async function stop(ctx: ToolContext): Promise<void> {
  const res = await ctx.run(["nft", "delete", "table", "inet", "fw4"]);
  if (res.stderr) ctx.stderr(res.stderr);
  ctx.fs.remove(STATE);
}

/**
 * /sbin/fw4 (firewall4 23.05): `start` and `reload` end with the includes step, so they exit 0 even
 * when nft rejected the ruleset; only `check` and `restart` report nft failures in their status.
 */
export const fw4Tool: Tool = async (ctx) => {
  const args = ctx.argv.slice(1);
  let quiet = false;
  while (args[0] === "-q" || args[0] === "-v") if (args.shift() === "-q") quiet = true;
  const die = (msg: string) => {
    if (!quiet) ctx.stderr(`${msg}\n`);
    return 1;
  };
  const [cmd, ...rest] = args;
  switch (cmd) {
    case "start":
    case "reload": {
      const exists = ctx.fs.exists(STATE);
      if (cmd === "start" && exists) return die("The fw4 firewall appears to be already loaded.");
      if (cmd === "reload" && !exists) return die("The fw4 firewall does not appear to be loaded.");
      ctx.fs.remove(STATE);
      await apply(ctx, await render(ctx, quiet, true));
      return 0;
    }
    case "stop":
      await stop(ctx);
      return 0;
    case "flush": {
      const tables = await ctx.run(["nft", "list", "tables"]);
      for (const line of tables.stdout.split("\n")) {
        const [, family, table] = line.split(" ");
        if (family && table) {
          const res = await ctx.run(["nft", "delete", "table", family, table]);
          if (res.stderr) ctx.stderr(res.stderr);
        }
      }
      ctx.fs.remove(STATE);
      return 0;
    }
    case "restart": {
      const ruleset = await render(ctx, true, false);
      let failed: string | undefined;
      if (ctx.router.faults.failNextFirewallReload) {
        ctx.router.faults.failNextFirewallReload = false;
        failed = injectedNftFailure(ruleset);
      } else {
        const res = await ctx.run(["nft", "-c", "-f", "/dev/stdin"], ruleset);
        if (res.code !== 0) failed = res.stderr;
      }
      if (failed !== undefined) {
        ctx.stderr(failed);
        return die("The rendered ruleset contains errors, not doing firewall restart.");
      }
      await stop(ctx);
      await apply(ctx, await render(ctx, quiet, true));
      return 0;
    }
    case "check": {
      const ruleset = await render(ctx, quiet, false);
      const res = await ctx.run(["nft", "-c", "-f", "/dev/stdin"], ruleset);
      if (!quiet) {
        if (res.stdout) ctx.stdout(res.stdout);
        if (res.stderr) ctx.stderr(res.stderr);
        if (res.code === 0) ctx.stdout("Ruleset passes nftables check.\n");
      }
      return res.code;
    }
    case "print":
      ctx.stdout(await render(ctx, quiet, false));
      return 0;
    case "reload-sets":
    case "network":
    case "device":
    case "zone": {
      const state = readState(ctx);
      if (!state) {
        ctx.stderr("Unable to read firewall state - do you need to start the firewall?\n");
        return 1;
      }
      return lookup(ctx, state, cmd, rest);
    }
    default:
      ctx.stdout(usage(ctx.argv[0]));
      return 0;
  }
};

/** fw4 reload-sets (no ipsets are modelled: nothing to reload) and the zone lookups of main.uc. */
function lookup(ctx: ToolContext, state: Fw4State, cmd: string, args: string[]): number {
  const [object, device] = args;
  switch (cmd) {
    case "network": {
      const zone = state.zones.find((z) => z.network.some((n) => n.device === object));
      if (zone) ctx.stdout(`${zone.name}\n`);
      return zone ? 0 : 1;
    }
    case "device": {
      const zone = state.zones.find((z) => z.devices.includes(object));
      if (zone) ctx.stdout(`${zone.name}\n`);
      return zone ? 0 : 1;
    }
    case "zone": {
      const zone = state.zones.find((z) => z.name === object);
      if (!zone) return 1;
      if (device !== undefined) {
        if (!zone.devices.includes(device)) return 1;
        ctx.stdout(`${device}\n`);
        return 0;
      }
      if (zone.devices.length) ctx.stdout(`${zone.devices.join("\n")}\n`);
      return 0;
    }
    default:
      return 0;
  }
}
