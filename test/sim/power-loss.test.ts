import { startSimulatedRouter, type SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { run } from "../helpers/sim-client";

/**
 * Flash is written lazily: a power cut keeps what was synced and loses the rest, as on a router's
 * ubifs/jffs2 overlay. These are the simulator's promises the guard's crash tests stand on.
 */
describe("a power cut loses what was not synced", () => {
  let sim: SimulatedRouter;
  beforeAll(async () => {
    sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
  });
  afterAll(() => sim.stop());

  test("an unsynced write is gone after a crash, a synced one is kept, a clean reboot keeps both", async () => {
    await run(sim, "echo kept > /etc/synced; sync; echo lost > /etc/unsynced; echo changed > /etc/synced");
    await sim.crash();
    expect((await run(sim, "cat /etc/synced; ls /etc/unsynced")).stdout).toBe("kept\n");
    expect(sim.stats.crashes).toBe(1);

    await run(sim, "echo new > /etc/unsynced");
    await sim.reboot();
    expect((await run(sim, "cat /etc/unsynced")).stdout).toBe("new\n");
  });

  test("fsync FILE keeps that file only", async () => {
    await run(sim, "echo one > /etc/a; echo two > /etc/b; fsync /etc/a");
    await sim.crash();
    expect((await run(sim, "cat /etc/a; [ -e /etc/b ] || echo no-b")).stdout).toBe("one\nno-b\n");
  });

  test("uci commit fsyncs its temp file but not the rename: after a crash the old config is back and the temp file is orphaned", async () => {
    const before = (await run(sim, "cat /etc/config/firewall")).stdout;
    await run(sim, "uci set firewall.@defaults[0].flow_offloading=1; uci commit firewall");
    expect((await run(sim, "uci get firewall.@defaults[0].flow_offloading")).stdout).toBe("1\n");
    await sim.crash();
    expect((await run(sim, "cat /etc/config/firewall")).stdout).toBe(before);
    const orphan = (await run(sim, "ls -a /etc/config | grep '^\\.firewall\\.uci-'")).stdout.trim();
    expect(orphan).toMatch(/^\.firewall\.uci-[A-Za-z0-9]{6}$/);
    expect((await run(sim, `cat /etc/config/${orphan}`)).stdout).toMatch(/option flow_offloading '1'/);
    // What nobody saw committed is not staged either: /tmp is RAM.
    expect((await run(sim, "uci changes")).stdout).toBe("");
  });

  test("a crash fault strikes right after the Nth emulated program call; the script does not go on", async () => {
    sim.setFaults({ crash: { callMatching: /^uci commit/ } });
    const result = await run(sim, "uci set firewall.@defaults[0].flow_offloading_hw=1; uci commit firewall; sync; echo after").catch((e) => e);
    // The link died with the router: no "after", and the commit never reached flash under its name.
    expect(String(result.stdout ?? "")).not.toContain("after");
    await sim.waitForBoot();
    expect((await run(sim, "uci -q get firewall.@defaults[0].flow_offloading_hw || echo absent")).stdout).toBe("absent\n");
  });

  test("\"some-unsynced\" keeps a seeded part of the unsynced writes, the same part for the same seed", async () => {
    const keptWith = async (seed: number) => {
      await run(sim, "rm -f /etc/w*; sync; for i in 1 2 3 4 5 6 7 8; do echo $i > /etc/w$i; done");
      await sim.crash({ lose: "some-unsynced", seed });
      return (await run(sim, "ls /etc | grep '^w' | tr '\\n' ' '")).stdout;
    };
    const a = await keptWith(7);
    expect(a).not.toBe("");
    expect(a).not.toBe("w1 w2 w3 w4 w5 w6 w7 w8 ");
    expect(await keptWith(7)).toBe(a);
  });
});

describe("package manager locks", () => {
  test("opkg locks even its reads: of two concurrent list-installed, one fails as real opkg does", async () => {
    const sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
    try {
      const r = await run(
        sim,
        "opkg list-installed > /tmp/a 2>/tmp/ae & opkg list-installed > /tmp/b 2>/tmp/be; rb=$?; wait $!; ra=$?; " +
          'echo "$ra $rb"; wc -l < /tmp/a; wc -l < /tmp/b; cat /tmp/ae /tmp/be',
      );
      const [codes, linesA, linesB, ...errors] = r.stdout.trim().split("\n");
      expect(codes.split(" ").sort()).toEqual(["0", "255"]);
      expect([Number(linesA), Number(linesB)].sort((x, y) => x - y)[0]).toBe(0);
      expect(errors.join("\n")).toBe("Collected errors:\n * opkg_conf_load: Could not lock /var/lock/opkg.lock: Resource temporarily unavailable.");
      // Once the first is done the lock is free again.
      expect((await run(sim, "opkg list-installed kmod-nft-offload")).stdout).toMatch(/^kmod-nft-offload - /);
    } finally {
      await sim.stop();
    }
  });

  test("apk locks its database for writes, not for reads", async () => {
    const sim = await startSimulatedRouter({ profile: "filogic-25.12" });
    try {
      // Two writers at once: whichever the scheduler starts first holds the lock, the other fails as apk does.
      const r = await run(
        sim,
        "apk add ethtool > /tmp/a 2>&1 & apk del ethtool > /tmp/b 2>&1; rb=$?; wait $!; ra=$?; " +
          'echo "$ra $rb"; cat /tmp/a /tmp/b | grep "^ERROR"; apk list --installed | grep -c .',
      );
      const [codes, ...rest] = r.stdout.trim().split("\n");
      expect(codes.split(" ").sort()).toEqual(["0", "1"]);
      expect(rest.slice(0, -1)).toEqual(["ERROR: Unable to lock database: temporary error (try again later)", "ERROR: Failed to open apk database: temporary error (try again later)"]);
      // A read takes no lock.
      expect(Number(rest[rest.length - 1])).toBeGreaterThan(0);
    } finally {
      await sim.stop();
    }
  });
});
