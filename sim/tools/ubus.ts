import { createHash } from "crypto";
import { interfaceDumpTable, interfaceStatusTable, SimNetifd } from "../netifd";
import type { Tool, ToolContext } from "../types";
import { BlobTable, BlobValue, formatBlobmsg } from "./blobmsg";
import { releaseMajor } from "./release";

/** enum ubus_msg_status and ubus_strerror(). */
export const UbusStatus = {
  OK: 0,
  INVALID_COMMAND: 1,
  INVALID_ARGUMENT: 2,
  METHOD_NOT_FOUND: 3,
  NOT_FOUND: 4,
  NO_DATA: 5,
  PERMISSION_DENIED: 6,
  TIMEOUT: 7,
  NOT_SUPPORTED: 8,
  UNKNOWN_ERROR: 9,
  CONNECTION_FAILED: 10,
  NO_MEMORY: 11,
  PARSE_ERROR: 12,
  SYSTEM_ERROR: 13,
} as const;

const STRERROR = [
  "Success",
  "Invalid command",
  "Invalid argument",
  "Method not found",
  "Not found",
  "No response",
  "Permission denied",
  "Request timed out",
  "Operation not supported",
  "Unknown error",
  "Connection failed",
  "Out of memory",
  "Parsing message data failed",
  "System error",
];

export type UbusReply = { status: number; data?: BlobTable };

export interface UbusMethod {
  /** Argument names and blobmsg types ("String", "Integer", "Boolean", "Array", "Table") for `ubus -v list`. */
  signature: Record<string, string>;
  call(msg: Record<string, unknown>, ctx: ToolContext): UbusReply | Promise<UbusReply>;
}

export interface UbusObject {
  path: string;
  methods: Record<string, UbusMethod>;
}

/** Publishes ubus objects for one call (a daemon's objects, as they exist right now on the router). */
export type UbusObjectSource = (ctx: ToolContext) => UbusObject[];

/**
 * The `ubus` CLI (ubus ≥ 2022) over the objects the sources publish. Its error conventions are
 * the ones scripts see over SSH, where stderr is never a terminal: a failed invoke prints
 * `Command failed: ubus call <args> (<reason>)` and exits with 256 − status (plus the usage text
 * for "Invalid argument"); an unknown object is `Command failed: Not found`, exit 4; with -S
 * nothing is printed and the exit status is the ubus status itself.
 */
export function makeUbusTool(sources: UbusObjectSource[]): Tool {
  return async (ctx) => {
    const progname = ctx.argv[0];
    const args = ctx.argv.slice(1);
    let simple = false;
    let verbose = false;
    while (args.length > 0 && args[0].startsWith("-") && args[0] !== "-") {
      const opt = args.shift()!;
      for (let i = 1; i < opt.length; i++) {
        const c = opt[i];
        if (c === "S") simple = true;
        else if (c === "v") verbose = true;
        else if ("stmM".includes(c)) {
          // Options with a value (socket, timeout, monitor filters) do not change what the simulator answers.
          if (i === opt.length - 1) args.shift();
          break;
        } else {
          ctx.stderr(`${progname}: unrecognized option: ${c}\n`);
          return usage(ctx);
        }
      }
    }
    const [command, ...rest] = args;
    if (command === undefined) return usage(ctx);
    const objects = sources.flatMap((source) => source(ctx)).sort((a, b) => (a.path < b.path ? -1 : 1));
    let ret: number;
    if (command === "list") ret = list(ctx, objects, rest, simple || !verbose);
    else if (command === "call") ret = await call(ctx, objects, rest, simple);
    else if (["listen", "subscribe", "send", "wait_for", "monitor"].includes(command)) {
      ctx.stderr(`ubus: the simulator does not emulate 'ubus ${command}'\n`);
      return 1;
    } else ret = -2;
    if (ret > 0 && !simple) ctx.stderr(`Command failed: ${STRERROR[ret] ?? "Unknown error"}\n`);
    else if (ret === -2) usage(ctx);
    return ret & 0xff;
  };
}

function list(ctx: ToolContext, objects: UbusObject[], args: string[], namesOnly: boolean): number {
  if (args.length > 1) return -2;
  const path = args[0];
  const matching = objects.filter((o) => {
    if (path === undefined) return true;
    return path.endsWith("*") ? o.path.startsWith(path.slice(0, -1)) : o.path === path;
  });
  if (matching.length === 0) return UbusStatus.NOT_FOUND;
  for (const o of matching) {
    if (namesOnly) {
      ctx.stdout(`${o.path}\n`);
      continue;
    }
    ctx.stdout(`'${o.path}' @${objectId(o.path)}\n`);
    for (const [name, method] of Object.entries(o.methods)) {
      ctx.stdout(`\t${formatBlobmsg({ [name]: method.signature }, false).slice(1, -1)}\n`);
    }
  }
  return 0;
}

async function call(ctx: ToolContext, objects: UbusObject[], args: string[], simple: boolean): Promise<number> {
  if (args.length < 2 || args.length > 3) return -2;
  const failed = (status: number) => {
    if (simple) return status;
    ctx.stderr(`Command failed: ubus call ${args.map((a) => `${a} `).join("")}(${STRERROR[status]})\n`);
    return -status;
  };
  let msg: Record<string, unknown> = {};
  if (args.length === 3) {
    try {
      const parsed: unknown = JSON.parse(args[2]);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return failed(UbusStatus.PARSE_ERROR);
      msg = parsed as Record<string, unknown>;
    } catch {
      return failed(UbusStatus.PARSE_ERROR);
    }
  }
  const object = objects.find((o) => o.path === args[0]);
  if (!object) return UbusStatus.NOT_FOUND;
  const method = object.methods[args[1]];
  if (!method) return failed(UbusStatus.METHOD_NOT_FOUND);
  const reply = await method.call(msg, ctx);
  if (reply.data) ctx.stdout(`${formatBlobmsg(reply.data, !simple)}\n`);
  return reply.status === 0 ? 0 : failed(reply.status);
}

function usage(ctx: ToolContext): number {
  ctx.stderr(
    `Usage: ${ctx.argv[0]} [<options>] <command> [arguments...]\n` +
      "Options:\n" +
      " -s <socket>:\t\tSet the unix domain socket to connect to\n" +
      " -t <timeout>:\t\tSet the timeout (in seconds) for a command to complete\n" +
      " -S:\t\t\tUse simplified output (for scripts)\n" +
      " -v:\t\t\tMore verbose output\n" +
      " -m <type>:\t\t(for monitor): include a specific message type\n" +
      "\t\t\t(can be used more than once)\n" +
      " -M <r|t>\t\t(for monitor): only capture received or transmitted traffic\n" +
      "\n" +
      "Commands:\n" +
      " - list [<path>]\t\t\tList objects\n" +
      " - call <path> <method> [<message>]\tCall an object method\n" +
      " - subscribe <path> [<path>...]\tSubscribe to object(s) notifications\n" +
      " - listen [<path>...]\t\t\tListen for events\n" +
      " - send <type> [<message>]\t\tSend an event\n" +
      " - wait_for <object> [<object>...]\tWait for multiple objects to appear on ubus\n" +
      " - monitor\t\t\t\tMonitor ubus traffic\n" +
      "\n",
  );
  return 1;
}

/** ubusd hands out object ids at random; a hash keeps them stable between calls. */
function objectId(path: string): string {
  return createHash("sha256").update(path).digest("hex").slice(0, 8);
}

const ok = (data?: BlobTable): UbusReply => ({ status: UbusStatus.OK, data });
const fail = (status: number): UbusReply => ({ status });

/** procd's `system` and netifd's `network*` objects. */
export const boardObjects: UbusObjectSource = (ctx) => {
  const netifd = ctx.router.netifd;
  if (!(netifd instanceof SimNetifd)) throw new Error("ubus needs the simulator's netifd (SimNetifd)");
  const interfaceMethods = (name: string): Record<string, UbusMethod> => ({
    up: { signature: {}, call: () => (netifd.ifup(name), ok()) },
    down: { signature: {}, call: () => (netifd.ifdown(name), ok()) },
    status: {
      signature: {},
      call: () => ok(interfaceStatusTable(netifd.interfaces().find((i) => i.interface === name)!)),
    },
  });
  const byName = (msg: Record<string, unknown>, method: UbusMethod): UbusReply | Promise<UbusReply> => {
    if (typeof msg.interface !== "string") return fail(UbusStatus.INVALID_ARGUMENT);
    if (!netifd.interfaces().some((i) => i.interface === msg.interface)) return fail(UbusStatus.NOT_FOUND);
    return method.call({}, ctx);
  };
  const reload = { signature: {}, call: () => (netifd.reload(), ok()) };
  return [
    {
      path: "system",
      methods: {
        board: { signature: {}, call: () => ok(systemBoard(ctx)) },
        reboot: { signature: {}, call: () => (ctx.router.requestReboot("ubus call system reboot"), ok()) },
      },
    },
    { path: "network", methods: { restart: reload, reload } },
    {
      path: "network.device",
      methods: {
        status: {
          signature: { name: "String" },
          call: (msg) => {
            const name = typeof msg.name === "string" ? msg.name : undefined;
            const table = netifd.deviceStatus(ctx.router.kernel.hwTcOffload, name);
            return table ? ok(table) : fail(UbusStatus.INVALID_ARGUMENT);
          },
        },
      },
    },
    {
      path: "network.interface",
      methods: {
        up: { signature: { interface: "String" }, call: (msg) => byName(msg, interfaceMethods(String(msg.interface)).up) },
        down: { signature: { interface: "String" }, call: (msg) => byName(msg, interfaceMethods(String(msg.interface)).down) },
        status: { signature: { interface: "String" }, call: (msg) => byName(msg, interfaceMethods(String(msg.interface)).status) },
        dump: { signature: {}, call: () => ok(interfaceDumpTable(netifd.interfaces())) },
      },
    },
    ...netifd.interfaces().map((i) => ({ path: `network.interface.${i.interface}`, methods: interfaceMethods(i.interface) })),
  ];
};

/**
 * procd's system.board: uname, the CPU line, the board's DT model and name, the root filesystem
 * type (procd from 22.03) and the release table parsed from /etc/openwrt_release — or, from 24.10
 * on, from /usr/lib/os-release — with only the keys the file has, in file order.
 */
function systemBoard(ctx: ToolContext): BlobTable {
  const { profile } = ctx.router;
  const board = new Map<string, BlobValue>([
    ["kernel", profile.kernel],
    ["hostname", profile.board.hostname],
    ["system", profile.board.system],
    ["model", profile.board.model],
    ["board_name", profile.board.boardName],
  ]);
  if (releaseMajor(profile) >= 22) board.set("rootfs_type", profile.board.rootfsType);
  const osRelease = releaseMajor(profile) >= 24;
  const file = ctx.fs.tryReadText(osRelease ? "/usr/lib/os-release" : "/etc/openwrt_release");
  if (file === undefined) return board;
  const keys: Record<string, string> = osRelease
    ? { NAME: "distribution", VERSION: "version", BUILD_ID: "revision", OPENWRT_BOARD: "target", OPENWRT_RELEASE: "description", OPENWRT_BUILD_DATE: "builddate", FIRMWARE_URL: "firmware_url" }
    : { DISTRIB_ID: "distribution", DISTRIB_RELEASE: "version", DISTRIB_REVISION: "revision", DISTRIB_CODENAME: "codename", DISTRIB_TARGET: "target", DISTRIB_DESCRIPTION: "description" };
  const release = new Map<string, BlobValue>();
  for (const line of file.split("\n")) {
    const eq = line.indexOf("=");
    const key = keys[line.slice(0, eq).toUpperCase()];
    if (eq < 0 || !key) continue;
    release.set(key, line.slice(eq + 1).replace(/^(['"])(.*)\1$/, "$2"));
  }
  board.set("release", release);
  return board;
}

export const ubusTool: Tool = makeUbusTool([boardObjects]);
