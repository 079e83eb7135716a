import { STOCK_FIREWALL, TestRouter } from "./harness";

describe("addressing: package[.section[.option]][=value] and @type[index]", () => {
  let r: TestRouter;
  beforeEach(() => (r = new TestRouter({ firewall: STOCK_FIREWALL })));
  afterEach(() => r.dispose());

  const get = async (addr: string) => r.uci(["get", addr]);

  it("counts @type[i] over all sections of the type, from the end when negative", async () => {
    expect((await get("firewall.@zone[0].name")).stdout).toBe("lan\n");
    expect((await get("firewall.@zone[1].name")).stdout).toBe("wan\n");
    expect((await get("firewall.@zone[-1].name")).stdout).toBe("wan\n");
    expect((await get("firewall.@rule[-1].name")).stdout).toBe("Allow-ISAKMP\n");
    expect((await get("firewall.@rule[-9].name")).stdout).toBe("Allow-DHCP-Renew\n");
  });

  it("[ran] @[N] counts across all types", async () => {
    expect(await get("firewall.@[0]")).toEqual({ code: 0, stdout: "defaults\n", stderr: "" });
    expect((await get("firewall.@[3]")).stdout).toBe("forwarding\n");
  });

  it("counts named sections in the index", async () => {
    await r.uci(["rename", "firewall.@zone[0]=lan_zone"]);
    expect((await get("firewall.@zone[0].name")).stdout).toBe("lan\n");
    expect((await get("firewall.lan_zone.name")).stdout).toBe("lan\n");
    expect((await get("firewall.@zone[1].name")).stdout).toBe("wan\n");
  });

  it("treats an out-of-range index as not found", async () => {
    expect(await get("firewall.@zone[2]")).toEqual({ code: 1, stdout: "", stderr: "uci: Entry not found\n" });
    expect(await get("firewall.@zone[-3].name")).toEqual({ code: 1, stdout: "", stderr: "uci: Entry not found\n" });
  });

  it.each(["firewall.@defaults[0", "firewall.@x]", "firewall.@zone[a]", "firewall.@zone[0]x", "firewall.zone[0]"])(
    "rejects the malformed reference %s as Invalid argument",
    async (addr) => {
      expect(await get(addr)).toEqual({ code: 1, stdout: "", stderr: "uci: Invalid argument\n" });
    },
  );

  it("accepts an empty index as 0, like strtol", async () => {
    expect((await get("firewall.@zone[].name")).stdout).toBe("lan\n");
  });

  it("splits the value at the first = only", async () => {
    await r.uci(["set", "firewall.@defaults[0].x=a=b=c"]);
    expect((await get("firewall.@defaults[0].x")).stdout).toBe("a=b=c\n");
  });

  it("resolves references against the staged state and stages real names", async () => {
    await r.uci(["add", "firewall", "rule"]);
    await r.uci(["set", "firewall.@rule[-1].name=new"]);
    expect(r.read("/tmp/.uci/firewall")).toBe("+firewall.cfg0e92bd='rule'\nfirewall.cfg0e92bd.name='new'\n");
  });

  it("[ran] reorder moves among all sections of the package, so @rule[0] changes meaning", async () => {
    expect((await r.uci(["add", "firewall", "rule"])).stdout).toBe("cfg0e92bd\n");
    await r.uci(["reorder", "firewall.@rule[-1]=1"]);
    expect((await r.uci(["-X", "show", "firewall.@[1]"])).stdout.split("\n")[0]).toBe("firewall.cfg0e92bd=rule");
    expect((await r.uci(["-X", "show", "firewall.@rule[0]"])).stdout.split("\n")[0]).toBe("firewall.cfg0e92bd=rule");
    await r.uci(["delete", "firewall.@rule[0]"]);
    expect((await get("firewall.@rule[0].name")).stdout).toBe("Allow-DHCP-Renew\n");
    expect((await r.uci(["changes", "firewall"])).stdout).toBe(
      "firewall.cfg0e92bd='rule'\nfirewall.cfg0e92bd='1'\n-firewall.cfg0e92bd\n",
    );
  });
});
