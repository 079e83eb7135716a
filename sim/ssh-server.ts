import * as crypto from "crypto";
import * as net from "net";
import { Server, ServerChannel, utils } from "ssh2";
import { SlowLink } from "./link";

export interface SshSession {
  /** `undefined` for an interactive shell channel. */
  command: string | undefined;
  channel: ServerChannel;
  /** Cuts the TCP connection this session runs on, without an SSH goodbye (a lost link). */
  cutLink(): void;
}

export interface RouterSshServerOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  hostKey: string;
  /** Public key blobs (SSH wire format) allowed to log in. */
  authorizedKeys: () => Buffer[];
  onSession: (session: SshSession) => void;
  /** Called for every TCP connection handed to the SSH layer (each costs the client a handshake). */
  onConnection: () => void;
  /** The link's round-trip time for a new connection, in ms (0: loopback as it is). */
  roundTripMs: () => number;
}

/** `SHA256:<base64 without padding>` of a host key, as OpenSSH prints it. */
export function fingerprintOf(privateOrPublicKey: string): string {
  const parsed = utils.parseKey(privateOrPublicKey);
  if (parsed instanceof Error) throw parsed;
  const digest = crypto.createHash("sha256").update(parsed.getPublicSSH()).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

/**
 * The router's SSH daemon (dropbear's part). It owns the TCP listener so the simulator can cut
 * links, refuse connections while rebooting, and present a new host key (by handing new sockets to
 * a fresh ssh2 server) without changing port.
 */
export class RouterSshServer {
  private readonly listener: net.Server;
  private ssh: Server;
  private readonly sockets = new Set<net.Socket>();
  private accepting = true;
  private downUntil = 0;

  constructor(private readonly options: RouterSshServerOptions) {
    this.ssh = this.makeSshServer(options.hostKey);
    this.listener = net.createServer((socket) => this.onSocket(socket));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.listener.once("error", reject);
      this.listener.listen(this.options.port, this.options.host, () => {
        this.listener.off("error", reject);
        resolve();
      });
    });
    return (this.listener.address() as net.AddressInfo).port;
  }

  /** While not accepting, new TCP connections are reset at once, as on a router that is booting. */
  setAccepting(accepting: boolean): void {
    this.accepting = accepting;
  }

  /** The link is down for `ms`: every open connection is cut and new ones are reset until then. */
  linkDown(ms: number): void {
    this.downUntil = Date.now() + ms;
    this.dropAll();
  }

  /** Cuts every open connection. */
  dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** Later connections see this host key; open ones keep theirs. */
  replaceHostKey(hostKey: string): void {
    this.ssh = this.makeSshServer(hostKey);
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }

  private onSocket(socket: net.Socket): void {
    if (!this.accepting || Date.now() < this.downUntil) {
      socket.resetAndDestroy();
      return;
    }
    // Like dropbear: small interactive packets go out at once instead of waiting on delayed ACKs.
    socket.setNoDelay(true);
    this.sockets.add(socket);
    this.options.onConnection();
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    const roundTrip = this.options.roundTripMs();
    this.ssh.injectSocket(roundTrip > 0 ? (new SlowLink(socket, roundTrip) as unknown as net.Socket) : socket);
  }

  private makeSshServer(hostKey: string): Server {
    const { username, password } = this.options;
    const server = new Server({ hostKeys: [hostKey], ident: "dropbear" }, (client, info) => {
      client.on("error", () => undefined);
      const socket = [...this.sockets].find((s) => s.remotePort === info.port && s.remoteAddress === info.ip);
      client.on("authentication", (ctx) => {
        if (ctx.username !== username) return ctx.reject(["publickey", "password"]);
        if (ctx.method === "password" && safeEqual(ctx.password, password)) return ctx.accept();
        if (ctx.method === "publickey") {
          const allowed = this.options.authorizedKeys().some((blob) => blob.equals(ctx.key.data));
          if (!allowed) return ctx.reject(["publickey", "password"]);
          if (!ctx.signature || !ctx.blob) return ctx.accept();
          const key = utils.parseKey(ctx.key.data);
          if (!(key instanceof Error) && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) return ctx.accept();
        }
        ctx.reject(["publickey", "password"]);
      });
      client.on("ready", () => {
        client.on("session", (acceptSession) => {
          const session = acceptSession();
          const cutLink = () => socket?.destroy();
          session.on("pty", (accept) => accept?.());
          session.on("env", (accept) => accept?.());
          session.on("exec", (accept, _reject, info) => {
            this.options.onSession({ command: info.command, channel: accept(), cutLink });
          });
          session.on("shell", (accept) => {
            this.options.onSession({ command: undefined, channel: accept(), cutLink });
          });
        });
      });
    });
    return server;
  }
}

function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash("sha256").update(a).digest();
  const hb = crypto.createHash("sha256").update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}
