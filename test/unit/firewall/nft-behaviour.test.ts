import { nftTool } from "../../../sim/tools/nft";
import { fakeRouter, runTool } from "./helpers";

const tools = { nft: nftTool };

/** fw4's table with an offload flowtable and the forward offload rule, as `fw4 print` renders it. */
function fw4Table(devices: string[], opts: { offload?: boolean; deleteFt?: boolean } = {}): string {
  return [
    "table inet fw4",
    "flush table inet fw4",
    ...(opts.deleteFt ? ["delete flowtable inet fw4 ft"] : []),
    "",
    "table inet fw4 {",
    "\tflowtable ft {",
    "\t\thook ingress priority 0;",
    `\t\tdevices = { ${devices.map((d) => `"${d}"`).join(", ")} };`,
    "\t\tcounter;",
    ...(opts.offload ? ["\t\tflags offload;"] : []),
    "\t}",
    "",
    "\tchain forward {",
    "\t\ttype filter hook forward priority filter; policy drop;",
    "",
    "\t\tmeta l4proto { tcp, udp } flow offload @ft;",
    '\t\tct state established,related accept comment "!fw4: Allow forwarded established and related flows"',
    "\t}",
    "}",
    "",
  ].join("\n");
}

async function load(router: ReturnType<typeof fakeRouter>, text: string) {
  return runTool(router, tools, ["nft", "-f", "-"], text);
}

describe("nft views of a flowtable", () => {
  it("text shows priority names, unquoted devices, flags offload and counter; JSON has neither", async () => {
    const router = fakeRouter({ hwOffload: () => true });
    expect((await load(router, fw4Table(["eth0", "eth1"], { offload: true }))).code).toBe(0);

    expect((await runTool(router, tools, ["nft", "list", "flowtable", "inet", "fw4", "ft"])).stdout).toBe(
      "table inet fw4 {\n\tflowtable ft {\n\t\thook ingress priority filter\n\t\tdevices = { eth0, eth1 }\n\t\tflags offload\n\t\tcounter\n\t}\n}\n",
    );
    expect((await runTool(router, tools, ["nft", "-j", "list", "flowtables"])).stdout).toBe(
      '{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, ' +
        '{"flowtable": {"family": "inet", "name": "ft", "table": "fw4", "handle": 2, "hook": "ingress", "prio": 0, "dev": ["eth0", "eth1"]}}]}\n',
    );
  });

  it("JSON gives one device as a string", async () => {
    const router = fakeRouter();
    await load(router, fw4Table(["eth1"]));
    const json = JSON.parse((await runTool(router, tools, ["nft", "--terse", "--json", "list", "flowtables", "inet"])).stdout);
    expect(json.nftables[1].flowtable.dev).toBe("eth1");
  });

  it("lists `flow offload @ft` as `flow add @ft`, in text and JSON", async () => {
    const router = fakeRouter();
    await load(router, fw4Table(["eth0", "eth1"]));
    const text = (await runTool(router, tools, ["nft", "list", "chain", "inet", "fw4", "forward"])).stdout;
    expect(text).toContain("\t\tmeta l4proto { tcp, udp } flow add @ft\n");
    expect(text).not.toContain("offload @ft");
    const json = JSON.parse((await runTool(router, tools, ["nft", "-j", "list", "ruleset"])).stdout);
    const rule = json.nftables.find((o: { rule?: { chain: string } }) => o.rule?.chain === "forward").rule;
    expect(rule.expr).toEqual([
      { match: { op: "==", left: { meta: { key: "l4proto" } }, right: { set: ["tcp", "udp"] } } },
      { flow: { op: "add", flowtable: "@ft" } },
    ]);
  });

  it("answers the query API", async () => {
    const router = fakeRouter();
    await load(router, fw4Table(["eth0", "eth1"]));
    expect(router.kernel.nft.flowtables()).toEqual([
      { family: "inet", table: "fw4", name: "ft", handle: 2, hook: "ingress", priority: 0, devices: ["eth0", "eth1"], hwOffload: false, counter: true },
    ]);
    expect(router.kernel.nft.forwardOffloads("inet", "fw4", "ft")).toBe(true);
    router.kernel.nft.reset();
    expect(router.kernel.nft.flowtables()).toEqual([]);
    expect((await runTool(router, tools, ["nft", "list", "ruleset"])).stdout).toBe("");
  });
});

describe("nft errors", () => {
  it("listing a missing flowtable points at the missing table, then at the missing flowtable", async () => {
    const router = fakeRouter();
    expect(await runTool(router, tools, ["nft", "list", "flowtable", "inet", "fw4", "ft"])).toEqual({
      code: 1,
      stdout: "",
      stderr: "Error: No such file or directory\nlist flowtable inet fw4 ft\n                    ^^^\n",
    });
    await runTool(router, tools, ["nft", "add", "table", "inet", "fw4"]);
    expect((await runTool(router, tools, ["nft", "list", "flowtable", "inet", "fw4", "ft"])).stderr).toBe(
      "Error: No such file or directory\nlist flowtable inet fw4 ft\n                        ^^\n",
    );
  });

  it("refuses flags offload the hardware cannot do, and applies nothing of the batch", async () => {
    const router = fakeRouter({ hwOffload: () => false });
    await load(router, fw4Table(["eth0", "eth1"]));
    const before = (await runTool(router, tools, ["nft", "-a", "list", "ruleset"])).stdout;
    const res = await load(router, fw4Table(["eth0", "eth1"], { offload: true, deleteFt: true }));
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      "/dev/stdin:6:12-13: Error: Could not process rule: Operation not supported\n\tflowtable ft {\n\t          ^^\n" +
        "/dev/stdin:16:29-44: Error: Could not process rule: No such file or directory\n" +
        "\t\tmeta l4proto { tcp, udp } flow offload @ft;\n\t\t                          ^^^^^^^^^^^^^^^^\n",
    );
    expect((await runTool(router, tools, ["nft", "-a", "list", "ruleset"])).stdout).toBe(before);
  });

  it("underlines a whole one-line command the kernel refuses, and the newline nft appends to it", async () => {
    const router = fakeRouter({ hwOffload: () => false });
    await runTool(router, tools, ["nft", "add", "table", "inet", "probe"]);
    const cmd = 'add flowtable inet probe ft { hook ingress priority 0; devices = { "eth1" }; flags offload; }';
    expect(await runTool(router, tools, ["nft", "-c", cmd])).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error: Could not process rule: Operation not supported\n${cmd}\n${"^".repeat(cmd.length + 1)}\n`,
    });
  });

  it("needs nf_flow_table_inet for a flowtable and nft_flow_offload for `flow add`", async () => {
    const noFlowtable = fakeRouter({ modules: [] });
    expect((await load(noFlowtable, fw4Table(["eth0"]))).stderr).toContain("/dev/stdin:5:12-13: Error: Could not process rule: No such file or directory\n");
    const noExpr = fakeRouter({ modules: ["nf_flow_table_inet"] });
    expect((await load(noExpr, fw4Table(["eth0"]))).stderr).toBe(
      "/dev/stdin:14:29-44: Error: Could not process rule: No such file or directory\n" +
        "\t\tmeta l4proto { tcp, udp } flow offload @ft;\n\t\t                          ^^^^^^^^^^^^^^^^\n",
    );
    expect(noExpr.kernel.nft.tables()).toEqual([]);
  });

  it("check mode validates against the kernel without changing it", async () => {
    const router = fakeRouter({ hwOffload: () => true });
    expect(await runTool(router, tools, ["nft", "-c", "-f", "-"], fw4Table(["eth0"], { offload: true }))).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(router.kernel.nft.tables()).toEqual([]);
  });

  it("refuses to delete a flowtable a rule still uses", async () => {
    const router = fakeRouter();
    await load(router, fw4Table(["eth0"]));
    expect((await runTool(router, tools, ["nft", "delete", "flowtable", "inet", "fw4", "ft"])).stderr).toBe(
      "Error: Could not process rule: Device or resource busy\ndelete flowtable inet fw4 ft\n                          ^^\n",
    );
    await runTool(router, tools, ["nft", "flush", "table", "inet", "fw4"]);
    expect((await runTool(router, tools, ["nft", "delete", "flowtable", "inet", "fw4", "ft"])).code).toBe(0);
    expect(router.kernel.nft.flowtables()).toEqual([]);
  });

  it("reports syntax errors, unknown symbols, missing files and a missing command like nft 1.0.6", async () => {
    const router = fakeRouter();
    expect((await load(router, "table inet x {\n\tchain c {\n\t\tfoo bar accept\n\t}\n}\n")).stderr).toBe(
      "/dev/stdin:3:3-5: Error: No symbol type information\n\t\tfoo bar accept\n\t\t^^^\n",
    );
    expect((await runTool(router, tools, ["nft", "list"])).stderr).toBe("Error: syntax error, unexpected newline\nlist\n    ^\n");
    expect(await runTool(router, tools, ["nft", "-f", "/nonexistent"])).toEqual({
      code: 1,
      stdout: "",
      stderr: 'internal:0:0-0: Error: Could not open file "/nonexistent": No such file or directory\n\n\n',
    });
    expect(await runTool(router, tools, ["nft"])).toEqual({ code: 1, stdout: "", stderr: "nft: no command specified\n" });
    router.fs.writeAtomic("/etc/x.nft", 'table inet t {\n\tinclude "/nonexist.nft"\n}\n');
    // The location runs through the newline ending the statement; the parser then recovers and finds the table
    // left open (both as nft 1.0.6 reports it, see test/vm/sim-fidelity.test.ts).
    expect((await runTool(router, tools, ["nft", "-f", "/etc/x.nft"])).stderr).toBe(
      '/etc/x.nft:2:2-25: Error: File not found: /nonexist.nft\n\tinclude "/nonexist.nft"\n\t^^^^^^^^^^^^^^^^^^^^^^^^\n' +
        "/etc/x.nft:4:1-1: Error: syntax error, unexpected end of file\n}\n^\n",
    );
  });
});

describe("nft one-liners and includes", () => {
  it("adds, lists with handles and deletes rules and tables", async () => {
    const router = fakeRouter();
    const nft = (...a: string[]) => runTool(router, tools, ["nft", ...a]);
    await nft("add", "table", "inet", "t");
    await nft("add chain inet t c { type filter hook forward priority 0; policy drop; }");
    await nft("add", "rule", "inet", "t", "c", "tcp", "dport", "22", "counter", "accept");
    await nft("insert", "rule", "inet", "t", "c", "ct", "state", "related,established", "accept");
    expect((await nft("-a", "list", "table", "inet", "t")).stdout).toBe(
      "table inet t { # handle 1\n\tchain c { # handle 1\n\t\ttype filter hook forward priority filter; policy drop;\n" +
        "\t\tct state established,related accept # handle 3\n\t\ttcp dport 22 counter packets 0 bytes 0 accept # handle 2\n\t}\n}\n",
    );
    await nft("delete", "rule", "inet", "t", "c", "handle", "2");
    expect((await nft("-s", "list", "chain", "inet", "t", "c")).stdout).not.toContain("dport");
    expect((await nft("list", "tables")).stdout).toBe("table inet t\n");
    await nft("delete", "table", "inet", "t");
    expect((await nft("delete", "table", "inet", "t")).stderr).toBe("Error: Could not process rule: No such file or directory\ndelete table inet t\n                  ^\n");
  });

  it("resolves include globs inside the table through the router's filesystem", async () => {
    const router = fakeRouter();
    router.fs.writeAtomic("/etc/nftables.d/10-custom.nft", 'chain user_pre {\n\tiifname "br-lan" counter\n}\n');
    const res = await load(router, 'table inet fw4 {\n\tinclude "/etc/nftables.d/*.nft"\n}\n');
    expect(res.code).toBe(0);
    expect((await runTool(router, tools, ["nft", "list", "chain", "inet", "fw4", "user_pre"])).stdout).toBe(
      'table inet fw4 {\n\tchain user_pre {\n\t\tiifname "br-lan" counter packets 0 bytes 0\n\t}\n}\n',
    );
  });
});
