import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ChildProcess, spawn, spawnSync } from "child_process";
import { once } from "events";
import type { Client } from "ssh2";
import { listProfiles, startSimulatedRouter, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { baseImage } from "../../sim/base-image";
import { EMULATED_APPLETS, openwrtAppletNames } from "../../sim/busybox/openwrt-applets";
import { programPathsFor } from "../../sim/tools/registry";
import { describeIf, type Availability } from "../helpers/requirements";
import { connect, exec, type ExecResult } from "../helpers/sim-client";

/**
 * A router's shell is a stock OpenWrt busybox: the applets and options of OpenWrt's defaults, so a
 * script that leans on Debian's busybox (setsid, `sleep 0.5`, `sort -k`) fails here as on a router.
 */
const PROFILES = listProfiles();
const sessions = new Map<string, { router: SimulatedRouter; client: Client }>();

beforeAll(async () => {
  await Promise.all(
    PROFILES.map(async (profile) => {
      const router = await startSimulatedRouter({ profile });
      sessions.set(profile, { router, client: await connect(router) });
    }),
  );
});
afterAll(async () => {
  for (const { client } of sessions.values()) client.end();
  await Promise.all([...sessions.values()].map(({ router }) => router.stop()));
});

/** In Debian's busybox (and coreutils) but not in a stock OpenWrt image. */
const DEBIAN_ONLY = ["setsid", "timeout", "nohup", "stat", "realpath", "base64", "od"];

/** Each works with Debian's busybox; OpenWrt builds busybox without the option behind it. */
const REFUSED: [string, (r: ExecResult) => void][] = [
  ["sleep 0.5", (r) => expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining("invalid number '0.5'") })],
  // Without SORT_BIG, sort parses -k and ignores it: whole lines are compared.
  ["printf 'a 2\\nb 1\\n' | sort -k 2", (r) => expect(r).toMatchObject({ code: 0, stdout: "a 2\nb 1\n" })],
  ["ps -o pid", (r) => expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining("invalid option -- 'o'") })],
  // Without TR_CLASSES, '[:upper:]' is the characters [ : u p e r, none of them in "ABC".
  ["echo ABC | tr '[:upper:]' '[:lower:]'", (r) => expect(r).toMatchObject({ code: 0, stdout: "ABC\n" })],
  ["echo $((16#ff))", (r) => expect(r).toMatchObject({ code: 2, stderr: expect.stringContaining("arithmetic syntax error") })],
  ["read -t 0.5 x </dev/null", (r) => expect(r).toMatchObject({ code: 2, stderr: expect.stringContaining("invalid timeout") })],
  ["echo x | cat -n", (r) => expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining("invalid option -- 'n'") })],
  ["date +%N", (r) => expect(r.stdout).not.toMatch(/^\d{9}$/m)],
  ["echo a | xargs -I{} echo {}", (r) => expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining("invalid option -- 'I'") })],
  ["find /tmp -maxdepth 0 -delete", (r) => expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining("unrecognized: -delete") })],
  ["dd if=/dev/zero of=/dev/null count=1 status=none", (r) => expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining("Usage: dd") })],
  ["nc -l -p 1234", (r) => expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining("Usage: nc") })],
];

/** What scripts for a stock router may rely on; each prints exactly the expected text. */
const WORKS: [string, string][] = [
  ["flock /tmp/f true && ( flock -n 9 && echo held ) 9>/tmp/f", "held\n"],
  [
    "lock /tmp/l && { flock -n /tmp/l true || echo taken; } && lock -u /tmp/l && lock -w /tmp/l && flock -n /tmp/l true && echo released",
    "taken\nreleased\n",
  ],
  // The router's /proc is the simulator's (no process entries), so pgrep finds nothing, but it runs.
  ["pgrep -x no-such-daemon; echo $?", "1\n"],
  ["nice -n 5 echo niced", "niced\n"],
  ['v=abc; [[ "$v" == "abc" ]] && echo ${v/b/X}', "aXc\n"],
  ["f() { local x=inner; echo $x; }; x=outer; f; echo $x", "inner\nouter\n"],
  ["echo $((6 * 7)) $((1 << 40))", "42 1099511627776\n"],
  ["date +%s | grep -qE '^[0-9]{10}$' && echo epoch", "epoch\n"],
  [
    "start-stop-daemon -S -b -m -p /tmp/ssd.pid -x /bin/sleep -- 30 && kill -0 $(cat /tmp/ssd.pid) && kill $(cat /tmp/ssd.pid) && echo daemonized",
    "daemonized\n",
  ],
];

describe.each(PROFILES)("%s", (profile) => {
  const sh = (command: string) => exec(sessions.get(profile)!.client, command);

  test("has exactly OpenWrt's applets: busybox links, emulated programs and lock/netmsg", async () => {
    const links = await sh('for f in /bin/* /sbin/* /usr/bin/* /usr/sbin/*; do [ -L "$f" ] && case "$(readlink "$f")" in *busybox) echo "${f##*/}" ;; esac; done');
    const reference = openwrtAppletNames();
    const emulated = programPathsFor(sessions.get(profile)!.router.profile)
      .map((p) => path.basename(p))
      .filter((name) => reference.includes(name));
    const scripted = Object.keys(EMULATED_APPLETS);
    expect([...links.stdout.split("\n").filter(Boolean), ...emulated, ...scripted].sort()).toEqual([...reference].sort());

    const missing = await sh(`for a in ${reference.map((a) => `'${a}'`).join(" ")}; do command -v "$a" >/dev/null || echo "$a"; done`);
    expect(missing).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  test("lacks Debian-only applets, as commands and through `busybox NAME`", async () => {
    for (const applet of DEBIAN_ONLY) {
      expect(await sh(`${applet} --help`)).toMatchObject({ code: 127, stderr: expect.stringContaining(`${applet}: not found`) });
      expect(await sh(`busybox ${applet} --help`)).toMatchObject({ code: 127, stderr: expect.stringContaining(`${applet}: applet not found`) });
    }
  });

  test.each(REFUSED)("refuses `%s` as OpenWrt does", async (command, check) => {
    check(await sh(command));
  });

  test.each(WORKS)("runs `%s`", async (command, stdout) => {
    expect(await sh(command)).toEqual({ code: 0, stdout, stderr: "" });
  });
});

test("a state dir laid out with a bigger busybox loses the applet links this one lacks", async () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "openwrt-sim-shell-"));
  try {
    const first = await startSimulatedRouter({ profile: "x86-64-23.05", stateDir });
    await first.stop();
    // As Debian's busybox left them: links to the binary that OpenWrt's does not have.
    fs.symlinkSync("busybox", path.join(first.rootDir, "bin/stat"));
    fs.symlinkSync("../../bin/busybox", path.join(first.rootDir, "usr/bin/setsid"));
    const again = await startSimulatedRouter({ profile: "x86-64-23.05", stateDir });
    try {
      expect(isLink(path.join(again.rootDir, "bin/stat"))).toBe(false);
      expect(isLink(path.join(again.rootDir, "usr/bin/setsid"))).toBe(false);
      expect(await again.console("setsid true")).toMatchObject({ code: 127 });
      expect(await again.console("stat / >/dev/null 2>&1; echo $?")).toMatchObject({ stdout: "127\n" });
    } finally {
      await again.stop();
    }
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

const REPO = path.join(__dirname, "../..");
const CLI = path.join(REPO, "dist/cli/main.js");

/** The first executable of this name on the test's own PATH (a test may put a fake one first for the CLI). */
function hostTool(name: string): string | undefined {
  return (process.env.PATH ?? "")
    .split(":")
    .filter(Boolean)
    .map((dir) => path.join(dir, name))
    .find((file) => {
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** Running the CLI as nobody takes root (to switch user and to bind-mount the checkout, see simAsNobody) and util-linux. */
function nobodyAvailability(): Availability {
  if (process.getuid?.() !== 0) return { ok: false, reason: "it runs the CLI as nobody, which takes root: run the tests as root (CI does)" };
  const missing = ["setpriv", "unshare", "mount"].filter((tool) => !hostTool(tool));
  if (missing.length) return { ok: false, reason: `${missing.join(", ")} not on PATH (apt-get install util-linux mount)` };
  if (!fs.existsSync(CLI)) return { ok: false, reason: `${CLI} is not built (npm run build; npm test does it)` };
  const probe = spawnSync(hostTool("unshare")!, ["--mount", "--propagation", "private", "true"], { encoding: "utf8" });
  if (probe.status !== 0) {
    return { ok: false, reason: `a private mount namespace is refused (unshare --mount: ${(probe.stderr || probe.error?.message || "").trim()}); give the tests CAP_SYS_ADMIN` };
  }
  return { ok: true };
}

describeIf(nobodyAvailability(), "as a non-root user", () => {
  const mountBases: string[] = [];
  afterAll(() => {
    // Only empty mount points are left here: the bind mounts lived in the namespace of each run. rmdir (never a
    // recursive rm) so that a bind mount that had somehow leaked out could not take the checkout with it.
    for (const base of mountBases) {
      for (const dir of ["repo", "busybox"]) fs.rmdirSync(path.join(base, dir));
      fs.rmdirSync(base);
    }
  });

  /**
   * `openwrt-offload sim` as nobody, with the busybox this run provisioned (nobody cannot write our cache).
   * The checkout may lie where nobody cannot go (a clone under /root, mode 700 on Debian), so the CLI runs in a
   * private mount namespace (unshare --mount, as root) in which the checkout and the busybox's directory are
   * bind-mounted under a fresh directory that nobody can traverse; nothing changes outside that namespace.
   */
  function simAsNobody(extraPath?: string): ChildProcess {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "openwrt-sim-nobody-"));
    mountBases.push(base);
    fs.chmodSync(base, 0o755);
    for (const dir of ["repo", "busybox"]) fs.mkdirSync(path.join(base, dir), { mode: 0o755 });
    const busybox = baseImage().busybox;
    const env = {
      PATH: `${extraPath ? `${extraPath}:` : ""}${process.env.PATH}`,
      OPENWRT_SIM_BUSYBOX: path.join(base, "busybox", path.basename(busybox)),
    };
    const script = '"$1" --bind "$2" "$4/repo" && "$1" --bind "$3" "$4/busybox" && shift 4 && exec "$@"';
    const nobody = [hostTool("setpriv")!, "--reuid=nobody", "--regid=nogroup", "--clear-groups"];
    const cli = [process.execPath, path.join(base, "repo/dist/cli/main.js"), "sim", "--profile", "x86-64-23.05"];
    // Tools by absolute path: a test's fake unshare on PATH is for the CLI, not for this wrapper.
    return spawn(
      hostTool("unshare")!,
      ["--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", hostTool("mount")!, REPO, path.dirname(busybox), base, ...nobody, ...cli],
      { env, cwd: "/", stdio: ["ignore", "pipe", "pipe"] },
    );
  }

  /** Stops the CLI with SIGINT, as a user would; it may have exited already (then there is nothing to wait for). */
  async function stop(sim: ChildProcess): Promise<void> {
    if (sim.exitCode !== null || sim.signalCode !== null) return;
    const exited = once(sim, "exit");
    sim.kill("SIGINT");
    await exited;
  }

  test("a router runs in an unprivileged user namespace, where its user is root", async () => {
    const sim = simAsNobody();
    try {
      const connection = await new Promise<{ port: number; privateKey: string; rootDir: string }>((resolve, reject) => {
        let out = "";
        let err = "";
        sim.stdout!.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.trimEnd().endsWith("}")) resolve(JSON.parse(out));
        });
        sim.stderr!.on("data", (d: Buffer) => (err += d.toString()));
        sim.once("exit", (code) => reject(new Error(`sim exited ${code}: ${err}`)));
      });
      expect(fs.statSync(path.join(connection.rootDir, "etc/passwd")).uid).toBe(65534);
      const router = { host: "127.0.0.1", port: connection.port, username: "root", privateKey: connection.privateKey } as SimulatedRouter;
      const client = await connect(router);
      try {
        expect(await exec(client, "id -u; touch /etc/x && ls -ln /etc/x | awk '{print $3}'; lock /tmp/l && lock -u /tmp/l && echo locked")).toEqual({
          code: 0,
          stdout: "0\n0\nlocked\n",
          stderr: "",
        });
      } finally {
        client.end();
      }
    } finally {
      await stop(sim);
    }
  });

  test("a kernel that refuses user namespaces gets a message saying what to do", async () => {
    // Stands in for a kernel with unprivileged user namespaces disabled: unshare fails as it then would.
    const fakeBin = fs.mkdtempSync(path.join(os.tmpdir(), "openwrt-sim-nouserns-"));
    try {
      fs.chmodSync(fakeBin, 0o755);
      fs.writeFileSync(path.join(fakeBin, "unshare"), "#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\nexit 1\n", { mode: 0o755 });
      const sim = simAsNobody(fakeBin);
      let stderr = "";
      sim.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      const [code] = await once(sim, "exit");
      expect(stderr).toContain("Operation not permitted");
      expect(stderr).toMatch(/Run as root.*kernel\.unprivileged_userns_clone=1.*user\.max_user_namespaces.*kernel\.apparmor_restrict_unprivileged_userns=0/s);
      expect(code).toBe(1);
    } finally {
      fs.rmSync(fakeBin, { recursive: true, force: true });
    }
  });
});

test("the Debian-filtered fallback links only OpenWrt's applets, gates `busybox NAME` and warns that options are Debian's", async () => {
  const saved = { ...process.env };
  const warnings: string[] = [];
  const stderr = jest.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    warnings.push(String(chunk));
    return true;
  });
  process.env.OPENWRT_SIM_BUSYBOX_MODE = "debian-filtered";
  delete process.env.OPENWRT_SIM_BUSYBOX_WARNED;
  let router: SimulatedRouter | undefined;
  try {
    let sim!: typeof import("../../sim");
    jest.isolateModules(() => (sim = require("../../sim")));
    router = await sim.startSimulatedRouter({ profile: "x86-64-23.05" });
    expect(warnings.join("")).toContain("with Debian's option set");
    expect(await router.console("setsid true")).toMatchObject({ code: 127 });
    expect(await router.console("busybox setsid true")).toMatchObject({ code: 127, stderr: "setsid: applet not found\n" });
    expect(await router.console("busybox echo gated")).toMatchObject({ code: 0, stdout: "gated\n" });
    // What the fallback cannot match: Debian's options.
    expect(await router.console("sleep 0.5 && echo fractional")).toMatchObject({ code: 0, stdout: "fractional\n" });
  } finally {
    await router?.stop();
    stderr.mockRestore();
    process.env = saved;
  }
});
