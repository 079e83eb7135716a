import { routerShell } from "../../../provider/device/shell";
import { parseConnectionOptions, TransportError, type ConnectionOptionsInput } from "../../../provider/transport";

/**
 * How reads of one router share a probe, with probes that never reach a router: what the sharing
 * hands out, to whom, and when it must not. (Reuse of a finished probe needs a live connection: see
 * test/sim/shared-reads.test.ts.)
 */
/** Nothing listens there: a write fails to connect, a moment after it began. */
let port = 40000;
const options = (extra: Partial<ConnectionOptionsInput> = {}) => parseConnectionOptions({ host: "127.0.0.1", port, password: "pw", insecureIgnoreHostKey: true, connectRetries: 0, ...extra });

beforeEach(() => {
  // A router of its own per test: the sharing's state is per router, for the whole process.
  port++;
});

/** A probe the test finishes by hand, counting how often it was started. */
function controlled<T>() {
  let started = 0;
  const pending: { resolve: (v: T) => void; reject: (e: Error) => void }[] = [];
  const probe = () => {
    started++;
    return new Promise<T>((resolve, reject) => pending.push({ resolve, reject }));
  };
  return { probe, started: () => started, resolve: (v: T) => pending.shift()!.resolve(v), reject: (e: Error) => pending.shift()!.reject(e) };
}

test("reads that overlap share one probe; a read after it finished runs its own", async () => {
  const shell = routerShell(options());
  const p = controlled<string>();
  const reads = [1, 2, 3, 4].map(() => shell.read("facts", { recent: 0 }, p.probe));
  expect(p.started()).toBe(1);
  p.resolve("the facts");
  expect(await Promise.all(reads)).toEqual(["the facts", "the facts", "the facts", "the facts"]);
  const later = shell.read("facts", { recent: 5000 }, p.probe);
  // No connection it ran on is open any more (there was none): nothing finished is handed out.
  expect(p.started()).toBe(2);
  p.resolve("read again");
  expect(await later).toBe("read again");
});

test("a read that comes after a write began never gets a probe that began before it", async () => {
  const shell = routerShell(options());
  const p = controlled<string>();
  const before = shell.read("facts", { recent: 0 }, p.probe);
  const write = shell.run("uci commit", { purpose: "test" }).catch((e: Error) => e);
  const during = shell.read("facts", { recent: 0 }, p.probe);
  const alsoDuring = shell.read("facts", { recent: 0 }, p.probe);
  expect(p.started()).toBe(2);
  p.resolve("before the write");
  p.resolve("during the write");
  expect(await before).toBe("before the write");
  expect(await during).toBe("during the write");
  expect(await alsoDuring).toBe("during the write");
  expect(await write).toBeInstanceOf(TransportError);
});

test("kinds, routers and credentials are never mixed", async () => {
  const p = controlled<string>();
  const a = routerShell(options()).read("facts", { recent: 0 }, p.probe);
  const otherKind = routerShell(options()).read("files", { recent: 0 }, p.probe);
  const otherPassword = routerShell(options({ password: "other" })).read("facts", { recent: 0 }, p.probe);
  port++;
  const otherRouter = routerShell(options()).read("facts", { recent: 0 }, p.probe);
  expect(p.started()).toBe(4);
  for (let i = 0; i < 4; i++) p.resolve(`probe ${i}`);
  expect(await Promise.all([a, otherKind, otherPassword, otherRouter])).toEqual(["probe 0", "probe 1", "probe 2", "probe 3"]);
});

test("a caller's own time bounds apply to its wait; when the shared probe fails, a caller with other bounds runs its own", async () => {
  const slow = controlled<string>();
  const patient = routerShell(options()).read("facts", { recent: 0 }, slow.probe);
  // A preview's read: its bounds (1 ms connect, no retries, 5 ms exec) are far shorter than the probe it joins.
  const hasty = routerShell(options({ connectTimeoutMs: 1, execTimeoutMs: 5 })).read("facts", { recent: 0 }, slow.probe);
  await expect(hasty).rejects.toThrow(TransportError);
  await expect(hasty).rejects.toThrow(/no answer within 6 ms/);
  slow.reject(new TransportError("root@192.0.2.1:1", "read", "connection lost"));
  // The patient caller started the probe with its own bounds: the failure is its answer.
  await expect(patient).rejects.toThrow(/connection lost/);

  const shared = controlled<string>();
  const first = routerShell(options()).read("facts", { recent: 0 }, shared.probe);
  const second = routerShell(options({ connectRetries: 2 })).read("facts", { recent: 0 }, shared.probe);
  shared.reject(new TransportError("root@192.0.2.1:1", "read", "connect timed out"));
  await expect(first).rejects.toThrow(/connect timed out/);
  // The second caller allows connect retries the first did not: it tries on its own.
  await new Promise((r) => setImmediate(r));
  expect(shared.started()).toBe(2);
  shared.resolve("with retries");
  expect(await second).toBe("with retries");
});
