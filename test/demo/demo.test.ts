import { spawn } from "child_process";
import * as path from "path";
import { driftDisagreements, steps, upDisagreements } from "./demo-output";

/** `npm run demo` is the project's main job on a fresh machine: it must run to completion, in CI too. */
test("the demo walks through audit, preview, waves, drift and the guard, and exits 0", async () => {
  const cli = path.join(__dirname, "../../dist/cli/main.js");
  const child = spawn(process.execPath, [cli, "demo"], { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  expect({ code, tail: code === 0 ? "" : out.slice(-3000) }).toEqual({ code: 0, tail: "" });
  for (const heading of ["1. A simulated fleet of 7", "2. Audit", "3. Preview", "4. Guarded rollout in waves", "5. Drift", "6. pulumi up again"]) {
    expect(out).toContain(heading);
  }
  expect(out).toMatch(/Pulumi CLI (not found|found)/);
  expect(out).toMatch(/routers contacted: 0/);
  expect(out).toMatch(/✓ wave 1 passed/);
  expect(out).toMatch(/r7-mt7621-unstable-hw: kernel oops/);
  expect(out).toMatch(/the router rebooted during the guard window and its boot hook restored the previous config/);
  expect(out).toMatch(/pulumi refresh: drift on .*edge-r1-mt7621-23\.05-offload.*edge-r6-filogic-25\.12-offload/);
  expect(out).toMatch(/r1-mt7621-23\.05 .*local-edit/);
  expect(out).toMatch(/r6-filogic-25\.12 .*runtime-fallback/);
  expect(out).toMatch(/openwrt-offload drift exited 2 \(0 none, 2 drift, 1 error\); report: .*drift\.html/);
  expect(out).toMatch(/report refreshed after the repair: .*drift\.html/);
  expect(out).toMatch(/r1-mt7621-23\.05 +1 +hardware +hardware +confirmed/);
  // Every table agrees with every message printed before it in its step.
  const byStep = steps(out);
  expect(upDisagreements(byStep.get(4) ?? [])).toEqual([]);
  expect(driftDisagreements(byStep.get(5) ?? [])).toEqual([]);
  expect(upDisagreements(byStep.get(6) ?? [])).toEqual([]);
}, 180_000);

test("the agreement check catches a table from the last successful outputs and a refresh that calls everything drift", () => {
  const staleUp = [
    "  ✓ wave 1 passed",
    "  ✗ wave 3 failed: 2 of 3 routers refused/restored, over the budget of 1",
    "  pulumi up failed: fleet edge, wave 3: … r6-filogic-25.12 (refused): … r7-mt7621-unstable-hw (restored): …",
    "  router                 wave  requested  running   guard      drift",
    "  r1-mt7621-23.05        1     hardware   hardware  confirmed  none",
    "  r5-ath79-21.02         3     software   software  confirmed  none",
    "  r6-filogic-25.12       3     hardware   hardware  confirmed  none",
    "  r7-mt7621-unstable-hw  3     hardware   off       restored   guard-restored",
  ];
  expect(upDisagreements(staleUp)).toEqual([
    '"✗ wave 3 failed: 2 of 3 routers refused/restored, over the budget of 1" but the table has 1 of 3 failed in wave 3',
    "the up's error says r6-filogic-25.12 refused, its row says confirmed",
  ]);
  const loudRefresh = [
    "  pulumi refresh: drift on edge-r1-mt7621-23.05-offload, edge-r2-x86-64-23.05-offload",
    "  ROUTER                 ADDRESS          DECLARED              CONFIG    RUNNING   DRIFT",
    "  r1-mt7621-23.05        127.0.0.1:45685  hardware (policy)     software  software  local-edit",
    "  r2-x86-64-23.05        127.0.0.1:42617  software (policy)     software  software  none",
    "  2 routers: 1 in sync, 1 drifted, 0 failed",
  ];
  expect(driftDisagreements(loudRefresh)).toEqual(["refresh found drift on r1-mt7621-23.05, r2-x86-64-23.05, the drift table on r1-mt7621-23.05"]);
});
