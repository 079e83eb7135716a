/**
 * A throwaway SSH server for transport tests: password and public-key auth for one user, every exec run with
 * `/bin/sh -c`, and a raw-socket `dropAll()` to simulate a router vanishing mid-command. The simulated router
 * replaces it in later test levels.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import * as net from "node:net";
import { Server, utils, type ParsedKey } from "ssh2";
import { hostKeyFingerprint } from "../../provider/transport/hostkey";
import { generateKeyPair } from "../../sim/keys";

export interface TestSshServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** SHA256 fingerprint of the server's ed25519 host key. */
  hostKeyFingerprint: string;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Authenticated sessions so far. */
  readonly sessions: number;
  /** Resolves with the command of the next exec, once its shell has been started. */
  nextExec(): Promise<string>;
  /** Destroys every client TCP socket without an SSH goodbye, and kills their commands. */
  dropAll(): void;
  stop(): Promise<void>;
}

export interface TestSshServerOptions {
  user?: string;
  password?: string;
  /** OpenSSH public key lines allowed to log in. */
  authorizedKeys?: string[];
}

function parsePublic(text: string): ParsedKey {
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error) throw parsed;
  return parsed;
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as net.AddressInfo).port;
}

async function closeServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function startTestSshServer(options: TestSshServerOptions = {}): Promise<TestSshServer> {
  const user = options.user ?? "root";
  const password = options.password ?? "router-password";
  const authorized = (options.authorizedKeys ?? []).map(parsePublic);
  const hostKey = generateKeyPair();
  const sockets = new Set<net.Socket>();
  const children = new Set<ChildProcess>();
  const execWaiters: ((command: string) => void)[] = [];
  let connections = 0;
  let sessions = 0;

  const ssh = new Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on("error", () => undefined);
    client.on("authentication", (ctx) => {
      if (ctx.username !== user) return ctx.reject();
      if (ctx.method === "password" && ctx.password === password) return ctx.accept();
      if (ctx.method === "publickey") {
        const key = authorized.find((candidate) => candidate.type === ctx.key.algo && candidate.getPublicSSH().equals(ctx.key.data));
        if (key && (!ctx.signature || key.verify(ctx.blob as Buffer, ctx.signature, ctx.hashAlgo) === true)) return ctx.accept();
      }
      ctx.reject(["password", "publickey"]);
    });
    client.on("ready", () => {
      sessions++;
      client.on("session", (acceptSession) => {
        acceptSession().on("exec", (acceptExec, _reject, info) => {
          const stream = acceptExec();
          const child = spawn("/bin/sh", ["-c", info.command], { stdio: "pipe" });
          children.add(child);
          child.stdin.on("error", () => undefined);
          stream.pipe(child.stdin);
          child.stdout.on("data", (chunk: Buffer) => stream.write(chunk));
          child.stderr.on("data", (chunk: Buffer) => stream.stderr.write(chunk));
          child.on("close", (code, signal) => {
            children.delete(child);
            if (signal) stream.exit(signal.replace(/^SIG/, ""));
            else stream.exit(code ?? 0);
            stream.end();
          });
          // The client gave up (exec timeout): stop the command like a router's sshd would.
          stream.on("close", () => child.kill("SIGKILL"));
          execWaiters.shift()?.(info.command);
        });
      });
    });
  });

  const tcp = net.createServer((socket) => {
    connections++;
    // Without it, Nagle plus delayed ACKs add ~40 ms to every exec round trip.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    ssh.injectSocket(socket);
  });
  const port = await listen(tcp);
  const hostKeyBlob = parsePublic(hostKey.public).getPublicSSH();

  return {
    host: "127.0.0.1",
    port,
    user,
    password,
    hostKeyFingerprint: hostKeyFingerprint(hostKeyBlob),
    get connections() {
      return connections;
    },
    get sessions() {
      return sessions;
    },
    nextExec: () => new Promise((resolve) => execWaiters.push(resolve)),
    dropAll() {
      for (const socket of sockets) socket.destroy();
      for (const child of children) child.kill("SIGKILL");
    },
    async stop() {
      for (const child of children) child.kill("SIGKILL");
      await closeServer(tcp, sockets);
    },
  };
}

/** A TCP server that accepts connections and never says a word: an SSH connect to it can only time out. */
export async function startSilentTcpServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  const port = await listen(tcp);
  return { port, stop: () => closeServer(tcp, sockets) };
}
