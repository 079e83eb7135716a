import { existsSync } from "node:fs";
import * as net from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import {
  ConnectionLostError,
  ConnectionPool,
  ConnectTimeoutError,
  ExecTimeoutError,
  getPool,
  parseConnectionOptions,
  TransportError,
  type ConnectionOptionsInput,
} from "../../../provider/transport";
import { startSilentTcpServer, startTestSshServer, type TestSshServer } from "../../helpers/ssh-test-server";

let server: TestSshServer;
let pool: ConnectionPool;

beforeAll(async () => {
  server = await startTestSshServer();
});
afterAll(() => server.stop());
beforeEach(() => {
  pool = new ConnectionPool();
});
afterEach(() => pool.closeAll());

function options(extra: Partial<ConnectionOptionsInput> = {}) {
  return parseConnectionOptions({
    host: server.host,
    port: server.port,
    password: server.password,
    hostKey: server.hostKeyFingerprint,
    connectRetries: 0,
    ...extra,
  });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await delay(10);
  expect(condition()).toBe(true);
}

describe("pooling", () => {
  it("shares one handshake among concurrent callers and counts per router and globally", async () => {
    const opts = options();
    const sessionsBefore = server.sessions;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pool.exec(opts, `echo ${i}`, { purpose: `exec ${i}` })),
    );
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
    expect(server.sessions - sessionsBefore).toBe(1);

    const total = pool.counters.snapshot();
    expect(total).toMatchObject({ handshakes: 1, execs: 20 });
    expect(total.bytesSent).toBeGreaterThan(0);
    expect(total.bytesReceived).toBeGreaterThan(0);
    expect(pool.counters.snapshot(opts.router)).toEqual(total);
    expect(pool.counters.snapshot("root@elsewhere:22")).toEqual({ handshakes: 0, execs: 0, bytesSent: 0, bytesReceived: 0 });

    pool.counters.reset();
    expect(pool.counters.snapshot()).toEqual({ handshakes: 0, execs: 0, bytesSent: 0, bytesReceived: 0 });
    await pool.exec(opts, "true", { purpose: "after reset" });
    expect(pool.counters.snapshot(opts.router)).toMatchObject({ handshakes: 0, execs: 1 });
  });

  it("keeps separate connections per user@host:port", async () => {
    await pool.exec(options(), "true", { purpose: "a" });
    await pool.exec(options({ host: "localhost" }), "true", { purpose: "b" });
    expect(pool.size).toBe(2);
    expect(pool.counters.snapshot()).toMatchObject({ handshakes: 2 });
  });

  it("runs at most maxConcurrentExecs channels at once and queues the rest", async () => {
    const opts = options({ maxConcurrentExecs: 2 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 6 }, () => pool.exec(opts, "sleep 0.1", { purpose: "queued" })));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(pool.counters.snapshot()).toMatchObject({ handshakes: 1, execs: 6 });
  });

  it("opens a new handshake on request (fresh) and keeps using the new connection", async () => {
    const opts = options();
    await pool.exec(opts, "true", { purpose: "before" });
    await pool.connect(opts, { fresh: true });
    await pool.exec(opts, "true", { purpose: "after" });
    expect(pool.counters.snapshot()).toMatchObject({ handshakes: 2, execs: 2 });
    expect(pool.size).toBe(1);
  });

  it("closeAll also closes connections that were replaced but not yet idle-closed", async () => {
    const opts = options();
    const running = pool.exec(opts, "sleep 5", { purpose: "long, on the old connection" });
    await server.nextExec();
    await pool.connect(opts, { fresh: true });
    await pool.closeAll();
    await expect(running).rejects.toBeInstanceOf(ConnectionLostError);
  });

  it("closes an idle connection and reconnects on the next call", async () => {
    const opts = options({ idleCloseMs: 100 });
    await pool.exec(opts, "true", { purpose: "first" });
    expect(pool.size).toBe(1);
    await until(() => pool.size === 0);
    await pool.exec(opts, "true", { purpose: "second" });
    expect(pool.counters.snapshot()).toMatchObject({ handshakes: 2 });
  });

  it("reconnects after the server dropped an idle connection", async () => {
    const opts = options();
    await pool.exec(opts, "true", { purpose: "first" });
    server.dropAll();
    await until(() => pool.size === 0);
    expect((await pool.exec(opts, "echo back", { purpose: "second" })).stdout).toBe("back\n");
    expect(pool.counters.snapshot()).toMatchObject({ handshakes: 2 });
  });

  it("getPool() is one lazily created pool", () => {
    expect(getPool()).toBe(getPool());
    expect(getPool()).toBeInstanceOf(ConnectionPool);
  });
});

describe("a connection dropping mid-command", () => {
  it("fails a write with ConnectionLostError saying the outcome is unknown, then reconnects", async () => {
    const opts = options();
    const running = pool.exec(opts, "sleep 5", { purpose: "commit firewall" });
    await server.nextExec();
    server.dropAll();
    const error = await rejection(running);
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(error.message).toMatch(/^root@127\.0\.0\.1:\d+: commit firewall: connection lost.*; the outcome on the router is unknown \(the command may or may not have run\)$/);
    expect(error).toMatchObject({ commandSent: true, exitCode: null });

    expect((await pool.exec(opts, "echo again", { purpose: "next" })).stdout).toBe("again\n");
    expect(pool.counters.snapshot()).toMatchObject({ handshakes: 2 });
  });

  it("runs a read once more on a new connection when retry is safe", async () => {
    const opts = options();
    const marker = `/tmp/transport-retry-${process.pid}-${Date.now()}`;
    const command = `if [ -e ${marker} ]; then rm ${marker}; echo second; else touch ${marker}; sleep 5; fi`;
    const running = pool.exec(opts, command, { purpose: "read facts", retry: "safe" });
    await until(() => existsSync(marker));
    server.dropAll();
    expect((await running).stdout).toBe("second\n");
    expect(pool.counters.snapshot()).toMatchObject({ handshakes: 2, execs: 2 });
  });

  it("fails commands running when the pool is closed", async () => {
    const running = pool.exec(options(), "sleep 5", { purpose: "long" });
    await server.nextExec();
    await pool.closeAll();
    await expect(running).rejects.toBeInstanceOf(ConnectionLostError);
  });
});

describe("timeouts", () => {
  it("fails an exec that runs too long, naming the limit, and keeps the connection", async () => {
    const opts = options();
    const started = Date.now();
    const error = await rejection(pool.exec(opts, "echo partial >&2; sleep 5", { purpose: "slow", timeoutMs: 200 }));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(ExecTimeoutError);
    expect(error.message).toMatch(/slow: command did not finish within 200 ms; .* may have partly run or may still be running/);
    expect(error.message).toMatch(/stderr: partial$/);
    expect((await pool.exec(opts, "echo ok", { purpose: "after" })).stdout).toBe("ok\n");
    expect(pool.counters.snapshot()).toMatchObject({ handshakes: 1 });
  });

  it("uses the connection's execTimeoutMs by default", async () => {
    const error = await rejection(pool.exec(options({ execTimeoutMs: 150 }), "sleep 5", { purpose: "slow" }));
    expect(error).toBeInstanceOf(ExecTimeoutError);
    expect(error.message).toContain("within 150 ms");
  });

  it("fails a connect to something that never speaks SSH", async () => {
    const silent = await startSilentTcpServer();
    try {
      const opts = options({ port: silent.port, connectTimeoutMs: 300 });
      const started = Date.now();
      const error = await rejection(pool.exec(opts, "true", { purpose: "smoke" }));
      expect(error).toBeInstanceOf(ConnectTimeoutError);
      expect(error.message).toBe(
        `root@127.0.0.1:${silent.port}: connect: no SSH session within 300 ms (connectTimeoutMs): TCP connect, handshake and authentication did not finish`,
      );
      expect(Date.now() - started).toBeLessThan(1500);
      expect(pool.size).toBe(0);
    } finally {
      await silent.stop();
    }
  });

  it("retries a refused connect with backoff, then reports the network error", async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const started = Date.now();
    const error = await rejection(pool.exec(options({ port, connectRetries: 2 }), "true", { purpose: "smoke" }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(700); // 250 ms + 500 ms of backoff
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toMatch(/connect: connect ECONNREFUSED/);
  });
});
