import { STOCK_FIREWALL, TestRouter } from "./harness";

describe("export and import", () => {
  let r: TestRouter;
  beforeEach(() => (r = new TestRouter({ firewall: STOCK_FIREWALL })));
  afterEach(() => r.dispose());

  it("[ran] exports with a package line, unquoted types, quoted values and a final blank line", async () => {
    const res = await r.uci(["export", "firewall"]);
    expect(res.code).toBe(0);
    expect(res.stdout.startsWith(
      "package firewall\n\nconfig defaults\n\toption syn_flood '1'\n\toption input 'REJECT'\n" +
        "\toption output 'ACCEPT'\n\toption forward 'REJECT'\n\nconfig zone\n\toption name 'lan'\n\tlist network 'lan'\n",
    )).toBe(true);
    expect(res.stdout).toContain("\nconfig zone\n\toption name 'wan'\n\tlist network 'wan'\n\tlist network 'wan6'\n");
    expect(res.stdout.endsWith("\toption target 'ACCEPT'\n\n")).toBe(true);
  });

  it("exports staged changes; -n names anonymous sections (the default is unnamed)", async () => {
    await r.uci(["set", "firewall.@defaults[0].flow_offloading=it's"]);
    const res = await r.uci(["-n", "export", "firewall"]);
    expect(res.stdout).toMatch(/^package firewall\n\nconfig defaults 'cfg01e63d'\n/);
    expect(res.stdout).toContain("\toption flow_offloading 'it'\\''s'\n\nconfig zone 'cfg02dc81'\n");
  });

  it("exports every package without an argument", async () => {
    r.write("/etc/config/a", "config x y\n");
    const res = await r.uci(["export"]);
    expect(res.stdout).toBe("package a\n\nconfig x 'y'\n\n" + (await r.uci(["export", "firewall"])).stdout);
  });

  it("imports over the file directly, leaving staged deltas to be replayed on top", async () => {
    await r.uci(["set", "firewall.@defaults[0].x=1"]);
    const res = await r.uci(["import", "firewall"], "# new\nconfig defaults\n\toption input ACCEPT\n");
    expect(res).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(r.read("/etc/config/firewall")).toBe("\nconfig defaults\n\toption input 'ACCEPT'\n\n");
    expect((await r.uci(["show", "firewall"])).stdout).toBe(
      "firewall.@defaults[0]=defaults\nfirewall.@defaults[0].input='ACCEPT'\nfirewall.@defaults[0].x='1'\n",
    );
  });

  it("imports several packages named by package lines, and creates new files", async () => {
    const res = await r.uci(["import"], "package one\nconfig a\n\toption x 1\npackage 'two'\nconfig b 'n'\n");
    expect(res).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(r.read("/etc/config/one")).toBe("\nconfig a\n\toption x '1'\n\n");
    expect(r.read("/etc/config/two")).toBe("\nconfig b 'n'\n\n");
  });

  it("ignores package lines when a package is named, and writes an empty package for empty input", async () => {
    await r.uci(["import", "mine"], "package other\nconfig a 'b'\n");
    expect(r.read("/etc/config/mine")).toBe("\nconfig a 'b'\n\n");
    expect(r.read("/etc/config/other")).toBeUndefined();
    await r.uci(["import", "empty"], "");
    expect(r.read("/etc/config/empty")).toBe("\n");
  });

  it("reports errors and writes nothing", async () => {
    expect(await r.uci(["import"], "config a\n")).toEqual({
      code: 1,
      stdout: "",
      stderr: "uci: Parse error (attempting to import a file without a package name) at line 1, byte 0\n",
    });
    expect(await r.uci(["import"], "package a\npackage a\n")).toEqual({ code: 1, stdout: "", stderr: "uci: Duplicate entry\n" });
    expect(await r.uci(["import", "x"], "config a\n\tbogus\n")).toEqual({
      code: 1,
      stdout: "",
      stderr: "uci: Parse error (invalid command) at line 2, byte 1\n",
    });
    expect(await r.uci(["import", "bad.name"], "")).toEqual({ code: 1, stdout: "", stderr: "uci: Invalid argument\n" });
    expect(r.fs.list("/etc/config")).toEqual(["firewall"]);
  });

  it("-S imports around bad lines, printing them", async () => {
    const res = await r.uci(["-S", "import", "x"], "config a b\n\tbogus\n\toption y 1\n");
    expect(res).toEqual({ code: 0, stdout: "", stderr: "Parse error (invalid command) at line 2, byte 1\n" });
    expect(r.read("/etc/config/x")).toBe("\nconfig a 'b'\n\toption y '1'\n\n");
  });

  it("-m merges into the loaded package as staged changes (upstream test import_merge)", async () => {
    r.write(
      "/etc/config/import-test",
      "config type 'section1'\n\toption 'opt' 'val'\n\n\tlist 'list_opt' 'val0'\n\tlist 'list_opt' 'val1'\n\n" +
        "config type 'section3'\n\toption 'opt' 'val4'\n\tlist 'list_opt' 'val5'\n\tlist 'list_opt' 'val6'\n",
    );
    const input =
      "package 'import-test'\n\nconfig type 'section2'\n\toption 'opt' 'val4'\n\tlist 'list_opt' 'val5'\n" +
      "\tlist 'list_opt' 'val6'\n\nconfig type 'section3'\n\toption 'opt' 'val7'\n\toption 'opt2' 'val8'\n\n";
    expect(await r.uci(["-m", "import", "import-test"], input)).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(r.read("/tmp/.uci/import-test")).toBe(
      "import-test.section2='type'\n" +
        "import-test.section2.opt='val4'\n" +
        "|import-test.section2.list_opt='val5'\n" +
        "|import-test.section2.list_opt='val6'\n" +
        "import-test.section3='type'\n" +
        "import-test.section3.opt='val7'\n" +
        "import-test.section3.opt2='val8'\n",
    );
    await r.uci(["commit"]);
    expect(r.read("/etc/config/import-test")).toBe(
      "\nconfig type 'section1'\n\toption opt 'val'\n\tlist list_opt 'val0'\n\tlist list_opt 'val1'\n\n" +
        "config type 'section3'\n\toption opt 'val7'\n\tlist list_opt 'val5'\n\tlist list_opt 'val6'\n\toption opt2 'val8'\n\n" +
        "config type 'section2'\n\toption opt 'val4'\n\tlist list_opt 'val5'\n\tlist list_opt 'val6'\n\n",
    );
  });

  it("-m numbers new anonymous sections after the loaded ones", async () => {
    await r.uci(["-m", "import", "firewall"], "config rule\n\toption name x\n");
    expect(r.read("/tmp/.uci/firewall")).toBe("+firewall.cfg0e92bd='rule'\nfirewall.cfg0e92bd.name='x'\n");
  });

  it("-m without a package, or extra arguments, is a usage error", async () => {
    expect((await r.uci(["-m", "import"], "")).code).toBe(255);
    expect((await r.uci(["import", "a", "b"], "")).code).toBe(255);
  });

  it("-m on a missing package imports it as a new file", async () => {
    await r.uci(["-m", "import", "fresh"], "config a 'b'\n");
    expect(r.read("/etc/config/fresh")).toBe("\nconfig a 'b'\n\n");
  });

  it("reads the input from -f", async () => {
    r.write("/root/in.conf", "config a 'b'\n");
    expect(await r.uci(["-f", "/root/in.conf", "import", "fromfile"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(r.read("/etc/config/fromfile")).toBe("\nconfig a 'b'\n\n");
  });

  it("on a full overlay leaves an empty file and reports an I/O error", async () => {
    r.faults.overlayFull = true;
    expect(await r.uci(["import", "firewall"], "config defaults\n")).toEqual({ code: 1, stdout: "", stderr: "uci: I/O error\n" });
    expect(r.read("/etc/config/firewall")).toBe("");
  });
});
