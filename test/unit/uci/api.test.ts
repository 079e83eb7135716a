import { UciError, exportPackage, loadEffectivePackage, parseConfig } from "../../../sim/tools/uci";
import { STOCK_FIREWALL, TestRouter } from "./harness";

describe("exported API", () => {
  let r: TestRouter;
  beforeEach(() => (r = new TestRouter({ firewall: STOCK_FIREWALL })));
  afterEach(() => r.dispose());

  it("loadEffectivePackage returns the staged state, exactly what show prints", async () => {
    await r.uci(["set", "firewall.@defaults[0].flow_offloading=1"]);
    await r.uci(["add", "firewall", "rule"]);
    const p = loadEffectivePackage(r.fs, "firewall")!;
    expect(p.name).toBe("firewall");
    expect(p.sections).toHaveLength(14);
    expect(p.sections[0]).toEqual({
      name: "cfg01e63d",
      type: "defaults",
      anonymous: true,
      options: new Map([
        ["syn_flood", "1"],
        ["input", "REJECT"],
        ["output", "ACCEPT"],
        ["forward", "REJECT"],
        ["flow_offloading", "1"],
      ]),
    });
    expect(p.sections[2].options.get("network")).toEqual(["wan", "wan6"]);
    expect(p.sections[13]).toMatchObject({ name: "cfg0e92bd", type: "rule", anonymous: true });
  });

  it("loadEffectivePackage is undefined for a missing package and honours confDir and saveDirs", async () => {
    expect(loadEffectivePackage(r.fs, "nosuch")).toBeUndefined();
    expect(loadEffectivePackage(r.fs, "bad name")).toBeUndefined();
    r.write("/tmp/conf/x", "config a 'b'\n");
    r.write("/tmp/session/x", "x.b.o='1'\n");
    expect(loadEffectivePackage(r.fs, "x", { confDir: "/tmp/conf" })!.sections[0].options.size).toBe(0);
    const staged = loadEffectivePackage(r.fs, "x", { confDir: "/tmp/conf", saveDirs: ["/tmp/session"] })!;
    expect(staged.sections[0].options.get("o")).toBe("1");
  });

  it("loadEffectivePackage throws uci's parse error for a broken file", () => {
    r.write("/etc/config/firewall", "config a\n\tbogus\n");
    expect(() => loadEffectivePackage(r.fs, "firewall")).toThrow(
      new UciError(5, { reason: "invalid command", line: 2, byte: 1 }),
    );
    expect(() => loadEffectivePackage(r.fs, "firewall")).toThrow("Parse error (invalid command) at line 2, byte 1");
  });

  it("parseConfig and exportPackage round-trip the committed format", () => {
    const p = parseConfig(STOCK_FIREWALL, "firewall");
    const text = exportPackage(p);
    expect(text.startsWith("\nconfig defaults\n\toption syn_flood '1'\n")).toBe(true);
    expect(exportPackage(parseConfig(text, "firewall"))).toBe(text);
    expect(exportPackage(p, { named: true })).toContain("\nconfig defaults 'cfg01e63d'\n");
    expect(exportPackage({ name: "empty", sections: [] }, { header: true })).toBe("package empty\n\n");
  });

  it("exportPackage writes what uci commit writes", async () => {
    await r.uci(["set", "firewall.@defaults[0].flow_offloading=1"]);
    const staged = exportPackage(loadEffectivePackage(r.fs, "firewall")!);
    await r.uci(["commit", "firewall"]);
    expect(r.read("/etc/config/firewall")).toBe(staged);
  });
});
