import { STOCK_FIREWALL, TestRouter } from "./harness";

const SMALL = `
config defaults
	option syn_flood 1
	option flow_offloading 1

config zone lan_zone
	option name lan

config zone
	list network wan
	list network wan6

config rule
	option comment "it's quoted"
`;

describe("show and get output", () => {
  let r: TestRouter;
  beforeEach(() => (r = new TestRouter({ firewall: SMALL, test: "config foo bar\n\tlist y 'c d'\n\tlist y e\n" })));
  afterEach(() => r.dispose());

  it("[ran] shows a package with @type[i] refs, named sections by name, every value quoted", async () => {
    expect(await r.uci(["show", "firewall"])).toEqual({
      code: 0,
      stderr: "",
      stdout:
        "firewall.@defaults[0]=defaults\n" +
        "firewall.@defaults[0].syn_flood='1'\n" +
        "firewall.@defaults[0].flow_offloading='1'\n" +
        "firewall.lan_zone=zone\n" +
        "firewall.lan_zone.name='lan'\n" +
        "firewall.@zone[1]=zone\n" +
        "firewall.@zone[1].network='wan' 'wan6'\n" +
        "firewall.@rule[0]=rule\n" +
        "firewall.@rule[0].comment='it'\\''s quoted'\n",
    });
  });

  it("-X shows real names", async () => {
    const res = await r.uci(["-X", "show", "firewall"]);
    expect(res.stdout.split("\n").filter((l) => !l.includes("'"))).toEqual([
      "firewall.cfg01e63d=defaults",
      "firewall.lan_zone=zone",
      "firewall.cfg03dc81=zone",
      "firewall.cfg0492bd=rule",
      "",
    ]);
  });

  it("[ran] shows a single section or option by its real name", async () => {
    expect((await r.uci(["show", "firewall.@defaults[0]"])).stdout).toBe(
      "firewall.cfg01e63d=defaults\nfirewall.cfg01e63d.syn_flood='1'\nfirewall.cfg01e63d.flow_offloading='1'\n",
    );
    expect((await r.uci(["show", "firewall.@zone[1].network"])).stdout).toBe("firewall.cfg03dc81.network='wan' 'wan6'\n");
  });

  it("[ran] -d changes the list delimiter for show and get", async () => {
    expect((await r.uci(["-d,", "get", "firewall.@zone[1].network"])).stdout).toBe("wan,wan6\n");
    expect((await r.uci(["-d", "|", "show", "firewall.@zone[1].network"])).stdout).toBe(
      "firewall.cfg03dc81.network='wan'|'wan6'\n",
    );
  });

  it("[ran] get quotes a list item only when it contains whitespace", async () => {
    expect(await r.uci(["get", "test.bar.y"])).toEqual({ code: 0, stdout: "'c d' e\n", stderr: "" });
  });

  it("get prints strings raw and a section's type", async () => {
    expect((await r.uci(["get", "firewall.@rule[0].comment"])).stdout).toBe("it's quoted\n");
    expect((await r.uci(["get", "firewall.lan_zone"])).stdout).toBe("zone\n");
  });

  it("get of a bare package prints nothing and succeeds (quirk)", async () => {
    expect(await r.uci(["get", "firewall"])).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("get with a value fails silently", async () => {
    expect(await r.uci(["get", "firewall.lan_zone.name=x"])).toEqual({ code: 1, stdout: "", stderr: "" });
  });

  it("prints newlines in values raw inside the quotes", async () => {
    await r.uci(["set", "test.bar.z=line1\nline2"]);
    expect((await r.uci(["show", "test"])).stdout).toBe(
      "test.bar=foo\ntest.bar.y='c d' 'e'\ntest.bar.z='line1\nline2'\n",
    );
  });

  it("show without arguments lists every package in the config dir, skipping names with a dot", async () => {
    r.write("/etc/config/firewall.bak", "config junk\n");
    r.fs.mkdirp("/etc/config/subdir");
    const res = await r.uci(["show"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe((await r.uci(["show", "firewall"])).stdout + (await r.uci(["show", "test"])).stdout);
  });

  it("[ran] show and get report missing things as Entry not found", async () => {
    const notFound = { code: 1, stdout: "", stderr: "uci: Entry not found\n" };
    for (const addr of ["nosuch", "firewall.nosuch", "firewall.lan_zone.nosuch"]) {
      expect(await r.uci(["show", addr])).toEqual(notFound);
    }
    for (const addr of ["nosuch.x", "firewall.nosuch", "firewall.lan_zone.nosuch"]) {
      expect(await r.uci(["get", addr])).toEqual(notFound);
    }
  });

  it("shows the stock firewall lists with every item quoted", async () => {
    r.write("/etc/config/firewall", STOCK_FIREWALL);
    expect((await r.uci(["show", "firewall.@rule[4].icmp_type"])).stdout).toBe(
      "firewall.cfg0992bd.icmp_type='130/0' '131/0' '132/0' '143/0'\n",
    );
  });
});
