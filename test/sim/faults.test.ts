import { startSimulatedRouter, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { run } from "../helpers/sim-client";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("faults", () => {
  let router: SimulatedRouter;
  beforeEach(async () => {
    router = await startSimulatedRouter({ profile: "mt7621-23.05" });
  });
  afterEach(() => router.stop());

  test("failNextFirewallReload: nft rejects the reload, the old ruleset stays, reload still exits 0 (as fw4 does)", async () => {
    const before = (await run(router, "nft list ruleset")).stdout;
    router.setFaults({ failNextFirewallReload: true });
    await run(router, "uci set firewall.@defaults[0].flow_offloading=1; uci commit firewall");
    const reload = await run(router, "/etc/init.d/firewall reload");
    expect(reload.code).toBe(0);
    expect(reload.stderr).toMatch(/^(\/dev\/stdin|-):\d+:\d+-\d+: Error: Could not process rule: Device or resource busy/m);
    expect((await run(router, "nft list ruleset")).stdout).toBe(before);
    expect(router.currentFaults.failNextFirewallReload).toBe(false);
    // One-shot: the next reload loads the committed config.
    await run(router, "/etc/init.d/firewall reload");
    expect((await run(router, "nft list flowtables")).stdout).toContain("flowtable ft");
  });

  test("overlayFull: df shows no space, opkg refuses, uci commit fails with an I/O error", async () => {
    router.setFaults({ overlayFull: true });
    const df = await run(router, "df -Pk /overlay");
    const [, row] = df.stdout.split("\n");
    expect(row.trim().split(/\s+/)[3]).toBe("0");
    expect(row).toMatch(/100% \/overlay$/);
    const install = await run(router, "opkg update >/dev/null; opkg install iperf3");
    expect(install.code).not.toBe(0);
    expect(install.stdout + install.stderr).toMatch(/Only have 0kb available on filesystem \/overlay/);
    const commit = await run(router, "uci set firewall.@defaults[0].flow_offloading=1; uci commit firewall");
    expect(commit.code).toBe(1);
    expect(commit.stderr).toBe("uci: I/O error\n");
  });

  test("traffic: conntrack shows how the kernel forwards flows (none, software, hardware)", async () => {
    router.traffic({ flows: 2 });
    expect((await run(router, "grep -c OFFLOAD /proc/net/nf_conntrack")).stdout.trim()).toBe("0");
    await run(router, "uci set firewall.@defaults[0].flow_offloading=1; uci commit firewall; fw4 reload");
    router.traffic({ flows: 2 });
    expect((await run(router, "grep -c '\\[OFFLOAD\\]' /proc/net/nf_conntrack")).stdout.trim()).toBe("2");
    await run(router, "uci set firewall.@defaults[0].flow_offloading_hw=1; uci commit firewall; fw4 reload");
    router.traffic({ flows: 2 });
    expect((await run(router, "grep -c '\\[HW_OFFLOAD\\]' /proc/net/nf_conntrack")).stdout.trim()).toBe("2");
  });
});

describe("mt7621-unstable-hw", () => {
  test("accepts hardware offload, then reboots under load; software offload is stable", async () => {
    const router = await startSimulatedRouter({ profile: "mt7621-unstable-hw", faults: { crashAfterMs: 200 } });
    try {
      const crashes: string[] = [];
      router.on("crash", (why: string) => crashes.push(why));
      router.startLoad(50);
      await run(router, "uci set firewall.@defaults[0].flow_offloading=1; uci commit firewall; fw4 reload");
      await sleep(600);
      expect(crashes).toEqual([]);
      const boots = router.stats.boots;

      // Synced: a crash keeps it (see test/sim/power-loss.test.ts for what it does without).
      await run(router, "uci set firewall.@defaults[0].flow_offloading_hw=1; uci commit firewall; sync; fw4 reload");
      expect((await run(router, "nft list flowtables")).stdout).toContain("flags offload");
      for (let i = 0; i < 100 && router.stats.boots === boots; i++) await sleep(50);
      await router.waitForBoot();
      expect(crashes).toHaveLength(1);
      expect(router.stats.boots).toBe(boots + 1);
      // The config was committed and synced, so the router comes back with hardware offload and will crash again.
      expect((await run(router, "uci get firewall.@defaults[0].flow_offloading_hw")).stdout).toBe("1\n");
    } finally {
      router.stopLoad();
      await router.stop();
    }
  });
});
