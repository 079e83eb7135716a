import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runCli } from "../cli/fleet";
import { parseConnectionOptions } from "../../provider/transport";
import { readFacts } from "../../provider/device/facts";
import { routerShell } from "../../provider/device/shell";
import { getPool } from "../../provider/transport";

const CLI = path.join(__dirname, "../../dist/cli/main.js");

/** Starts `openwrt-offload sim ...`, resolves with its first JSON document and the process. */
function startSim(args: string[]): Promise<{ json: unknown; child: ReturnType<typeof spawn> }> {
  const child = spawn(process.execPath, [CLI, "sim", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      try {
        resolve({ json: JSON.parse(out), child });
      } catch {
        // the document is not complete yet
      }
    });
    child.once("exit", (code) => reject(new Error(`sim exited ${code}: ${err}`)));
  });
}

function exitOf(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

afterAll(() => getPool().closeAll());

describe("openwrt-offload sim", () => {
  beforeAll(() => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: npm test builds it first (npm run build)`);
  });

  test("starts a router, prints how to connect, stops cleanly on SIGINT", async () => {
    const { json, child } = await startSim(["--profile", "filogic-25.12"]);
    const conn = json as { host: string; port: number; username: string; privateKey: string; hostKeyFingerprint: string; rootDir: string; profile: string };
    expect(conn.profile).toBe("filogic-25.12");
    expect(conn.host).toBe("127.0.0.1");
    const options = parseConnectionOptions({ host: conn.host, port: conn.port, user: conn.username, privateKey: conn.privateKey, hostKey: conn.hostKeyFingerprint });
    const facts = await readFacts(routerShell(options));
    expect(facts.packageManager).toBe("apk");
    await getPool().closeAll();
    child.kill("SIGINT");
    expect(await exitOf(child)).toBe(0);
    expect(fs.existsSync(conn.rootDir)).toBe(false);
  });

  test("--count starts a fleet cycling through --profiles", async () => {
    const { json, child } = await startSim(["--count", "3", "--profiles", "ath79-21.02,mt7621-24.10"]);
    expect((json as { profile: string }[]).map((c) => c.profile)).toEqual(["ath79-21.02", "mt7621-24.10", "ath79-21.02"]);
    child.kill("SIGTERM");
    expect(await exitOf(child)).toBe(0);
  });

  test("--count with --state-dir and --inventory: audit and drift work on what it wrote; a restart is the same fleet", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-fleet-"));
    const inventory = path.join(dir, "fleet.yaml");
    const args = ["--count", "2", "--profiles", "mt7621-23.05,x86-64-23.05", "--state-dir", path.join(dir, "state"), "--inventory", inventory];
    try {
      const first = await startSim(args);
      const firstKeys = fs.readFileSync(inventory, "utf8").match(/hostKey: \S+/g);
      expect(fs.readdirSync(path.join(dir, "state")).sort()).toEqual(["r1-mt7621-23.05", "r2-x86-64-23.05"]);
      expect(fs.statSync(path.join(dir, "keys/r1-mt7621-23.05")).mode & 0o777).toBe(0o600);
      const audit = await runCli(["audit", "--inventory", inventory, "--json"]);
      expect(audit.code).toBe(0);
      expect((JSON.parse(audit.stdout) as { routers: { name: string; status: string; labels: object }[] }).routers).toEqual([
        expect.objectContaining({ name: "r1-mt7621-23.05", status: "ok", labels: { profile: "mt7621-23.05" } }),
        expect.objectContaining({ name: "r2-x86-64-23.05", status: "ok", labels: { profile: "x86-64-23.05" } }),
      ]);
      first.child.kill("SIGINT");
      expect(await exitOf(first.child)).toBe(0);
      // The flash stays: a router's state and its host key outlive the process.
      expect(fs.existsSync(path.join(dir, "state/r1-mt7621-23.05/root/etc/config/firewall"))).toBe(true);

      const again = await startSim(args);
      expect(fs.readFileSync(inventory, "utf8").match(/hostKey: \S+/g)).toEqual(firstKeys);
      const drift = await runCli(["drift", "--inventory", inventory]);
      expect(drift.stdout).toMatch(/^2 routers: 0 in sync, 2 drifted, 0 failed$/m);
      again.child.kill("SIGINT");
      expect(await exitOf(again.child)).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("--list-profiles, and clear errors for bad input", () => {
    const list = spawnSync(process.execPath, [CLI, "sim", "--list-profiles"], { encoding: "utf8" });
    expect(list.stdout.trim().split("\n")).toEqual([
      "ath79-21.02",
      "ipq40xx-22.03",
      "x86-64-23.05",
      "mt7621-23.05",
      "mt7621-24.10",
      "filogic-25.12",
      "mt7621-unstable-hw",
    ]);
    const badCount = spawnSync(process.execPath, [CLI, "sim", "--count", "0"], { encoding: "utf8" });
    expect(badCount.status).not.toBe(0);
    expect(badCount.stderr).toMatch(/--count must be a positive whole number, got "0"/);
    const badProfile = spawnSync(process.execPath, [CLI, "sim", "--profile", "nope"], { encoding: "utf8" });
    expect(badProfile.status).toBe(1);
    expect(badProfile.stderr).toMatch(/nope.*mt7621-23\.05/s);
  });
});
