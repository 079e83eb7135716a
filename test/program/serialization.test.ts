import { execFileSync } from "child_process";
import * as path from "path";

/** The guard must run outside jest (see the fixture for why); this only launches it and reads its verdict. */
test("every provider serializes small and secret-free, and the loaded text reaches the installed implementation", () => {
  const root = path.join(__dirname, "../..");
  const out = execFileSync(process.execPath, [path.join(root, "test/fixtures/program/serialization-guard.js")], { cwd: root, encoding: "utf8" });
  const report = JSON.parse(out) as Record<string, { length: number; containsSecrets: boolean; methods: string[]; failures: string[] }>;
  expect(Object.keys(report)).toEqual(["router", "firewallDefaults", "flowtable", "offloadPackages", "deviceOffload"]);
  for (const [kind, r] of Object.entries(report)) {
    expect({ kind, containsSecrets: r.containsSecrets, methods: r.methods }).toEqual({
      kind,
      containsSecrets: false,
      methods: ["check", "diff", "create", "read", "update", "delete"],
    });
    expect(r.length).toBeLessThan(2500);
    expect(r.failures.length).toBeGreaterThan(0);
  }
  expect(report.router.failures).toContain("hostKey");
  expect(report.firewallDefaults.failures).toContain("flowOffloading");
});
