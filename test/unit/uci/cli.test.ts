import { usageText } from "../../../sim/tools/uci/usage";
import { STOCK_FIREWALL, TestRouter } from "./harness";

const USAGE = usageText("uci");

describe("uci command line", () => {
  let r: TestRouter;
  beforeEach(() => (r = new TestRouter({ firewall: STOCK_FIREWALL })));
  afterEach(() => r.dispose());

  it("prints the usage text as real uci does", () => {
    expect(USAGE.split("\n").slice(0, 4)).toEqual(["Usage: uci [<options>] <command> [<arguments>]", "", "Commands:", "\tbatch"]);
    expect(USAGE).toContain("\tdelete     <config>[.<section>[[.<option>][=<id>]]]\n");
    expect(USAGE).toContain("\t-t <path>  set save path for config change files\n");
    expect(USAGE.endsWith("\t-X         do not use extended syntax on 'show'\n\n")).toBe(true);
  });

  it("with no command prints the usage and exits 0, as do help and -L", async () => {
    const usage = { code: 0, stdout: "", stderr: USAGE };
    expect(await r.uci([])).toEqual(usage);
    expect(await r.uci(["-q"])).toEqual(usage);
    expect(await r.uci(["help"])).toEqual(usage);
    expect(await r.uci(["-L", "show"])).toEqual(usage);
  });

  it("prints getopt's complaint and the usage for a bad option, exiting 0", async () => {
    expect(await r.uci(["-z", "show"])).toEqual({ code: 0, stdout: "", stderr: `uci: unrecognized option: z\n${USAGE}` });
    expect(await r.uci(["-c"])).toEqual({ code: 0, stdout: "", stderr: `uci: option requires an argument: c\n${USAGE}` });
  });

  it.each([
    [["get"]],
    [["set"]],
    [["get", "a", "b"]],
    [["add", "firewall"]],
    [["show", "a", "b"]],
    [["nosuchcommand"]],
    [["batch2"]],
    [["show", "-X", "firewall"]],
  ])("usage errors %j print the usage on stderr and exit 255", async (args) => {
    expect(await r.uci(args)).toEqual({ code: 255, stdout: "", stderr: USAGE });
  });

  it("takes options grouped, with attached or separate arguments, up to -- or the command", async () => {
    r.write("/other/conf/test", "config a 'b'\n\tlist l 'x'\n\tlist l 'y'\n");
    expect((await r.uci(["-qXd", ",", "-c/other/conf", "--", "show", "test"])).stdout).toBe("test.b=a\ntest.b.l='x','y'\n");
    expect((await r.uci(["-c", "../other/conf", "get", "test.b.l"])).stdout).toBe("x y\n");
  });

  it("accepts commands in any case and the ren/del aliases", async () => {
    expect(await r.uci(["GET", "firewall.@zone[0].name"])).toEqual({ code: 0, stdout: "lan\n", stderr: "" });
    await r.uci(["Ren", "firewall.@zone[0]=lan"]);
    await r.uci(["DEL", "firewall.lan.input"]);
    expect(r.read("/tmp/.uci/firewall")).toBe("@firewall.cfg02dc81='lan'\n-firewall.lan.input\n");
  });

  it("-f: a missing file and a second -f are errors", async () => {
    expect(await r.uci(["-f", "/nope", "batch"])).toEqual({ code: 1, stdout: "", stderr: "uci: No such file or directory" });
    expect(await r.uci(["-q", "-f", "/nope", "batch"])).toEqual({ code: 1, stdout: "", stderr: "" });
    r.write("/root/a", "");
    expect(await r.uci(["-f", "/root/a", "-f", "/root/a", "batch"])).toEqual({
      code: 1,
      stdout: "",
      stderr: "Too many input files.\n",
    });
  });

  it("only reads stdin for batch and import", async () => {
    await r.uci(["show", "firewall.@zone[0].name"], "ignored");
    await r.uci(["-f", "/etc/config/firewall", "import", "copy"]);
    expect(r.stdinReads).toBe(0);
    await r.uci(["Batch"], "");
    expect(r.stdinReads).toBe(1);
  });

  describe("[ran] error table", () => {
    const notFound = { code: 1, stdout: "", stderr: "uci: Entry not found\n" };
    const inval = { code: 1, stdout: "", stderr: "uci: Invalid argument\n" };
    const parse = { code: 1, stdout: "", stderr: "uci: Parse error\n" };

    it("missing package/section/option: Entry not found, exit 1", async () => {
      expect(await r.uci(["get", "nosuch.a.b"])).toEqual(notFound);
      expect(await r.uci(["get", "firewall.nosuch"])).toEqual(notFound);
      expect(await r.uci(["show", "firewall.@defaults[0].nosuch"])).toEqual(notFound);
      expect(await r.uci(["delete", "firewall.@defaults[0].nosuch"])).toEqual(notFound);
      expect(await r.uci(["commit", "nosuch"])).toEqual(notFound);
      expect(await r.uci(["changes", "nosuch"])).toEqual(notFound);
      expect(await r.uci(["export", "nosuch"])).toEqual(notFound);
    });

    it("set into a missing section, @type[N] out of range on set, malformed @…[: Invalid argument, exit 1", async () => {
      expect(await r.uci(["set", "firewall.nosuch.x=1"])).toEqual(inval);
      expect(await r.uci(["set", "firewall.@rule[99].x=1"])).toEqual(inval);
      expect(await r.uci(["set", "firewall.@defaults[0.x=1"])).toEqual(inval);
      expect(r.read("/tmp/.uci/firewall")).toBeUndefined();
    });

    it("reorder of a missing section: Entry not found, exit 1", async () => {
      expect(await r.uci(["reorder", "firewall.nosuch=1"])).toEqual(notFound);
    });

    it("4 dotted parts, `-` in an option name, control characters in a value: Parse error, exit 1", async () => {
      expect(await r.uci(["get", "firewall.a.b.c"])).toEqual(parse);
      expect(await r.uci(["set", "firewall.@defaults[0].a-b=1"])).toEqual(parse);
      expect(await r.uci(["set", "firewall.@defaults[0].a=x\x01y"])).toEqual(parse);
      expect(await r.uci(["set", "fire wall.a.b=1"])).toEqual(parse);
    });

    it("a `-` in a section name is looked up as @type[i] and fails as Invalid argument", async () => {
      expect(await r.uci(["set", "firewall.my-zone=zone"])).toEqual(inval);
    });

    it("-q prints nothing and keeps the exit codes", async () => {
      expect(await r.uci(["-q", "get", "firewall.nosuch"])).toEqual({ code: 1, stdout: "", stderr: "" });
      expect(await r.uci(["-q", "set", "firewall.nosuch.x=1"])).toEqual({ code: 1, stdout: "", stderr: "" });
      expect(await r.uci(["-q", "get", "firewall.a.b.c"])).toEqual({ code: 1, stdout: "", stderr: "" });
      expect(await r.uci(["-q", "add", "nosuch", "x"])).toEqual({ code: 3, stdout: "", stderr: "" });
    });

    it("[ran] multi-package forms print the error for a bad package and still exit 0", async () => {
      r.write("/etc/config/broken", "config a\nbogus\n");
      const err = "uci: Parse error (invalid command) at line 2, byte 0\n";
      for (const cmd of ["show", "changes", "export", "commit"]) {
        const res = await r.uci([cmd]);
        expect(res.code).toBe(0);
        expect(res.stderr).toBe(err);
      }
    });

    it("multi-package forms on an empty config dir: Entry not found, exit 1", async () => {
      r.fs.remove("/etc/config/firewall");
      expect(await r.uci(["show"])).toEqual(notFound);
    });
  });

  it("prefixes messages with argv[0]", async () => {
    let stderr = "";
    const { uciTool } = await import("../../../sim/tools/uci");
    const code = await uciTool({
      argv: ["/sbin/uci", "get", "firewall.nosuch"],
      cwd: "/",
      env: {},
      fs: r.fs,
      router: { faults: r.faults } as never,
      readStdin: async () => Buffer.alloc(0),
      stdout: () => undefined,
      stderr: (d) => (stderr += d.toString()),
      run: async () => ({ code: 0, stdout: "", stderr: "" }),
    });
    expect({ code, stderr }).toEqual({ code: 1, stderr: "/sbin/uci: Entry not found\n" });
  });
});
