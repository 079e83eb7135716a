import { STOCK_FIREWALL, TestRouter } from "./harness";

describe("commit", () => {
  let r: TestRouter;
  beforeEach(() => (r = new TestRouter({ firewall: STOCK_FIREWALL })));
  afterEach(() => r.dispose());

  it("normalises the file: leading blank line, comments dropped, every value quoted", async () => {
    r.write("/etc/config/test", "# a comment\nconfig foo 'bar'\n\toption a   1 # trailing\n\tlist b x\n\nconfig baz\n");
    await r.uci(["set", "test.bar.c=it's"]);
    expect(await r.uci(["commit", "test"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(r.read("/etc/config/test")).toBe(
      "\nconfig foo 'bar'\n\toption a '1'\n\tlist b 'x'\n\toption c 'it'\\''s'\n\nconfig baz\n\n",
    );
    expect(r.read("/tmp/.uci/test")).toBe("");
    expect((await r.uci(["changes"])).stdout).toBe("");
  });

  it("does not rewrite a file without staged changes", async () => {
    expect(await r.uci(["commit", "firewall"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(r.read("/etc/config/firewall")).toBe(STOCK_FIREWALL);
    r.write("/tmp/.uci/firewall", "-firewall.nosuch\n");
    await r.uci(["commit", "firewall"]);
    expect(r.read("/etc/config/firewall")).toBe(STOCK_FIREWALL);
    expect(r.read("/tmp/.uci/firewall")).toBe("-firewall.nosuch\n");
  });

  it("stores what the staged state showed", async () => {
    await r.uci(["set", "firewall.@defaults[0].flow_offloading=1"]);
    const staged = (await r.uci(["show", "firewall"])).stdout;
    await r.uci(["commit", "firewall"]);
    expect((await r.uci(["show", "firewall"])).stdout).toBe(staged);
    expect(r.read("/etc/config/firewall")).toMatch(/^\nconfig defaults\n\toption syn_flood '1'\n/);
  });

  it("without an argument commits each package, reporting errors but exiting 0", async () => {
    r.write("/etc/config/broken", "bogus\n");
    r.write("/etc/config/test", "config a b\n");
    await r.uci(["set", "test.b.x=1"]);
    await r.uci(["set", "firewall.@defaults[0].x=1"]);
    const res = await r.uci(["commit"]);
    expect(res).toEqual({ code: 0, stdout: "", stderr: "uci: Parse error (invalid command) at line 1, byte 0\n" });
    expect(r.read("/etc/config/test")).toBe("\nconfig a 'b'\n\toption x '1'\n\n");
    expect(r.read("/etc/config/firewall")).toContain("\toption x '1'\n");
  });

  it("[ran] commit of a missing package is Entry not found", async () => {
    expect(await r.uci(["commit", "nosuch"])).toEqual({ code: 1, stdout: "", stderr: "uci: Entry not found\n" });
  });

  it("-t commits the lines of both dirs but empties only its own (they replay again later)", async () => {
    await r.uci(["add_list", "firewall.@zone[0].network=a"]);
    await r.uci(["-t", "/tmp/mine", "add_list", "firewall.@zone[0].network=b"]);
    await r.uci(["-t", "/tmp/mine", "commit", "firewall"]);
    expect(r.read("/tmp/mine/firewall")).toBe("");
    expect(r.read("/tmp/.uci/firewall")).toBe("|firewall.cfg02dc81.network='a'\n");
    expect((await r.uci(["get", "firewall.@zone[0].network"])).stdout).toBe("lan a b a\n");
  });

  it("-n names anonymous sections in the committed file", async () => {
    r.write("/etc/config/test", "config a\n\toption x 1\n");
    await r.uci(["set", "test.@a[0].y=2"]);
    await r.uci(["-n", "commit", "test"]);
    // djb("a") = 5381 * 33 + 97 = 0x2b606
    expect(r.read("/etc/config/test")).toBe("\nconfig a 'cfg01b606'\n\toption x '1'\n\toption y '2'\n\n");
  });

  it("replaces the file atomically through its symlink", async () => {
    r.write("/rom/firewall", STOCK_FIREWALL);
    r.fs.remove("/etc/config/firewall");
    r.fs.symlink("/rom/firewall", "/etc/config/firewall");
    await r.uci(["set", "firewall.@defaults[0].x=1"]);
    await r.uci(["commit", "firewall"]);
    expect(r.read("/rom/firewall")).toContain("\toption x '1'\n");
    expect(r.fs.list("/rom")).toEqual(["firewall"]);
  });

  describe("on a full overlay", () => {
    it("reports an I/O error after emptying the delta file and the config file", async () => {
      await r.uci(["set", "firewall.@defaults[0].flow_offloading=1"]);
      r.faults.overlayFull = true;
      expect(await r.uci(["commit", "firewall"])).toEqual({ code: 1, stdout: "", stderr: "uci: I/O error\n" });
      expect(r.read("/tmp/.uci/firewall")).toBe("");
      expect(r.read("/etc/config/firewall")).toBe("");
      expect(await r.uci(["show", "firewall"])).toEqual({ code: 0, stdout: "", stderr: "" });
    });

    it("leaves everything alone when nothing is staged", async () => {
      r.faults.overlayFull = true;
      expect(await r.uci(["commit", "firewall"])).toEqual({ code: 0, stdout: "", stderr: "" });
      expect(r.read("/etc/config/firewall")).toBe(STOCK_FIREWALL);
    });

    it("still stages changes (the save dir is on tmpfs) and commits a config dir on tmpfs", async () => {
      r.faults.overlayFull = true;
      r.write("/tmp/conf/test", "config a b\n");
      expect(await r.uci(["-c", "/tmp/conf", "set", "test.b.x=1"])).toEqual({ code: 0, stdout: "", stderr: "" });
      expect(await r.uci(["-c", "/tmp/conf", "commit", "test"])).toEqual({ code: 0, stdout: "", stderr: "" });
      expect(r.read("/tmp/conf/test")).toBe("\nconfig a 'b'\n\toption x '1'\n\n");
    });
  });
});
