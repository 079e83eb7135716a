import * as net from "net";
import { Client, ConnectConfig } from "ssh2";
import type { SimulatedRouter } from "../../sim";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A plain ssh2 client session to a simulated router; callers pin the host key through `overrides` when a test is about it. */
export async function connect(router: SimulatedRouter, overrides: Partial<ConnectConfig> = {}): Promise<Client> {
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve());
    client.once("error", reject);
    client.connect({
      // Without TCP_NODELAY every exec waits on delayed ACKs (~40 ms each way).
      sock: net.connect({ host: router.host, port: router.port, noDelay: true }),
      username: router.username,
      privateKey: router.privateKey,
      readyTimeout: 10000,
      ...overrides,
    });
  });
  return client;
}

export function exec(client: Client, command: string, stdin?: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) return reject(err);
      let stdout = "";
      let stderr = "";
      let code = -1;
      channel.on("data", (d: Buffer) => (stdout += d.toString()));
      channel.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      channel.on("exit", (c: number | null) => (code = c ?? -1));
      channel.on("close", () => resolve({ code, stdout, stderr }));
      channel.end(stdin ?? "");
    });
  });
}

/** One connection, one command, closed. */
export async function run(router: SimulatedRouter, command: string, stdin?: string): Promise<ExecResult> {
  const client = await connect(router);
  try {
    return await exec(client, command, stdin);
  } finally {
    client.end();
  }
}
