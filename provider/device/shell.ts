import { getPool, sameAccess, TransportError, type ConnectionOptions, type ExecOptions, type ExecResult } from "../transport";

/** A router to run commands on: the device layer's only way to reach one. */
export interface RouterShell {
  /** `user@host:port`, for messages. */
  readonly router: string;
  /**
   * A command that may change the router. It is never shared, and once it has begun no read of
   * this router in this process is answered by a probe that began before it ended.
   */
  run(command: string, options: ExecOptions): Promise<ExecResult>;
  /**
   * A read-only probe of `kind`, shared by the reads of the same router (and credentials) in this
   * process: a read that comes while another of its kind is running waits for that one instead of
   * running its own. With `recent` (ms), one that finished at most that long ago answers too, unless
   * something was written to the router since or the connection it ran on is gone. The caller's own
   * time bounds (connect and exec timeouts, connect retries) apply to its wait, and when a probe run
   * with other bounds fails, the caller runs one of its own.
   */
  read<T>(kind: string, options: { recent: number }, probe: (run: RouterShell["run"]) => Promise<T>): Promise<T>;
}

/** Commands over the process-wide SSH pool (one connection per router, shared). */
export function routerShell(options: ConnectionOptions): RouterShell {
  const exec: RouterShell["run"] = (command, execOptions) => getPool().exec(options, command, execOptions);
  return {
    router: options.router,
    run: (command, execOptions) => writing(options.router, () => exec(command, execOptions)),
    read: (kind, { recent }, probe) => sharedRead(options, kind, recent, () => probe(exec)),
  };
}

/** The longest `recent` honoured: past it, nothing is kept. */
const KEEP_MS = 10_000;
/** Delay before the first connect retry (the pool's), doubled for each further attempt. */
const CONNECT_BACKOFF_MS = 250;

interface Shared {
  kind: string;
  /** The options it runs with: its credentials and time bounds. */
  options: ConnectionOptions;
  /** The router's write epoch when it began. */
  epoch: number;
  value: Promise<unknown>;
  /** When it finished, and on which connection; unset while it runs. */
  done?: { at: number; session: number | undefined };
}

/**
 * Per router: a count of the writes begun and ended (a probe serves only reads of its own epoch),
 * and the probes running or recently finished. Never dropped: a write in flight must find the
 * count it began with.
 */
const routers = new Map<string, { epoch: number; shared: Shared[] }>();

function stateOf(router: string) {
  let state = routers.get(router);
  if (!state) routers.set(router, (state = { epoch: 0, shared: [] }));
  return state;
}

async function writing<T>(router: string, work: () => Promise<T>): Promise<T> {
  stateOf(router).epoch++;
  try {
    return await work();
  } finally {
    stateOf(router).epoch++;
  }
}

async function sharedRead<T>(options: ConnectionOptions, kind: string, recent: number, probe: () => Promise<T>): Promise<T> {
  const state = stateOf(options.router);
  const now = Date.now();
  state.shared = state.shared.filter((s) => s.epoch === state.epoch && (!s.done || now - s.done.at <= KEEP_MS));
  const session = getPool().session(options);
  const usable = state.shared.find(
    (s) => s.kind === kind && sameAccess(s.options, options) && (!s.done || (now - s.done.at <= recent && s.done.session !== undefined && s.done.session === session)),
  );
  if (usable) {
    try {
      return (await within(usable.value, waitLimit(options), options.router)) as T;
    } catch (error) {
      // The probe failed (not this caller's patience): bounds of its own that differ from the probe's
      // (a preview's short ones, a refresh's connect retries) get their own try.
      if (error instanceof OutOfTime || !(error instanceof TransportError) || sameBounds(usable.options, options)) throw error;
    }
  }
  const entry: Shared = { kind, options, epoch: state.epoch, value: probe() };
  state.shared.push(entry);
  entry.value.then(
    () => {
      entry.done = { at: Date.now(), session: getPool().session(options) };
    },
    () => {
      state.shared = state.shared.filter((s) => s !== entry);
    },
  );
  return (await entry.value) as T;
}

function sameBounds(a: ConnectionOptions, b: ConnectionOptions): boolean {
  return a.connectTimeoutMs === b.connectTimeoutMs && a.connectRetries === b.connectRetries && a.execTimeoutMs === b.execTimeoutMs;
}

/** How long a read with these options would take at most on its own: every connect attempt and its backoff, then the exec. */
function waitLimit(options: ConnectionOptions): number {
  const backoff = CONNECT_BACKOFF_MS * (2 ** options.connectRetries - 1);
  return options.connectTimeoutMs * (options.connectRetries + 1) + backoff + options.execTimeoutMs;
}

/** A caller waited for a shared probe as long as it would have waited for its own. */
class OutOfTime extends TransportError {}

function within<T>(value: Promise<T>, ms: number, router: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OutOfTime(router, "read the router", `no answer within ${ms} ms`)), ms);
  });
  return Promise.race([value, late]).finally(() => clearTimeout(timer));
}
