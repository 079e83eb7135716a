import { STOCK_FIREWALL, TestRouter } from "./harness";

describe("modifying commands and the delta lines they stage", () => {
  let r: TestRouter;
  beforeEach(() => (r = new TestRouter({ firewall: STOCK_FIREWALL })));
  afterEach(() => r.dispose());

  const delta = () => r.read("/tmp/.uci/firewall");
  const ok = { code: 0, stdout: "", stderr: "" };

  it("[ran] stages each verb with its delta-file prefix and lists it in `changes`", async () => {
    expect(await r.uci(["set", "firewall.@defaults[0].flow_offloading=1"])).toEqual(ok);
    expect((await r.uci(["add", "firewall", "rule"])).stdout).toBe("cfg0e92bd\n");
    expect(await r.uci(["add_list", "firewall.cfg0e92bd.proto=tcp"])).toEqual(ok);
    expect(await r.uci(["del_list", "firewall.@zone[1].network=wan6"])).toEqual(ok);
    expect(await r.uci(["rename", "firewall.cfg02dc81=lan_zone"])).toEqual(ok);
    expect(await r.uci(["reorder", "firewall.cfg0e92bd=1"])).toEqual(ok);
    expect(await r.uci(["delete", "firewall.cfg0e92bd"])).toEqual(ok);
    expect(delta()).toBe(
      "firewall.cfg01e63d.flow_offloading='1'\n" +
        "+firewall.cfg0e92bd='rule'\n" +
        "|firewall.cfg0e92bd.proto='tcp'\n" +
        "~firewall.cfg03dc81.network='wan6'\n" +
        "@firewall.cfg02dc81='lan_zone'\n" +
        "^firewall.cfg0e92bd='1'\n" +
        "-firewall.cfg0e92bd\n",
    );
    expect((await r.uci(["changes", "firewall"])).stdout).toBe(
      "firewall.cfg01e63d.flow_offloading='1'\n" +
        "firewall.cfg0e92bd='rule'\n" +
        "firewall.cfg0e92bd.proto+='tcp'\n" +
        "firewall.cfg03dc81.network-='wan6'\n" +
        "firewall.cfg02dc81='lan_zone'\n" +
        "firewall.cfg0e92bd='1'\n" +
        "-firewall.cfg0e92bd\n",
    );
  });

  it("[ran] set of an unchanged value stages nothing", async () => {
    expect(await r.uci(["set", "firewall.@defaults[0].input=REJECT"])).toEqual(ok);
    expect(delta()).toBeUndefined();
    expect((await r.uci(["changes", "firewall"])).stdout).toBe("");
  });

  it("set of an empty value deletes the option, and is a silent no-op when it is absent", async () => {
    expect(await r.uci(["set", "firewall.@defaults[0].input="])).toEqual(ok);
    expect(await r.uci(["set", "firewall.@defaults[0].nothere="])).toEqual(ok);
    expect(delta()).toBe("-firewall.cfg01e63d.input\n");
    expect((await r.uci(["get", "firewall.@defaults[0].input"])).code).toBe(1);
  });

  it("set creates a named section, changes a type, keeps a changed option in place and appends a new one", async () => {
    await r.uci(["set", "firewall.mine=zone"]);
    await r.uci(["set", "firewall.mine=forwarding"]);
    await r.uci(["set", "firewall.@defaults[0].syn_flood=0"]);
    await r.uci(["set", "firewall.@defaults[0].flow_offloading=1"]);
    expect((await r.uci(["show", "firewall.@defaults[0]"])).stdout).toBe(
      "firewall.cfg01e63d=defaults\n" +
        "firewall.cfg01e63d.syn_flood='0'\n" +
        "firewall.cfg01e63d.input='REJECT'\n" +
        "firewall.cfg01e63d.output='ACCEPT'\n" +
        "firewall.cfg01e63d.forward='REJECT'\n" +
        "firewall.cfg01e63d.flow_offloading='1'\n",
    );
    expect((await r.uci(["get", "firewall.mine"])).stdout).toBe("forwarding\n");
    expect(delta()).toBe(
      "firewall.mine='zone'\nfirewall.mine='forwarding'\n" +
        "firewall.cfg01e63d.syn_flood='0'\nfirewall.cfg01e63d.flow_offloading='1'\n",
    );
  });

  it("set on a list replaces the whole list with one string", async () => {
    await r.uci(["set", "firewall.@zone[1].network=lan"]);
    expect((await r.uci(["show", "firewall.@zone[1].network"])).stdout).toBe("firewall.cfg03dc81.network='lan'\n");
  });

  it("set rejects a type with a space as Invalid argument", async () => {
    expect(await r.uci(["set", "firewall.mine=a b"])).toEqual({ code: 1, stdout: "", stderr: "uci: Invalid argument\n" });
  });

  it("add_list turns a string into a list (old value first) and appends duplicates", async () => {
    await r.uci(["add_list", "firewall.@zone[0].network=guest"]);
    await r.uci(["add_list", "firewall.@zone[1].network=wan"]);
    await r.uci(["add_list", "firewall.@defaults[0].input=x"]);
    expect((await r.uci(["get", "firewall.@zone[0].network"])).stdout).toBe("lan guest\n");
    expect((await r.uci(["get", "firewall.@zone[1].network"])).stdout).toBe("wan wan6 wan\n");
    expect((await r.uci(["show", "firewall.@defaults[0]"])).stdout).toBe(
      "firewall.cfg01e63d=defaults\n" +
        "firewall.cfg01e63d.syn_flood='1'\n" +
        "firewall.cfg01e63d.input='REJECT' 'x'\n" +
        "firewall.cfg01e63d.output='ACCEPT'\n" +
        "firewall.cfg01e63d.forward='REJECT'\n",
    );
    expect(delta()).toBe(
      "|firewall.cfg02dc81.network='guest'\n|firewall.cfg03dc81.network='wan'\n|firewall.cfg01e63d.input='x'\n",
    );
  });

  it("del_list removes every equal item and is a silent no-op on a string or absent option", async () => {
    await r.uci(["add_list", "firewall.@zone[1].network=wan"]);
    await r.uci(["del_list", "firewall.@zone[1].network=wan"]);
    expect((await r.uci(["get", "firewall.@zone[1].network"])).stdout).toBe("wan6\n");
    expect(await r.uci(["del_list", "firewall.@defaults[0].input=REJECT"])).toEqual(ok);
    expect(await r.uci(["del_list", "firewall.@defaults[0].nothere=x"])).toEqual(ok);
    expect((await r.uci(["get", "firewall.@defaults[0].input"])).stdout).toBe("REJECT\n");
    expect(delta()).toBe("|firewall.cfg03dc81.network='wan'\n~firewall.cfg03dc81.network='wan'\n");
  });

  it("add_list and del_list into a missing section are Invalid argument", async () => {
    const inval = { code: 1, stdout: "", stderr: "uci: Invalid argument\n" };
    expect(await r.uci(["add_list", "firewall.nosuch.x=1"])).toEqual(inval);
    expect(await r.uci(["del_list", "firewall.nosuch.x=1"])).toEqual(inval);
  });

  it("delete removes sections and options; a missing one is Entry not found", async () => {
    expect(await r.uci(["delete", "firewall.@rule[0]"])).toEqual(ok);
    expect(await r.uci(["del", "firewall.@zone[0].input"])).toEqual(ok);
    expect(delta()).toBe("-firewall.cfg0592bd\n-firewall.cfg02dc81.input\n");
    const notFound = { code: 1, stdout: "", stderr: "uci: Entry not found\n" };
    expect(await r.uci(["delete", "firewall.@defaults[0].nothere"])).toEqual(notFound);
    expect(await r.uci(["delete", "firewall.nosuch"])).toEqual(notFound);
    expect(await r.uci(["delete", "nosuch.x"])).toEqual(notFound);
  });

  it("delete of a whole package is Invalid argument", async () => {
    expect(await r.uci(["delete", "firewall"])).toEqual({ code: 1, stdout: "", stderr: "uci: Invalid argument\n" });
  });

  it("delete with an index removes the N-th list item and stages the index", async () => {
    await r.uci(["delete", "firewall.@rule[5].icmp_type=1"]);
    expect((await r.uci(["get", "firewall.@rule[5].icmp_type"])).stdout).toMatch(/^echo-request destination-unreachable /);
    expect(delta()).toBe("-firewall.cfg0a92bd.icmp_type='1'\n");
    expect((await r.uci(["changes"])).stdout).toBe("-firewall.cfg0a92bd.icmp_type\n");
  });

  it("delete with an out-of-range index does nothing; on a string option it deletes the option", async () => {
    expect(await r.uci(["delete", "firewall.@zone[1].network=7"])).toEqual(ok);
    expect(await r.uci(["delete", "firewall.@defaults[0].input=0"])).toEqual(ok);
    expect(delta()).toBe("-firewall.cfg01e63d.input\n");
  });

  it("delete with a non-numeric index exits 1 without a message", async () => {
    expect(await r.uci(["delete", "firewall.@zone[1].network=wan"])).toEqual({ code: 1, stdout: "", stderr: "" });
    expect(delta()).toBeUndefined();
  });

  it("deleting every list item leaves an empty list until commit", async () => {
    await r.uci(["delete", "firewall.@zone[0].network=0"]);
    expect((await r.uci(["show", "firewall.@zone[0].network"])).stdout).toBe("firewall.cfg02dc81.network=\n");
    await r.uci(["commit", "firewall"]);
    expect((await r.uci(["get", "firewall.@zone[0].network"])).code).toBe(1);
  });

  it("rename makes an anonymous section named, and renames options in place", async () => {
    await r.uci(["rename", "firewall.@zone[0]=lan"]);
    await r.uci(["rename", "firewall.lan.input=inbound"]);
    expect((await r.uci(["show", "firewall.lan"])).stdout).toBe(
      "firewall.lan=zone\n" +
        "firewall.lan.name='lan'\n" +
        "firewall.lan.network='lan'\n" +
        "firewall.lan.inbound='ACCEPT'\n" +
        "firewall.lan.output='ACCEPT'\n" +
        "firewall.lan.forward='ACCEPT'\n",
    );
    expect((await r.uci(["show", "firewall"])).stdout).toContain("\nfirewall.lan=zone\nfirewall.lan.name='lan'\n");
    expect(delta()).toBe("@firewall.cfg02dc81='lan'\n@firewall.lan.input='inbound'\n");
  });

  it("rename without a value is Invalid argument; of a missing entry Entry not found", async () => {
    expect(await r.uci(["rename", "firewall.@zone[0]"])).toEqual({ code: 1, stdout: "", stderr: "uci: Invalid argument\n" });
    expect(await r.uci(["rename", "firewall.nosuch=x"])).toEqual({ code: 1, stdout: "", stderr: "uci: Entry not found\n" });
  });

  it("a rename to an invalid name is staged but dropped when the delta is replayed", async () => {
    expect(await r.uci(["rename", "firewall.@zone[0]=bad-name"])).toEqual(ok);
    expect(delta()).toBe("@firewall.cfg02dc81='bad-name'\n");
    expect((await r.uci(["get", "firewall.cfg02dc81.name"])).stdout).toBe("lan\n");
  });

  it("reorder clamps the position and a missing section is Entry not found", async () => {
    await r.uci(["reorder", "firewall.@defaults[0]=99"]);
    expect((await r.uci(["get", "firewall.@[-1]"])).stdout).toBe("defaults\n");
    await r.uci(["reorder", "firewall.@defaults[0]=-1"]);
    expect((await r.uci(["get", "firewall.@[0]"])).stdout).toBe("defaults\n");
    expect(delta()).toBe("^firewall.cfg01e63d='99'\n^firewall.cfg01e63d='-1'\n");
    const notFound = { code: 1, stdout: "", stderr: "uci: Entry not found\n" };
    expect(await r.uci(["reorder", "firewall.nosuch=1"])).toEqual(notFound);
    expect(await r.uci(["reorder", "firewall.@defaults[0]"])).toEqual(notFound);
  });

  it("set of an out-of-range @type[N] section stages a line that replay then rejects", async () => {
    // uci_set creates a section literally named "@rule[99]"; the delta reader refuses @ references.
    expect(await r.uci(["set", "firewall.@rule[99]=rule"])).toEqual(ok);
    expect(delta()).toBe("firewall.@rule[99]='rule'\n");
    expect((await r.uci(["changes"])).stdout).toBe("");
    expect((await r.uci(["show", "firewall"])).stdout.match(/=rule$/gm)).toHaveLength(9);
  });

  it("add prints the new name; a missing package exits with libuci's error number", async () => {
    expect(await r.uci(["add", "nosuch", "rule"])).toEqual({ code: 3, stdout: "", stderr: "uci: Entry not found\n" });
    expect(await r.uci(["add", "bad.name", "rule"])).toEqual({ code: 2, stdout: "", stderr: "uci: Invalid argument\n" });
  });

  it("creates the save dir when missing and appends to the delta file", async () => {
    r.fs.remove("/tmp/.uci");
    await r.uci(["set", "firewall.@defaults[0].a=1"]);
    await r.uci(["set", "firewall.@defaults[0].b=2"]);
    expect(r.fs.isDir("/tmp/.uci")).toBe(true);
    expect(delta()).toBe("firewall.cfg01e63d.a='1'\nfirewall.cfg01e63d.b='2'\n");
  });

  it("a save dir that is a file is an I/O error", async () => {
    r.write("/tmp/.uci", "not a dir");
    expect(await r.uci(["set", "firewall.@defaults[0].a=1"])).toEqual({ code: 1, stdout: "", stderr: "uci: I/O error\n" });
  });
});
