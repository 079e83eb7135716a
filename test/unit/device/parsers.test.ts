import { parseUciChanges, parseUciShow, optionList, optionString } from "../../../provider/device/parse/uci";
import { flowtablesReferencedByRules, parseFlowtablesJson, parseFlowtablesText } from "../../../provider/device/parse/nft";
import { parseConntrackCounts, parseDf, parseInstalledPackages } from "../../../provider/device/parse/system";
import { hwOffloadCapability, kernelAtLeast } from "../../../provider/device/hardware";

describe("uci show parser", () => {
  const text = [
    "firewall.@defaults[0]=defaults",
    "firewall.@defaults[0].syn_flood='1'",
    "firewall.@defaults[0].flow_offloading='1'",
    "firewall.lan_zone=zone",
    "firewall.@zone[1]=zone",
    "firewall.@zone[1].network='wan' 'wan6'",
    "firewall.@rule[5]=rule",
    "firewall.@rule[5].comment='it'\\''s quoted'",
    "firewall.@rule[5].multi='line one",
    "line two'",
    "firewall.@rule[5].spaced='a b' 'c'",
    "",
  ].join("\n");

  test("sections, options, lists, escaped quotes and raw newlines", () => {
    const sections = parseUciShow(text, "firewall");
    expect(sections.map((s) => [s.ref, s.type])).toEqual([
      ["@defaults[0]", "defaults"],
      ["lan_zone", "zone"],
      ["@zone[1]", "zone"],
      ["@rule[5]", "rule"],
    ]);
    expect(optionString(sections[0], "flow_offloading")).toBe("1");
    expect(optionList(sections[2], "network")).toEqual(["wan", "wan6"]);
    expect(sections[3].options.get("comment")).toBe("it's quoted");
    expect(sections[3].options.get("multi")).toBe("line one\nline two");
    expect(sections[3].options.get("spaced")).toEqual(["a b", "c"]);
  });

  test("a line from another package is an error, not silently skipped", () => {
    expect(() => parseUciShow("network.lan=interface\n", "firewall")).toThrow(/unexpected line/);
  });

  test("uci changes grouped by package, deletes included", () => {
    expect(
      parseUciChanges("firewall.cfg01e63d.flow_offloading='1'\n-firewall.cfg0e92bd\nnetwork.lan.ipaddr='10.0.0.1'\n"),
    ).toEqual({
      firewall: ["firewall.cfg01e63d.flow_offloading='1'", "-firewall.cfg0e92bd"],
      network: ["network.lan.ipaddr='10.0.0.1'"],
    });
  });
});

describe("nft parsers", () => {
  const text = [
    "table inet fw4 {",
    "\tflowtable ft {",
    "\t\thook ingress priority filter",
    "\t\tdevices = { lan1, lan2, lan3, lan4, wan }",
    "\t\tflags offload",
    "\t\tcounter",
    "\t}",
    "}",
    "table inet other {",
    "\tflowtable sw {",
    "\t\thook ingress priority filter",
    "\t\tdevices = { eth0 }",
    "\t}",
    "}",
    "",
  ].join("\n");

  test("text listing: devices, flags offload and counter", () => {
    expect(parseFlowtablesText(text)).toEqual([
      { family: "inet", table: "fw4", name: "ft", hook: "ingress", priority: "filter", devices: ["lan1", "lan2", "lan3", "lan4", "wan"], hwOffload: true, counter: true },
      { family: "inet", table: "other", name: "sw", hook: "ingress", priority: "filter", devices: ["eth0"], hwOffload: false, counter: false },
    ]);
  });

  test("JSON listing: dev is a string for one device, an array otherwise", () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: "1.0.6", release_name: "Lester Gooch #5", json_schema_version: 1 } },
        { flowtable: { family: "inet", name: "ft", table: "fw4", handle: 11, hook: "ingress", prio: 0, dev: ["lan1", "wan"] } },
        { flowtable: { family: "inet", name: "one", table: "t", handle: 2, hook: "ingress", prio: 0, dev: "eth1" } },
      ],
    });
    expect(parseFlowtablesJson(json).map((f) => f.devices)).toEqual([["lan1", "wan"], ["eth1"]]);
  });

  test("forward rules: nft lists `flow add`, fw4 writes `flow offload`", () => {
    expect(flowtablesReferencedByRules("\t\tmeta l4proto { tcp, udp } flow add @ft\n")).toEqual(["ft"]);
    expect(flowtablesReferencedByRules("meta l4proto { tcp, udp } flow offload @ft;\n")).toEqual(["ft"]);
    expect(flowtablesReferencedByRules("ct state established accept\n")).toEqual([]);
  });
});

describe("system parsers", () => {
  test("df -Pk", () => {
    const out = "Filesystem           1K-blocks      Used Available Use% Mounted on\n/dev/ubi0_5              53000      1620     48616   3% /overlay\n";
    expect(parseDf(out)).toEqual({ mount: "/overlay", totalKiB: 53000, usedKiB: 1620, availKiB: 48616 });
  });

  test("opkg and apk installed lists", () => {
    const wanted = ["kmod-nft-offload", "kmod-nf-flow", "firewall", "firewall4"];
    expect(parseInstalledPackages("kmod-nft-offload - 5.15.150-1\nfirewall4 - 2023-09-01-598d9fb1-1\n", wanted)).toEqual({
      "kmod-nft-offload": "5.15.150-1",
      firewall4: "2023-09-01-598d9fb1-1",
    });
    expect(
      parseInstalledPackages("kmod-nft-offload-6.12.20-r1 aarch64_cortex-a53 {linux} (GPL-2.0-only) [installed]\nfirewall4-2025.03.17~b6e5157-r1 x {f} (ISC) [installed]\n", wanted),
    ).toEqual({ "kmod-nft-offload": "6.12.20-r1", firewall4: "2025.03.17~b6e5157-r1" });
  });

  test("conntrack counts", () => {
    expect(parseConntrackCounts("3\n1\n10\n")).toEqual({ offloaded: 3, hwOffloaded: 1, total: 10 });
  });

  test("hardware capability and kernel floor", () => {
    expect(hwOffloadCapability("ramips/mt7621", ["lan1", "wan"]).capable).toBe(true);
    expect(hwOffloadCapability("ramips/mt7621", []).reason).toMatch(/no device reports hw-tc-offload/);
    expect(hwOffloadCapability("x86/64", ["eth0"]).capable).toBe(false);
    expect(kernelAtLeast("5.4.238", 5, 4)).toBe(true);
    expect(kernelAtLeast("4.14.275", 5, 4)).toBe(false);
    expect(kernelAtLeast("6.12.20", 5, 4)).toBe(true);
  });
});
