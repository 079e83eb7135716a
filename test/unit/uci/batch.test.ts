import { STOCK_FIREWALL, TestRouter } from "./harness";
import { usageText } from "../../../sim/tools/uci/usage";

describe("uci batch", () => {
  let r: TestRouter;
  beforeEach(() => (r = new TestRouter({ firewall: STOCK_FIREWALL })));
  afterEach(() => r.dispose());

  const get = async (addr: string) => (await r.uci(["get", addr])).stdout;

  it("[ran] reports failures on stderr only and always exits 0", async () => {
    const res = await r.batch(
      [
        `set firewall.@defaults[0].flow_offloading_hw="1"`,
        "set firewall.nosuch.x=1",
        "bogus command here",
        "add firewall rule",
        `set firewall.@rule[-1].name='It'\\''s a "test"'`,
        "set firewall.@rule[-1].a b c d e",
        "delete firewall.@defaults[0].nothere",
        "",
      ].join("\n"),
    );
    expect(res).toEqual({
      code: 0,
      stdout: "cfg0e92bd\n",
      stderr: "uci: Invalid argument\nUnknown command\nToo many arguments\nuci: Entry not found\n",
    });
    expect(await get("firewall.@defaults[0].flow_offloading_hw")).toBe("1\n");
    expect(await get("firewall.cfg0e92bd.name")).toBe(`It's a "test"\n`);
    expect(r.read("/tmp/.uci/firewall")).toBe(
      "firewall.cfg01e63d.flow_offloading_hw='1'\n" +
        "+firewall.cfg0e92bd='rule'\n" +
        `firewall.cfg0e92bd.name='It'\\''s a "test"'\n`,
    );
  });

  it("saves every command immediately, so @rule[-1] after add is the new rule and commit commits", async () => {
    const res = await r.batch("add firewall rule\nset firewall.@rule[-1].name=x\ncommit firewall\n");
    expect(res).toEqual({ code: 0, stdout: "cfg0e92bd\n", stderr: "" });
    expect(r.read("/tmp/.uci/firewall")).toBe("");
    expect(r.read("/etc/config/firewall")).toMatch(/\nconfig rule\n\toption name 'x'\n\n$/);
  });

  it("stops at exit (any case) and accepts commands in any case", async () => {
    await r.batch("SET firewall.@defaults[0].a=1\nExit\nset firewall.@defaults[0].b=2\n");
    expect(await get("firewall.@defaults[0].a")).toBe("1\n");
    expect((await r.uci(["get", "firewall.@defaults[0].b"])).code).toBe(1);
  });

  it("keeps earlier commands staged when a later one fails (no transaction)", async () => {
    await r.batch("set firewall.@defaults[0].a=1\nset firewall.nosuch.b=2\n");
    expect((await r.uci(["changes"])).stdout).toBe("firewall.cfg01e63d.a='1'\n");
  });

  it("tokenises like the config syntax: quotes, escapes, comments, blank lines, continued quotes", async () => {
    const res = await r.batch(
      [
        "# a comment",
        "",
        "   \t",
        "set firewall.@defaults[0].a='single $x \\n'",
        'set firewall.@defaults[0].b="double \\"q\\" \\$x"',
        "set firewall.@defaults[0].c=un\\ quoted # trailing comment",
        "set firewall.@defaults[0].d='multi",
        "line'",
        'set "firewall.@defaults[0].e"=joined\'pie\'"ces"',
      ].join("\n"),
    );
    expect(res).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await get("firewall.@defaults[0].a")).toBe("single $x \\n\n");
    expect(await get("firewall.@defaults[0].b")).toBe('double "q" $x\n');
    expect(await get("firewall.@defaults[0].c")).toBe("un quoted\n");
    expect(await get("firewall.@defaults[0].d")).toBe("multi\nline\n");
    expect(await get("firewall.@defaults[0].e")).toBe("joinedpieces\n");
  });

  it("[ran] an unquoted ; ends the value and the rest of the line is lost", async () => {
    await r.batch("set firewall.@defaults[0].a=x;set firewall.@defaults[0].b=y\n");
    await r.batch("set firewall.@defaults[0].c='x';set firewall.@defaults[0].d=y\n");
    expect(await get("firewall.@defaults[0].a")).toBe("x\n");
    expect(await get("firewall.@defaults[0].c")).toBe("x\n");
    expect((await r.uci(["changes"])).stdout).toBe("firewall.cfg01e63d.a='x'\nfirewall.cfg01e63d.c='x'\n");
  });

  it("[ran] extra unquoted words: 4 or more are Too many arguments, 3 are an Unknown command", async () => {
    const res = await r.batch("set firewall.@defaults[0].a=x y z\nset firewall.@defaults[0].b=x y\n");
    expect(res).toEqual({ code: 0, stdout: "", stderr: "Too many arguments\nUnknown command\n" });
    expect((await r.uci(["changes"])).stdout).toBe("");
  });

  it("does not nest batches; help prints the usage", async () => {
    expect(await r.batch("batch\nhelp\n")).toEqual({ code: 0, stdout: "", stderr: `Unknown command\n${usageText("uci")}` });
  });

  it("reports an unterminated quote at end of input with its position", async () => {
    const res = await r.batch("set firewall.@defaults[0].x='abc\n");
    expect(res).toEqual({ code: 0, stdout: "", stderr: "uci: Parse error (EOF with unterminated ') at line 1, byte 33\n" });
  });

  it("reports a bad address with the batch's own parse position, counted since the last package load", async () => {
    const res = await r.batch(
      [
        "set firewall.@defaults[0].bad-name=1",
        "set firewall.@defaults[0].a=1",
        "# loading firewall above replaced the parse context",
        "set firewall.@defaults[0].bad-name=1",
        "",
      ].join("\n"),
    );
    expect(res.stderr).toBe(
      "uci: Parse error (unknown) at line 1, byte 0\nuci: Parse error (unknown) at line 2, byte 0\n",
    );
  });

  it("is silent with -q and reads commands from -f", async () => {
    r.write("/root/cmds", "set firewall.nosuch.x=1\nbogus\nset firewall.@defaults[0].a=1\n");
    expect(await r.uci(["-q", "-f", "/root/cmds", "batch"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await get("firewall.@defaults[0].a")).toBe("1\n");
    expect(await r.uci(["-f", "cmds", "batch"])).toEqual({ code: 0, stdout: "", stderr: "uci: Invalid argument\nUnknown command\n" });
  });

  it("runs show and get, printing to stdout in order", async () => {
    const res = await r.batch("get firewall.@zone[0].name\nshow firewall.@zone[1].network\n");
    expect(res.stdout).toBe("lan\nfirewall.cfg03dc81.network='wan' 'wan6'\n");
  });

  it("import inside a batch reads the rest of the input", async () => {
    await r.batch("import extra\nconfig thing 'one'\n\toption x 1\n");
    expect(r.read("/etc/config/extra")).toBe("\nconfig thing 'one'\n\toption x '1'\n\n");
  });
});
