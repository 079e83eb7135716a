import { readFacts, type RouterFacts } from "../device/facts";
import { routerShell } from "../device/shell";
import { getPool, parseConnectionOptions, type ConnectionOptionsInput } from "../transport";
import { changedKeys, connectionFailures, isUnknown, jsonSafe, type CheckFailure, type RouterConnection } from "./common";

/** What a user gives a Router: the transport's connection options (its schema validates them in check). */
export type RouterInputs = Omit<ConnectionOptionsInput, "idleCloseMs" | "connectRetries" | "maxConcurrentExecs">;

/** The firmware and hardware facts a Router outputs: stable things, not the offload state (resources own that). */
export interface RouterFactOutputs {
  hostname: string;
  model: string;
  boardName: string;
  release: RouterFacts["release"];
  target: string;
  kernel: string;
  kernelSupported: boolean;
  firewall: "fw3" | "fw4";
  packageManager: "opkg" | "apk";
  offloadPackages: Record<string, string>;
  hwOffloadCapable: boolean;
  hwOffloadReason: string;
  devices: RouterFacts["devices"];
  zones: RouterFacts["zones"];
  sqm: RouterFacts["sqm"];
  overlayFreeKiB: number | null;
}

export interface RouterOutputs extends RouterInputs, RouterFactOutputs {
  /** Shaped like @pulumi/command's remote.ConnectionArgs; `hostKey` is the pinned public key. */
  connection: RouterConnection;
  hostKeyFingerprint: string;
  /** Firmware drift seen by the last refresh (`firmware-changed`). */
  drift: string[];
}

const IDENTITY = ["host", "port", "user"] as const;
const SETTINGS = ["password", "privateKey", "privateKeyPassword", "hostKey", "trustOnFirstUse", "insecureIgnoreHostKey", "connectTimeoutMs", "execTimeoutMs"] as const;
const FIRMWARE = (o: RouterFactOutputs) => JSON.stringify([o.release.version, o.release.revision, o.kernel, o.target, o.firewall, o.packageManager]);

export function factOutputs(facts: RouterFacts): RouterFactOutputs {
  return {
    hostname: facts.hostname,
    model: facts.model,
    boardName: facts.boardName,
    release: facts.release,
    target: facts.target,
    kernel: facts.kernel,
    kernelSupported: facts.kernelSupported,
    firewall: facts.firewall,
    packageManager: facts.packageManager,
    offloadPackages: facts.packages,
    hwOffloadCapable: facts.hwOffloadCapable,
    hwOffloadReason: facts.hwOffloadReason,
    devices: facts.devices,
    zones: facts.zones,
    sqm: facts.sqm,
    overlayFreeKiB: facts.overlay?.availKiB ?? null,
  };
}

export const routerProvider = {
  /**
   * The transport's connection schema is the Router's: one definition for validation and messages.
   * Inputs go back as given (plus defaults): the parsed form wraps secrets, which must not leave here.
   */
  async check(_olds: unknown, news: Record<string, unknown>): Promise<{ inputs: Record<string, unknown>; failures: CheckFailure[] }> {
    const inputs = { port: 22, user: "root", ...connectionFields(news) };
    if (Object.values(inputs).some(isUnknown)) return { inputs, failures: [] };
    return { inputs, failures: connectionFailures(inputs) };
  },

  async diff(_id: string, olds: RouterOutputs, news: RouterInputs) {
    const replaces = changedKeys({ ...olds }, { ...news }, IDENTITY);
    const changed = changedKeys({ ...olds }, { ...news }, SETTINGS);
    return { changes: replaces.length > 0 || changed.length > 0 || (olds.drift ?? []).length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(inputs: RouterInputs) {
    const outs = await connectAndDescribe(inputs);
    return { id: parseConnectionOptions(connectionFields(inputs)).router, outs };
  },

  async read(id: string, props: RouterOutputs) {
    // Router.get: the engine hands over the program's arguments only; read them like a create would.
    if (!props.connection) return { id, props: await connectAndDescribe(props) };
    const facts = await readFacts(routerShell(parseConnectionOptions(props.connection)));
    const now = factOutputs(facts);
    const drift = FIRMWARE(now) === FIRMWARE(props) ? [] : ["firmware-changed"];
    return { id, props: jsonSafe({ ...props, ...now, drift }) };
  },

  async update(_id: string, _olds: RouterOutputs, news: RouterInputs) {
    return { outs: await connectAndDescribe(news) };
  },

  async delete(): Promise<void> {
    // A Router is a connection and facts; nothing on the router belongs to it.
  },
};

function connectionFields(inputs: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(inputs).filter(([k, v]) => k !== "__provider" && v !== undefined));
}

/** Connects (verifying or, for trustOnFirstUse, recording the host key) and reads the facts. */
async function connectAndDescribe(inputs: RouterInputs): Promise<RouterOutputs> {
  const options = parseConnectionOptions(connectionFields(inputs));
  const seen = await getPool().connect(options);
  const facts = await readFacts(routerShell(options));
  const connection: RouterConnection = {
    host: options.host,
    port: options.port,
    user: options.user,
    password: inputs.password,
    privateKey: inputs.privateKey,
    privateKeyPassword: inputs.privateKeyPassword,
    // Every later operation pins the key seen now; with insecureIgnoreHostKey the user opted out.
    agentSocketPath: inputs.agentSocketPath,
    ...(inputs.insecureIgnoreHostKey ? { insecureIgnoreHostKey: true } : { hostKey: seen.hostPublicKey }),
    connectTimeoutMs: inputs.connectTimeoutMs,
    execTimeoutMs: inputs.execTimeoutMs,
  };
  return jsonSafe({ ...inputs, ...factOutputs(facts), connection, hostKeyFingerprint: seen.hostKey, drift: [] });
}
