import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { utils } from "ssh2";
import { startSimulatedRouter, type SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { snapshotsCommand } from "../../cli/snapshots";
import { inventoryRouterSchema } from "../../provider/fleet/inventory";
import { requireBuiltCli, runCli, tempDir } from "./fleet";

/**
 * What a new operator meets first at the command line: the version, typos, and the connection
 * failures of a first try, each said in a sentence with its fix in the CLI's own flags.
 */
let dir: string;
let key: string;
let sim: SimulatedRouter;

beforeAll(async () => {
  requireBuiltCli();
  dir = tempDir("conventions-");
  key = path.join(dir, "id_ed25519");
  fs.writeFileSync(key, utils.generateKeyPairSync("ed25519").private, { mode: 0o600 });
  sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
}, 60_000);

afterAll(async () => {
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A TCP port where a server of the test's choosing answers (or nothing does, once closed). */
async function listen(onConnection: (socket: net.Socket) => void): Promise<net.Server & { port: number }> {
  const server = net.createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(server, { port: (server.address() as net.AddressInfo).port });
}

test("--version prints the package's version", async () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, "../../package.json"), "utf8")) as { version: string };
  for (const flag of ["--version", "-V"]) expect(await runCli([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
});

test("a typo in an option is an unknown option, even where a required option is then missing", async () => {
  const typo = await runCli(["audit", "--inventry", "fleet.yaml"]);
  expect(typo.code).toBe(1);
  expect(typo.stderr).toMatch(/^error: unknown option '--inventry'\n\(Did you mean --inventory\?\)/);
  expect(typo.stderr).not.toMatch(/required option/);
  const missing = await runCli(["rollback", "--dry-run"]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^error: required option '-r, --router <host\[:port\]>' not specified/);
});

test("missing or malformed connection settings name the flags that fix them, never the API's fields", async () => {
  const bare = await runCli(["snapshots", "--router", "127.0.0.1"]);
  expect(bare.code).toBe(1);
  expect(bare.stderr).toBe(
    "openwrt-offload: no host key to check the router against: pass --host-key with its SHA256 fingerprint (get it out of band: ssh-keyscan -t ed25519 HOST | ssh-keygen -lf -), " +
      "or --insecure-ignore-host-key to skip the check (unsafe)\n" +
      "no way to log in: pass -i/--identity FILE (a private key) or --password-env VAR (an environment variable holding the password)\n",
  );
  const bad = await runCli(["rollback", "-r", "127.0.0.1", "--host-key", "SHA256:abc", "--insecure-ignore-host-key", "--password-env", "HOME"]);
  expect(bad.stderr).toMatch(/^openwrt-offload: --host-key must be an OpenSSH SHA256 fingerprint/);
  expect(bad.stderr).toMatch(/^--host-key and --insecure-ignore-host-key exclude each other: pass one of them$/m);
  for (const res of [bare, bad]) expect(res.stderr).not.toMatch(/trustOnFirstUse|insecureIgnoreHostKey|hostKey|agentSocketPath|privateKey/);
  const txid = await runCli(["rollback", "-r", `${sim.host}:${sim.port}`, "--host-key", sim.hostKeyFingerprint, "-i", key, "--to", "last"]);
  expect(txid.stderr).toBe('openwrt-offload: --to "last" is not a transaction id: take one from `openwrt-offload snapshots` (like 20260101T120000.000Z-1a2b3c)\n');
  const unset = await runCli(["snapshots", "-r", "127.0.0.1", "--insecure-ignore-host-key", "--password-env", "OPENWRT_OFFLOAD_NOT_SET"]);
  expect(unset.stderr).toBe("openwrt-offload: --password-env: the environment variable OPENWRT_OFFLOAD_NOT_SET is not set; export it first, or log in with -i/--identity\n");
});

test("the host-key choices the CLI offers are the ones an inventory accepts", () => {
  const cliChoices = snapshotsCommand()
    .options.map((o) => o.long!)
    .filter((flag) => /host-key|trust/.test(flag));
  const inventoryChoices = Object.keys(inventoryRouterSchema.shape).filter((k) => /hostkey|trust/i.test(k));
  const asKey = (flag: string) => flag.replace(/^--/, "").replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  expect(cliChoices.map(asKey).sort()).toEqual(inventoryChoices.sort());
  expect(inventoryChoices.sort()).toEqual(["hostKey", "insecureIgnoreHostKey"]);
});

test("-i/--identity naming a file that is not there", async () => {
  const res = await runCli(["snapshots", "-r", "127.0.0.1", "--insecure-ignore-host-key", "-i", path.join(dir, "nope")]);
  expect(res).toEqual({
    code: 1,
    stdout: "",
    stderr: `openwrt-offload: cannot read the private key ${path.join(dir, "nope")} given with -i/--identity: there is no such file. Pass the path of your private key file, e.g. -i ~/.ssh/id_ed25519\n`,
  });
});

test("a refused connection, a port where no SSH server answers, a refused key: a sentence and a fix each", async () => {
  const closed = await listen(() => undefined);
  closed.close();
  const refused = await runCli(["snapshots", "-r", `127.0.0.1:${closed.port}`, "--insecure-ignore-host-key", "-i", key]);
  expect(refused).toEqual({
    code: 1,
    stdout: "",
    stderr:
      `openwrt-offload: nothing accepts connections at 127.0.0.1:${closed.port} (connection refused).\n` +
      "Fix: check the port in --router HOST:PORT, and that the router's SSH server (dropbear) is running.\n",
  });

  const silent = await listen(() => undefined);
  try {
    const timeout = await runCli(["snapshots", "-r", `127.0.0.1:${silent.port}`, "--insecure-ignore-host-key", "-i", key, "--connect-timeout", "1"]);
    expect(timeout.stderr).toBe(
      `openwrt-offload: no SSH server answered at 127.0.0.1:${silent.port} within 1 s: the address or port cannot be reached from here (a wrong address or port, a firewall dropping it, or the router is down).\n` +
        "Fix: check --router HOST:PORT and the route to it or raise --connect-timeout.\n",
    );
  } finally {
    silent.close();
  }

  const wrongKey = await runCli(["snapshots", "-r", `${sim.host}:${sim.port}`, "--host-key", sim.hostKeyFingerprint, "-i", key]);
  expect(wrongKey).toEqual({
    code: 1,
    stdout: "",
    stderr:
      `openwrt-offload: ${sim.host}:${sim.port} refused the login as root.\n` +
      "Fix: check -u/--user, and that the public half of the key given with -i/--identity is in the router's /etc/dropbear/authorized_keys (or log in with a password: --password-env).\n",
  });
  expect(wrongKey.stderr).not.toContain(fs.readFileSync(key, "utf8").split("\n")[1]);
}, 30_000);
