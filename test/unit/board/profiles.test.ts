import * as fs from "fs";
import * as path from "path";
import { getProfile, PROFILES } from "../../../sim/profiles";
import { STOCK_FIREWALL_CONFIG } from "../../../sim/profiles/firewall-stock";
import { installedPackageNames, modulesForPackages, releaseFiles } from "../../../sim/tools/packages";
import { parseConfig } from "../../../sim/tools/uci";
import { cleanupRouters, makeRouter } from "./helpers";

afterAll(cleanupRouters);

const ids = Object.keys(PROFILES);

test("the profiles the simulator promises", () => {
  expect(ids).toEqual(["ath79-21.02", "ipq40xx-22.03", "x86-64-23.05", "mt7621-23.05", "mt7621-24.10", "filogic-25.12", "mt7621-unstable-hw"]);
  expect(getProfile("mt7621-23.05")).toBe(PROFILES["mt7621-23.05"]);
  expect(() => getProfile("wrt54g")).toThrow(
    'unknown router profile "wrt54g"; valid profiles: ath79-21.02, ipq40xx-22.03, x86-64-23.05, mt7621-23.05, mt7621-24.10, filogic-25.12, mt7621-unstable-hw',
  );
});

test("the embedded stock firewall config is the file in sim/profiles/configs", () => {
  const file = fs.readFileSync(path.join(__dirname, "../../../sim/profiles/configs/firewall-stock"), "utf8");
  expect(STOCK_FIREWALL_CONFIG).toBe(file);
  for (const id of ids) expect(PROFILES[id].firewallConfig).toBe(file);
});

describe.each(ids)("%s", (id) => {
  const profile = PROFILES[id];
  const deviceNames = new Set(profile.devices.map((d) => d.name));

  test("release, kernel, firewall and package manager belong together", () => {
    const series = profile.release.version.slice(0, 5);
    expect(profile.release.revision).toMatch(/^r\d{5}-[0-9a-f]{10}$/);
    expect(profile.kernel.slice(0, profile.kernel.lastIndexOf("."))).toBe({ "21.02": "5.4", "22.03": "5.10", "23.05": "5.15", "24.10": "6.6", "25.12": "6.12" }[series]);
    expect(profile.firewall).toBe(series === "21.02" ? "fw3" : "fw4");
    expect(profile.fw4Flavor).toBe({ "21.02": undefined, "22.03": "2203", "23.05": "2305", "24.10": "master", "25.12": "master" }[series]);
    expect(profile.packageManager).toBe(series === "25.12" ? "apk" : "opkg");
    const release = releaseFiles(profile);
    expect(release["/etc/openwrt_release"]).toContain(`DISTRIB_TARGET='${profile.release.target}'\nDISTRIB_ARCH='${profile.release.arch}'\n`);
    expect(release["/usr/lib/os-release"]).toContain(`OPENWRT_RELEASE="OpenWrt ${profile.release.version} ${profile.release.revision}"\n`);
  });

  test("devices: lower devices exist, bridges carry their first port's MAC", () => {
    for (const d of profile.devices) {
      for (const lower of d.lower ?? []) expect(deviceNames).toContain(lower);
      if (d.devtype === "bridge") expect(d.macaddr).toBe(profile.devices.find((p) => p.name === d.lower![0])!.macaddr);
      expect(d.macaddr).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    }
  });

  test("the network config only refers to devices the board has", () => {
    const sections = parseConfig(profile.networkConfig, "network").sections;
    const referenced = sections.flatMap((s) => {
      if (s.type === "interface") return [s.options.get("device") as string];
      if (s.type === "device") return [s.options.get("name") as string, ...(s.options.get("ports") as string[])];
      return [];
    });
    for (const dev of referenced) if (dev !== "lo") expect(deviceNames).toContain(dev);
    expect(sections.filter((s) => s.type === "interface").map((s) => s.name)).toEqual(["loopback", "lan", "wan", "wan6"]);
  });

  test("the flow engine matches the target, and its ports can offload", () => {
    const hwTarget = ["ramips/mt7621", "mediatek/filogic"].includes(profile.release.target);
    expect(profile.hwFlowEngine).toBe(hwTarget);
    expect(profile.devices.some((d) => d.hwTcOffload === true)).toBe(hwTarget);
    expect(profile.packages.some((p) => p.name === "ethtool")).toBe(hwTarget);
  });

  test("the image's packages are complete and all come from the feeds", () => {
    const installed = new Set(profile.packages.map((p) => p.name));
    for (const p of profile.packages) for (const dep of p.depends ?? []) expect({ [p.name]: dep, installed: installed.has(dep) }).toEqual({ [p.name]: dep, installed: true });
    const feed = new Map(profile.feed.map((p) => [p.name, p]));
    for (const p of profile.packages) expect(feed.get(p.name)?.version).toBe(p.version);
    expect(feed.has("kmod-nft-offload")).toBe(true);
    for (const p of profile.feed) for (const dep of p.depends ?? []) expect(feed.has(dep)).toBe(true);
  });

  test("first boot: the package database, loaded modules and interfaces", () => {
    const router = makeRouter(id);
    expect(installedPackageNames(router.fs, profile).sort()).toEqual(profile.packages.map((p) => p.name).sort());
    const offloadModule = profile.firewall === "fw3" ? "xt_FLOWOFFLOAD" : "nft_flow_offload";
    expect(router.kernel.modules.has(offloadModule)).toBe(profile.packages.some((p) => p.name.match(/^kmod-(nft|ipt)-offload$/)));
    const up = Object.fromEntries(router.netifd.interfaces().map((i) => [i.interface, { up: i.up, device: i.device, ipv4: i.ipv4.map((a) => `${a.address}/${a.mask}`) }]));
    const wanDevice = up.wan.device!;
    expect(up).toEqual({
      lan: { up: true, device: "br-lan", ipv4: ["192.168.1.1/24"] },
      loopback: { up: true, device: "lo", ipv4: ["127.0.0.1/8"] },
      wan: { up: true, device: wanDevice, ipv4: [expect.stringMatching(/^203\.0\.113\.\d+\/24$/)] },
      wan6: { up: true, device: wanDevice, ipv4: [] },
    });
    expect(router.netifd.interfaces().find((i) => i.interface === "lan")!.ipv6PrefixAssignment).toHaveLength(1);
  });
});

test("at least one fw4 image lacks kmod-nft-offload, so the missing-package path can be exercised", () => {
  const missing = ids.filter((id) => PROFILES[id].firewall === "fw4" && !PROFILES[id].packages.some((p) => p.name === "kmod-nft-offload"));
  expect(missing).toEqual(["ipq40xx-22.03"]);
});

test("one profile shapes its WAN with SQM (cake), on a device the board has", () => {
  const withSqm = ids.filter((id) => PROFILES[id].sqmConfig);
  expect(withSqm).toEqual(["mt7621-24.10"]);
  const profile = PROFILES["mt7621-24.10"];
  const [queue] = parseConfig(profile.sqmConfig!, "sqm").sections;
  expect(queue.options.get("enabled")).toBe("1");
  expect(queue.options.get("qdisc")).toBe("cake");
  expect(profile.devices.map((d) => d.name)).toContain(queue.options.get("interface"));
  expect(profile.packages.map((p) => p.name)).toEqual(expect.arrayContaining(["sqm-scripts", "kmod-sched-cake"]));
});

test("one small-flash profile, one without an overlay, one that crashes under hardware offload", () => {
  expect(PROFILES["ath79-21.02"].overlay.totalKiB).toBeLessThan(2048);
  expect(PROFILES["x86-64-23.05"].board.rootfsType).toBe("ext4");
  expect(ids.filter((id) => PROFILES[id].crashesUnderHwOffload)).toEqual(["mt7621-unstable-hw"]);
  const { id: _a, summary: _b, crashesUnderHwOffload: _c, ...unstable } = PROFILES["mt7621-unstable-hw"];
  const { id: _d, summary: _e, crashesUnderHwOffload: _f, ...stable } = PROFILES["mt7621-23.05"];
  expect(unstable).toEqual(stable);
});

test("modules for the offload packages", () => {
  expect(modulesForPackages(["kmod-nf-flow", "kmod-nft-offload", "kmod-ipt-offload", "busybox"])).toEqual([
    "nf_flow_table",
    "nf_flow_table_inet",
    "nft_flow_offload",
    "xt_FLOWOFFLOAD",
  ]);
});
