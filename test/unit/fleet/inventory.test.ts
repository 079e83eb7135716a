import { parseInventory, InventoryError } from "../../../provider/fleet/inventory";
import { planWaves } from "../../../provider/fleet/waves";
import { decideMode, type PolicyFacts } from "../../../provider/fleet/policy";

const FP = "SHA256:" + "A".repeat(43);

function issuesOf(text: string): string[] {
  try {
    parseInventory(text, "fleet.yaml");
  } catch (err) {
    if (err instanceof InventoryError) return err.issues.map((i) => `${i.line}: ${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe("inventory", () => {
  test("defaults are inherited, labels and overrides kept, lines recorded", () => {
    const inv = parseInventory(
      [
        "defaults:",
        "  user: admin",
        "  passwordEnv: HOME",
        "  hostKey: " + FP,
        "routers:",
        "  - name: edge-1",
        "    host: 192.0.2.1",
        "    labels: { site: ams }",
        "  - { name: edge-2, host: 192.0.2.2, port: 2222, mode: software }",
        "",
      ].join("\n"),
    );
    expect(inv.routers.map((r) => [r.name, r.user, r.port, r.labels, r.mode, r.line])).toEqual([
      ["edge-1", "admin", 22, { site: "ams" }, undefined, 6],
      ["edge-2", "admin", 2222, {}, "software", 9],
    ]);
  });

  test("every problem is reported with its line, field and fix", () => {
    const issues = issuesOf(
      [
        "routers:",
        "  - name: edge-1",
        "    host: 192.0.2.1",
        "    port: 70000",
        "    passwordEnv: HOME",
        "    hostKey: " + FP,
        "  - name: edge-1",
        "    host: 192.0.2.2",
        "    passwordEnv: HOME",
        "    hostKey: " + FP,
        "  - name: edge-3",
        "    host: 192.0.2.3",
        "    passwordEnv: HOME",
        "  - name: edge 4",
        "    host: 192.0.2.4",
        "    mode: turbo",
        "colour: blue",
        "",
      ].join("\n"),
    );
    expect(issues).toEqual([
      "17: colour: is not an inventory key (use defaults and routers)",
      expect.stringMatching(/^4: routers\[0\]\.port: Too big/),
      `7: routers[1].name: "edge-1" is already used at line 2; names must be unique`,
      expect.stringMatching(/^11: routers\[2\]\.hostKey: is required: set hostKey to the router's SHA256 fingerprint .*or insecureIgnoreHostKey: true/),
      expect.stringMatching(/^14: routers\[3\]\.name: must be a name of letters/),
      expect.stringMatching(/^16: routers\[3\]\.mode: Invalid option/),
    ]);
  });

  test("the fixes suggested are settings an inventory accepts, and following them works", () => {
    const bare = ["routers:", "  - name: edge-1", "    host: 192.0.2.1", ""].join("\n");
    const issues = issuesOf(bare);
    expect(issues).toEqual([
      expect.stringMatching(/^2: routers\[0\]\.hostKey: is required: set hostKey .*, or insecureIgnoreHostKey: true to skip verification \(unsafe\)$/),
      "2: routers[0].identityFile: no way to log in: set identityFile (a private key file), privateKey (the key itself) or passwordEnv (an environment variable holding the password)",
    ]);
    expect(issues.join("\n")).not.toMatch(/trustOnFirstUse|agentSocketPath|set password/);
    expect(parseInventory(`${bare}    insecureIgnoreHostKey: true\n    passwordEnv: HOME\n`).routers).toHaveLength(1);
    expect(issuesOf(`${bare}    hostKey: ${FP}\n    insecureIgnoreHostKey: true\n    passwordEnv: HOME\n`)).toEqual(["5: routers[0].insecureIgnoreHostKey: and hostKey exclude each other: set one of them"]);
  });

  test("YAML syntax errors carry their line", () => {
    expect(issuesOf("routers:\n  - name: a\n    host: [unclosed\n")).toEqual([expect.stringMatching(/^\d+: \(syntax\): /)]);
  });
});

describe("waves", () => {
  const ten = Array.from({ length: 10 }, (_, i) => `r${i}`);
  test("canary first, then fixed or percentage waves, everyone exactly once", () => {
    expect(planWaves(ten, { canary: 1, size: 3 })).toEqual([["r0"], ["r1", "r2", "r3"], ["r4", "r5", "r6"], ["r7", "r8", "r9"]]);
    expect(planWaves(ten, { canary: 2, size: "50%" }).map((w) => w.length)).toEqual([2, 5, 3]);
    expect(planWaves(["a"], {})).toEqual([["a"]]);
    expect(() => planWaves(ten, { size: "150%" })).toThrow(/percentage like "25%"/);
  });
});

describe("policy", () => {
  const base: PolicyFacts = {
    name: "r",
    labels: {},
    target: "ramips/mt7621",
    firewall: "fw4",
    kernel: "5.15.162",
    kernelSupported: true,
    hwOffloadCapable: true,
    sqm: [],
    zones: [{ name: "wan", networks: ["wan", "wan6"], devices: ["wan"] }],
  };
  test("auto: hardware where capable, software elsewhere, SQM per sqmPolicy, overrides win", () => {
    expect(decideMode("auto", base).mode).toBe("hardware");
    expect(decideMode("auto", { ...base, hwOffloadCapable: false, target: "x86/64" })).toEqual({ mode: "software", reason: "x86/64 has no flow engine usable by nftables" });
    const sqm = { ...base, sqm: [{ name: "wan", enabled: true, interface: "wan" }] };
    expect(decideMode("auto", sqm).mode).toBe("software");
    expect(decideMode("auto", sqm, undefined, "off").mode).toBe("off");
    expect(decideMode("auto", sqm, undefined, "ignore").mode).toBe("hardware");
    expect(decideMode("auto", base, "off")).toEqual({ mode: "off", reason: "set for this router in the inventory" });
    expect(decideMode("software", base).mode).toBe("software");
    expect(decideMode((f) => (f.labels.role === "core" ? "off" : "hardware"), { ...base, labels: { role: "core" } }).mode).toBe("off");
  });
});
