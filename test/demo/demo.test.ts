import { spawn } from "child_process";
import * as path from "path";

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
}, 180_000);
