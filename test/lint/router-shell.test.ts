import { startSimulatedRouter } from "pulumi-openwrt-offload/sim";
import { lintOpenWrtShell } from "../../openwrt/shell-lint";
import { FACT_SECTIONS } from "../../provider/device/facts";
import { Probe } from "../../provider/device/probe";
import { GUARD_SCRIPT } from "../../provider/guard/router-script";
import { renderInitScript } from "../../provider/resources/device-offload";
import { getPool } from "../../provider/transport";
import { OPERATIONS } from "../sweep/operations";
import { RELAXED_WINDOW } from "../sweep/harness";

/**
 * Everything the client sends a router must run on a stock OpenWrt busybox: the guard's script, the
 * facts probe and its sections, the init script DeviceOffload installs, and every command every
 * write operation sends (captured from the routers while each runs once). A `setsid`, a
 * `sleep 0.5` or a `sort -k` anywhere fails here before it fails on a router.
 */
afterAll(() => getPool().closeAll());

test("the linter knows what a stock router lacks (so this file can fail)", () => {
  const problems = lintOpenWrtShell("setsid sh timer & timeout 5 true; sleep 0.5; sort -k2 f; echo $((16#ff)); nohup x; stat -c %s f").map((f) => f.problem.split(":")[0]);
  expect(problems).toEqual(["setsid", "timeout", "sleep", "sort", "nohup", "stat", "arithmetic in another base (FEATURE_SH_MATH_BASE is off)"]);
  expect(lintOpenWrtShell("f() { local x=1; }; f; lock /tmp/l; flock -n 9; start-stop-daemon -S -b -x /bin/sh -- --not-an-option; uci show; nft list ruleset")).toEqual([]);
});

test.each([
  ["the guard's router-side script", GUARD_SCRIPT],
  ["the facts probe", new Probe(FACT_SECTIONS).script()],
  // Each section with the probe's helpers (_r, _m) around it.
  ...Object.entries(FACT_SECTIONS).map(([name, body]) => [`the probe's ${name} section`, new Probe({ [name]: body }).script()]),
  ["DeviceOffload's init script", renderInitScript(["lan1", "wan"], true)],
])("%s runs on a stock OpenWrt busybox", (_what, script) => {
  expect(lintOpenWrtShell(script)).toEqual([]);
});

test("every command the write operations send runs on a stock OpenWrt busybox", async () => {
  const sent = new Map<string, string>();
  for (const op of OPERATIONS) {
    const sims = await Promise.all(op.profiles.map((profile) => startSimulatedRouter({ profile })));
    try {
      for (const sim of sims) sim.on("exec", (command: string) => sent.set(command, op.name));
      await op.run(sims, await op.setup(sims), RELAXED_WINDOW);
    } finally {
      await Promise.all(sims.map((sim) => sim.stop()));
    }
  }
  expect(sent.size).toBeGreaterThan(30);
  const findings = [...sent].flatMap(([command, op]) => lintOpenWrtShell(command).map((f) => ({ op, ...f })));
  expect(findings).toEqual([]);
}, 240_000);
