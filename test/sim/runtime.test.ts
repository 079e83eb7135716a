import * as fs from "fs";
import * as path from "path";
import { startSimulatedRouter, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { connect, exec, run } from "../helpers/sim-client";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds; fails with `what` after `ms`. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Processes on the host (routers' included: their PID namespaces are below ours) whose command line contains `marker`, as "pid args". */
function hostProcessesMatching(marker: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue; // exited since the listing
    }
    const args = cmdline.split("\0").filter(Boolean).join(" ");
    if (args.includes(marker)) found.push(`${pid} ${args}`);
  }
  return found;
}

describe("simulated router runtime", () => {
  let router: SimulatedRouter;
  beforeAll(async () => {
    router = await startSimulatedRouter({ profile: "mt7621-23.05" });
  });
  afterAll(async () => {
    await router.stop();
  });
  afterEach(() => router.setFaults({}));

  test("exec runs busybox ash inside the router's own root", async () => {
    const r = await run(router, 'echo "shell=$0"; readlink /bin/sh; pwd; echo hello > /etc/sim-marker; cat /etc/sim-marker');
    expect(r).toEqual({ code: 0, stdout: "shell=/bin/sh\nbusybox\n/root\nhello\n", stderr: "" });
    expect(fs.readFileSync(path.join(router.rootDir, "etc/sim-marker"), "utf8")).toBe("hello\n");
  });

  test("the serial console gives a command's result when the command exits without reading its stdin", async () => {
    // The simulator's end of the pipe then fails with EPIPE; that is the command's business, not an error.
    for (let i = 0; i < 5; i++) {
      expect(await router.console("echo gone; exit 3", "x".repeat(1 << 20))).toEqual({ code: 3, stdout: "gone\n", stderr: "" });
      expect(await router.console("exit 4")).toEqual({ code: 4, stdout: "", stderr: "" });
    }
  });

  test("absolute OpenWrt paths resolve inside the router", async () => {
    const r = await run(
      router,
      "for p in /etc/config/firewall /sbin/fw4 /etc/init.d/firewall /etc/nftables.d /proc/net/nf_conntrack /overlay /etc/openwrt_release; do [ -e $p ] && echo ok $p || echo missing $p; done",
    );
    expect(r.stdout.split("\n").filter((l) => l.startsWith("missing"))).toEqual([]);
    expect(r.code).toBe(0);
  });

  test("GNU-only flags fail as on a router", async () => {
    const r = await run(router, "echo abc | grep -P 'a(?=b)'");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unrecognized option|invalid option/);
  });

  test("the kernel is the profile's, not the host's", async () => {
    const r = await run(router, "uname -r");
    expect(r.stdout.trim()).toBe(router.profile.kernel);
  });

  test("the router has no network beyond loopback", async () => {
    const r = await run(router, "ip -o link show | cut -d: -f2 | tr -d ' '");
    expect(r.stdout.trim().split("\n")).toEqual(["lo"]);
  });

  test("password and public-key logins work, a wrong password does not", async () => {
    const byPassword = await connect(router, { privateKey: undefined, password: router.password });
    expect((await exec(byPassword, "echo in")).stdout).toBe("in\n");
    byPassword.end();
    await expect(connect(router, { privateKey: undefined, password: "wrong" })).rejects.toThrow(/authentication/i);
  });

  test("the host key is stable and a client expecting another one fails", async () => {
    const seen: string[] = [];
    const pin = (expected: string) => ({
      hostVerifier: (key: Buffer) => {
        const fp = `SHA256:${require("crypto").createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
        seen.push(fp);
        return fp === expected;
      },
    });
    const ok = await connect(router, pin(router.hostKeyFingerprint));
    ok.end();
    await expect(connect(router, pin("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))).rejects.toThrow(/verification failed/i);
    router.setFaults({ hostKeyChanged: true });
    await expect(connect(router, pin(router.hostKeyFingerprint))).rejects.toThrow(/verification failed/i);
    expect(seen[seen.length - 1]).not.toBe(router.hostKeyFingerprint);
  });

  test("background processes outlive the SSH channel", async () => {
    const started = Date.now();
    // A stock router has no setsid: start-stop-daemon -b is how its scripts detach a daemon.
    const r = await run(
      router,
      "(sleep 1; echo done > /tmp/bg-done) >/dev/null 2>&1 & start-stop-daemon -S -b -x /bin/sh -- -c 'sleep 1; echo done > /tmp/daemon-done'; echo started",
    );
    expect(r.stdout).toBe("started\n");
    expect(Date.now() - started).toBeLessThan(1000);
    await eventually("both background jobs to finish", () =>
      fs.existsSync(path.join(router.rootDir, "tmp/bg-done")) && fs.existsSync(path.join(router.rootDir, "tmp/daemon-done")),
    );
  });

  test("latency fault: every round trip on the link takes that long, the SSH handshake's included", async () => {
    router.setFaults({ latencyMs: 150 });
    const t0 = Date.now();
    const client = await connect(router);
    // TCP, key exchange, host key, authentication: several round trips.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4 * 150);
    const t1 = Date.now();
    await exec(client, "true");
    await exec(client, "true");
    // Each exec: a channel opened, then the command's request and its end.
    expect(Date.now() - t1).toBeGreaterThanOrEqual(4 * 150);
    client.end();
  });

  test("dropConnection fault: the command runs, the caller loses the link", async () => {
    router.setFaults({ dropConnection: { afterExecs: 1 } });
    const client = await connect(router);
    expect((await exec(client, "echo first")).stdout).toBe("first\n");
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.exec("echo ran > /etc/after-drop; echo invisible", () => undefined);
    await closed;
    expect(fs.readFileSync(path.join(router.rootDir, "etc/after-drop"), "utf8")).toBe("ran\n");
    // One-shot: the next connection works.
    expect((await run(router, "echo again")).stdout).toBe("again\n");
  });

  test("dropConnection fault can match a command", async () => {
    router.setFaults({ dropConnection: { matching: "uci commit" } });
    const client = await connect(router);
    expect((await exec(client, "echo before")).code).toBe(0);
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.exec("uci commit firewall; touch /etc/committed", () => undefined);
    await closed;
    expect(fs.existsSync(path.join(router.rootDir, "etc/committed"))).toBe(true);
  });

  test("stats count connections and execs", async () => {
    const before = { ...router.stats };
    const client = await connect(router);
    await exec(client, "true");
    await exec(client, "true");
    client.end();
    expect(router.stats.connections - before.connections).toBe(1);
    expect(router.stats.execs - before.execs).toBe(2);
  });
});

describe("reboot", () => {
  let router: SimulatedRouter;
  beforeAll(async () => {
    router = await startSimulatedRouter({ profile: "x86-64-23.05" });
  });
  afterAll(async () => {
    await router.stop();
  });

  test("wipes /tmp and staged uci changes, keeps /etc, kills processes, runs the boot sequence", async () => {
    const marker = `sleep 4${Math.floor(Math.random() * 1000) + 1000}`;
    await run(
      router,
      [
        "echo keep > /etc/keep-me",
        "echo lose > /tmp/lose-me",
        "uci set firewall.@defaults[0].flow_offloading=1",
        `(${marker}) >/dev/null 2>&1 &`,
        "printf '#!/bin/sh /etc/rc.common\\nSTART=10\\nboot() { echo a >> /etc/boot-order; }\\n' > /etc/init.d/aa",
        "printf '#!/bin/sh /etc/rc.common\\nSTART=30\\nboot() { echo b >> /etc/boot-order; }\\n' > /etc/init.d/bb",
        "chmod +x /etc/init.d/aa /etc/init.d/bb",
        "/etc/init.d/bb enable && /etc/init.d/aa enable",
        "printf 'echo local >> /etc/boot-order\\nexit 0\\n' > /etc/rc.local",
      ].join("\n"),
    );
    expect((await run(router, "uci changes firewall")).stdout).toMatch(/flow_offloading='1'/);
    expect(hostProcessesMatching(marker)).toHaveLength(1);

    const client = await connect(router);
    const dropped = new Promise<void>((resolve) => client.once("close", () => resolve()));
    const boots = router.stats.boots;
    client.exec("reboot", () => undefined);
    await dropped;
    await eventually("the router to come back", () => router.stats.boots === boots + 1, 10000);
    await router.waitForBoot();

    const after = await run(router, "cat /etc/keep-me; ls /tmp/lose-me 2>&1; uci changes firewall; cat /etc/boot-order");
    expect(after.stdout).toBe("keep\nls: /tmp/lose-me: No such file or directory\na\nb\nlocal\n");
    expect(hostProcessesMatching(marker)).toHaveLength(0);
  });

  test("the firewall is started from config at boot", async () => {
    await router.reboot();
    const r = await run(router, "nft list tables");
    expect(r.stdout).toContain("table inet fw4");
  });

  test("connections during a reboot are refused, then accepted again", async () => {
    const rebooting = router.reboot();
    await expect(run(router, "true")).rejects.toThrow();
    await rebooting;
    expect((await run(router, "echo up")).stdout).toBe("up\n");
  });
});

describe("state directory", () => {
  test("restarting with the same state dir gives the same router", async () => {
    const stateDir = fs.mkdtempSync("/tmp/openwrt-sim-test-");
    try {
      const first = await startSimulatedRouter({ profile: "mt7621-24.10", stateDir });
      await run(first, "echo persisted > /etc/p");
      const fp = first.hostKeyFingerprint;
      await first.stop();
      const second = await startSimulatedRouter({ stateDir });
      expect(second.hostKeyFingerprint).toBe(fp);
      expect((await run(second, "cat /etc/p")).stdout).toBe("persisted\n");
      await second.stop();
    } finally {
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
