import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { SimulatedRouter } from "../../sim";

const CLI = path.join(__dirname, "../../dist/cli/main.js");

/** Runs `openwrt-offload COMMAND --router ... --identity ... --host-key ...` against a simulated router, as an operator would. */
export async function openwrtCli(
  sim: SimulatedRouter,
  [command, ...rest]: string[],
  { hostKey = sim.hostKeyFingerprint }: { hostKey?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const keyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cli-key-")), "id");
  fs.writeFileSync(keyFile, sim.privateKey, { mode: 0o600 });
  try {
    return await new Promise((resolve) =>
      execFile(process.execPath, [CLI, command, "--router", `${sim.host}:${sim.port}`, "--identity", keyFile, "--host-key", hostKey, ...rest], (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
  } finally {
    fs.rmSync(path.dirname(keyFile), { recursive: true, force: true });
  }
}
