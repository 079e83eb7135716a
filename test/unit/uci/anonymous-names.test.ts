import { anonymousName, djbHash } from "../../../sim/tools/uci/anonymous-name";
import { STOCK_FIREWALL, TestRouter } from "./harness";

describe("anonymous section names", () => {
  let r: TestRouter;
  beforeEach(() => (r = new TestRouter({ firewall: STOCK_FIREWALL })));
  afterEach(() => r.dispose());

  it("hashes the type like libuci (well-known real names)", () => {
    expect(anonymousName(1, "defaults")).toBe("cfg01e63d");
    expect(anonymousName(1, "system")).toBe("cfg01e48a");
    expect(anonymousName(1, "dnsmasq")).toBe("cfg01411c");
    expect(anonymousName(3, "device")).toBe("cfg030f15");
    expect(djbHash("")).toBe(5381);
  });

  it("prints the counter with %02x, growing to 3 digits past 255", () => {
    expect(anonymousName(255, "rule")).toBe("cfgff92bd");
    expect(anonymousName(256, "rule")).toBe("cfg10092bd");
  });

  it("[ran] names the stock firewall sections by position", async () => {
    const res = await r.uci(["-X", "show", "firewall"]);
    expect(res.code).toBe(0);
    const lines = res.stdout.split("\n").filter((l) => /=(defaults|zone|forwarding)$/.test(l));
    expect(lines).toEqual([
      "firewall.cfg01e63d=defaults",
      "firewall.cfg02dc81=zone",
      "firewall.cfg03dc81=zone",
      "firewall.cfg04ad58=forwarding",
    ]);
    expect(res.stdout.match(/=rule$/gm)).toHaveLength(9);
  });

  it("[ran] counts pending adds when naming the next one", async () => {
    expect(await r.uci(["add", "firewall", "rule"])).toEqual({ code: 0, stdout: "cfg0e92bd\n", stderr: "" });
    expect(await r.uci(["add", "firewall", "rule"])).toEqual({ code: 0, stdout: "cfg0f92bd\n", stderr: "" });
  });

  it("never gives a number back after a delete", async () => {
    await r.uci(["add", "firewall", "rule"]);
    await r.uci(["delete", "firewall.cfg0e92bd"]);
    expect((await r.uci(["add", "firewall", "rule"])).stdout).toBe("cfg0f92bd\n");
  });

  it("counts named sections too, including ones a delta creates", async () => {
    await r.uci(["set", "firewall.mine=zone"]);
    expect((await r.uci(["add", "firewall", "zone"])).stdout).toBe("cfg0fdc81\n");
  });

  it("renumbers anonymous sections after a delete is committed (names are positional)", async () => {
    expect((await r.uci(["get", "firewall.@zone[1]"])).code).toBe(0);
    await r.uci(["delete", "firewall.@zone[0]"]);
    await r.uci(["commit", "firewall"]);
    const res = await r.uci(["-X", "show", "firewall.@zone[0]"]);
    expect(res.stdout.split("\n")[0]).toBe("firewall.cfg02dc81=zone");
    expect(res.stdout).toContain("firewall.cfg02dc81.name='wan'\n");
  });
});
