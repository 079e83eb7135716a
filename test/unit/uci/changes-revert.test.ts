import { STOCK_FIREWALL, TestRouter } from "./harness";

describe("staged changes: changes, revert, delta dirs", () => {
  let r: TestRouter;
  beforeEach(() => (r = new TestRouter({ firewall: STOCK_FIREWALL, network: "config interface lan\n" })));
  afterEach(() => r.dispose());

  const delta = () => r.read("/tmp/.uci/firewall");

  it("changes without an argument lists every package in order", async () => {
    await r.uci(["set", "network.lan.proto=static"]);
    await r.uci(["set", "firewall.@defaults[0].a=1"]);
    expect((await r.uci(["changes"])).stdout).toBe("firewall.cfg01e63d.a='1'\nnetwork.lan.proto='static'\n");
  });

  it("lists staged lines even when they no longer apply", async () => {
    r.write("/tmp/.uci/firewall", "-firewall.nosuch\nfirewall.cfg01e63d.a='1'\n");
    expect((await r.uci(["changes", "firewall"])).stdout).toBe("-firewall.nosuch\nfirewall.cfg01e63d.a='1'\n");
  });

  it("skips malformed delta lines silently (trailing parts, missing values, other packages)", async () => {
    r.write(
      "/tmp/.uci/firewall",
      [
        "firewall.foo bar",
        "+firewall.foo",
        "|firewall.foo.bar",
        "^firewall.cfg01e63d.x='1'",
        "firewall.@zone[0].x='1'",
        "network.lan.x='1'",
        "firewall.cfg01e63d.ok='yes'",
        "",
      ].join("\n"),
    );
    expect(await r.uci(["changes", "firewall"])).toEqual({ code: 0, stdout: "firewall.cfg01e63d.ok='yes'\n", stderr: "" });
    expect((await r.uci(["get", "firewall.@defaults[0].ok"])).stdout).toBe("yes\n");
  });

  it("revert of a package empties its delta file", async () => {
    await r.uci(["set", "firewall.@defaults[0].a=1"]);
    expect(await r.uci(["revert", "firewall"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(delta()).toBe("");
    expect((await r.uci(["changes"])).stdout).toBe("");
  });

  it("revert of a section or option drops only the matching lines", async () => {
    await r.uci(["set", "firewall.@defaults[0].a=1"]);
    await r.uci(["set", "firewall.@defaults[0].b=2"]);
    await r.uci(["set", "firewall.@zone[0].c=3"]);
    await r.uci(["revert", "firewall.@defaults[0].a"]);
    expect(delta()).toBe("firewall.cfg01e63d.b='2'\nfirewall.cfg02dc81.c='3'\n");
    await r.uci(["revert", "firewall.@defaults[0]"]);
    expect(delta()).toBe("firewall.cfg02dc81.c='3'\n");
  });

  it("[ran] revert of a section also drops its staged rename", async () => {
    await r.uci(["rename", "firewall.cfg02dc81=lan_zone"]);
    await r.uci(["set", "firewall.lan_zone.x=1"]);
    await r.uci(["revert", "firewall.cfg02dc81"]);
    expect(delta()).toBe("firewall.lan_zone.x='1'\n");
    expect((await r.uci(["get", "firewall.cfg02dc81.name"])).stdout).toBe("lan\n");
  });

  it("revert leaves the file alone when a line does not parse, and succeeds without a delta file", async () => {
    r.write("/tmp/.uci/firewall", "firewall.cfg01e63d.a='1'\ngarbage here\n");
    expect(await r.uci(["revert", "firewall"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(delta()).toBe("firewall.cfg01e63d.a='1'\ngarbage here\n");
    expect(await r.uci(["revert", "network"])).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("revert of a missing package is Entry not found", async () => {
    expect(await r.uci(["revert", "nosuch"])).toEqual({ code: 1, stdout: "", stderr: "uci: Entry not found\n" });
  });

  it("replays -p dirs before the save dir and never rewrites them", async () => {
    r.write("/var/state/firewall", "firewall.cfg01e63d.a='from-p'\n");
    await r.uci(["set", "firewall.@defaults[0].b=saved"]);
    const res = await r.uci(["-p", "/var/state", "changes", "firewall"]);
    expect(res.stdout).toBe("firewall.cfg01e63d.a='from-p'\nfirewall.cfg01e63d.b='saved'\n");
    await r.uci(["-p", "/var/state", "revert", "firewall"]);
    expect(r.read("/var/state/firewall")).toBe("firewall.cfg01e63d.a='from-p'\n");
    expect((await r.uci(["-p", "/var/state", "get", "firewall.@defaults[0].a"])).stdout).toBe("from-p\n");
    expect((await r.uci(["get", "firewall.@defaults[0].a"])).code).toBe(1);
  });

  it("-t saves elsewhere but still reads /tmp/.uci; -P also makes commit a silent no-op", async () => {
    await r.uci(["set", "firewall.@defaults[0].a=1"]);
    await r.uci(["-t", "/tmp/mine", "set", "firewall.@defaults[0].b=2"]);
    expect(r.read("/tmp/mine/firewall")).toBe("firewall.cfg01e63d.b='2'\n");
    expect((await r.uci(["changes"])).stdout).toBe("firewall.cfg01e63d.a='1'\n");
    expect((await r.uci(["-t", "/tmp/mine", "changes"])).stdout).toBe(
      "firewall.cfg01e63d.a='1'\nfirewall.cfg01e63d.b='2'\n",
    );
    const before = r.read("/etc/config/firewall");
    expect(await r.uci(["-P", "/tmp/mine", "commit", "firewall"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(r.read("/etc/config/firewall")).toBe(before);
  });
});
