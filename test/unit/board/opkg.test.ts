import { gunzipSync } from "zlib";
import { overlayUsage } from "../../../sim/tools/df";
import { opkgTool } from "../../../sim/tools/opkg";
import { cleanupRouters, makeRouter, runTool, TestRouter } from "./helpers";

afterAll(cleanupRouters);

const opkg = (router: TestRouter, ...args: string[]) => runTool(router, opkgTool, ["opkg", ...args]);

describe("list-installed", () => {
  test("prints `name - version`, exit 0 even when nothing matches", async () => {
    const router = makeRouter("mt7621-23.05");
    expect(await opkg(router, "list-installed", "kmod-nft-offload")).toEqual({ code: 0, stdout: "kmod-nft-offload - 5.15.162-1\n", stderr: "" });
    expect(await opkg(router, "list-installed", "kmod-does-not-exist")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect((await opkg(router, "list-installed", "kmod-nf*")).stdout).toBe(
      "kmod-nf-conntrack - 5.15.162-1\nkmod-nf-conntrack6 - 5.15.162-1\nkmod-nf-flow - 5.15.162-1\nkmod-nf-nat - 5.15.162-1\n" +
        "kmod-nf-reject - 5.15.162-1\nkmod-nf-reject6 - 5.15.162-1\nkmod-nfnetlink - 5.15.162-1\nkmod-nft-core - 5.15.162-1\n" +
        "kmod-nft-fib - 5.15.162-1\nkmod-nft-nat - 5.15.162-1\nkmod-nft-offload - 5.15.162-1\n",
    );
  });

  test("the database is opkg's own files, for scripts that grep them", () => {
    const router = makeRouter("mt7621-23.05");
    expect(router.fs.readText("/usr/lib/opkg/status")).toContain(
      "Package: kmod-nft-offload\nVersion: 5.15.162-1\nDepends: kernel (=5.15.162-1-ea8a5cb2f2c3a0e9ef1e3c79ac0b5e04), kmod-nf-flow, kmod-nft-nat\n" +
        "Status: install user installed\nArchitecture: mipsel_24kc\nInstalled-Time: 1719306185\n\n",
    );
    const control = router.fs.readText("/usr/lib/opkg/info/kmod-nft-offload.control");
    expect(control).toContain("Installed-Size: 18432\n");
    expect(router.fs.readText("/usr/lib/opkg/info/kmod-nft-offload.list")).toBe(
      "/lib/modules/5.15.162/nf_flow_table_inet.ko\n/lib/modules/5.15.162/nft_flow_offload.ko\n",
    );
  });
});

describe("update", () => {
  test("fetches every official feed's list into /var/opkg-lists", async () => {
    const router = makeRouter("mt7621-23.05");
    const r = await opkg(router, "update");
    const base = "https://downloads.openwrt.org/releases/23.05.4";
    const feed = (name: string, url: string) =>
      `Downloading ${url}/Packages.gz\nUpdated list of available packages in /var/opkg-lists/${name}\nDownloading ${url}/Packages.sig\nSignature check passed.\n`;
    expect(r).toEqual({
      code: 0,
      stderr: "",
      stdout:
        feed("openwrt_core", `${base}/targets/ramips/mt7621/packages`) +
        ["base", "luci", "packages", "routing", "telephony"].map((f) => feed(`openwrt_${f}`, `${base}/packages/mipsel_24kc/${f}`)).join(""),
    });
    const core = gunzipSync(router.fs.readBytes("/tmp/opkg-lists/openwrt_core")).toString();
    expect(core).toContain("Package: kmod-nft-offload\nVersion: 5.15.162-1\n");
    expect(core).toContain("Filename: kmod-nft-offload_5.15.162-1_mipsel_24kc.ipk\n");
  });

  test("24.10 has a separate kmods feed", async () => {
    const r = await opkg(makeRouter("mt7621-24.10"), "update");
    expect(r.stdout).toContain(
      "Downloading https://downloads.openwrt.org/releases/24.10.0/targets/ramips/mt7621/kmods/6.6.73~2dd8e4a1dd3c1d4f2b8a04f0c4b4b6c1-r1/Packages.gz\n",
    );
  });

  test("a feed the router cannot reach counts as a failure", async () => {
    const router = makeRouter("mt7621-23.05");
    router.fs.writeAtomic("/etc/opkg/customfeeds.conf", "src/gz mine https://feed.example/packages\n");
    const r = await opkg(router, "update");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("Downloading https://feed.example/packages/Packages.gz\n*** Failed to download the package list from https://feed.example/packages/Packages.gz\n\n");
    expect(r.stderr).toBe(
      "Collected errors:\n * opkg_download: Failed to download https://feed.example/packages/Packages.gz, wget returned 4.\n * opkg_download: Check your network settings and connectivity.\n\n",
    );
  });
});

describe("install", () => {
  test("without `opkg update` the package is unknown", async () => {
    const r = await opkg(makeRouter("ipq40xx-22.03"), "install", "kmod-nft-offload");
    expect(r).toEqual({
      code: 255,
      stdout: "Unknown package 'kmod-nft-offload'.\n",
      stderr: "Collected errors:\n * opkg_install_cmd: Cannot install package kmod-nft-offload.\n",
    });
  });

  test("installs with dependencies, records them, loads the modules", async () => {
    const router = makeRouter("ipq40xx-22.03");
    expect((await opkg(router, "list-installed", "kmod-nft-offload")).stdout).toBe("");
    await opkg(router, "update");
    const core = "https://downloads.openwrt.org/releases/22.03.5/targets/ipq40xx/mikrotik/packages";
    expect(await opkg(router, "install", "kmod-nft-offload")).toEqual({
      code: 0,
      stderr: "",
      stdout:
        "Installing kmod-nft-offload (5.10.176-1) to root...\n" +
        `Downloading ${core}/kmod-nft-offload_5.10.176-1_arm_cortex-a7_neon-vfpv4.ipk\n` +
        "Installing kmod-nf-flow (5.10.176-1) to root...\n" +
        `Downloading ${core}/kmod-nf-flow_5.10.176-1_arm_cortex-a7_neon-vfpv4.ipk\n` +
        "Configuring kmod-nf-flow.\n" +
        "Configuring kmod-nft-offload.\n",
    });
    expect((await opkg(router, "list-installed", "kmod-n*-flow*")).stdout).toBe("kmod-nf-flow - 5.10.176-1\n");
    expect([...router.kernel.modules]).toEqual(expect.arrayContaining(["nf_flow_table", "nf_flow_table_inet", "nft_flow_offload"]));
    expect(router.fs.exists("/lib/modules/5.10.176/nft_flow_offload.ko")).toBe(true);
    expect(router.fs.readText("/usr/lib/opkg/status")).toMatch(/Package: kmod-nf-flow\n[^]*?Auto-Installed: yes\n/);
    expect(await opkg(router, "install", "kmod-nft-offload")).toEqual({
      code: 0,
      stdout: "Package kmod-nft-offload (5.10.176-1) installed in root is up to date.\n",
      stderr: "",
    });
  });

  test("installing a package that brings a program links it into PATH", async () => {
    const router = makeRouter("x86-64-23.05");
    await opkg(router, "update");
    expect(router.fs.list("/usr/sbin")).not.toContain("ethtool");
    expect((await opkg(router, "install", "ethtool")).code).toBe(0);
    expect(router.fs.list("/usr/sbin")).toContain("ethtool");
    expect(router.fs.readText("/usr/lib/opkg/info/ethtool.list")).toBe("/usr/sbin/ethtool\n");
  });

  test("refuses with opkg's message when the overlay is short of space", async () => {
    const router = makeRouter("ipq40xx-22.03");
    await opkg(router, "update");
    const avail = overlayUsage(router).availKiB;
    router.fs.writeAtomic("/overlay/upper/filler", Buffer.alloc((avail - 10) * 1024));
    const left = overlayUsage(router).availKiB;
    expect(left).toBeLessThan(18);
    const r = await opkg(router, "install", "kmod-nft-offload");
    expect(r).toEqual({
      code: 255,
      stdout: "Installing kmod-nft-offload (5.10.176-1) to root...\n",
      stderr:
        "Collected errors:\n" +
        ` * verify_pkg_installable: Only have ${left}kb available on filesystem /overlay, pkg kmod-nft-offload needs 18\n` +
        " * opkg_install_cmd: Cannot install package kmod-nft-offload.\n",
    });
    expect((await opkg(router, "list-installed", "kmod-nf*-offload")).stdout).toBe("");
    expect(await opkg(router, "--force-space", "install", "kmod-nft-offload")).toMatchObject({ code: 0 });
  });

  test("a full overlay has 0kb available", async () => {
    const router = makeRouter("mt7621-23.05");
    await opkg(router, "update");
    router.faults.overlayFull = true;
    const r = await opkg(router, "install", "iperf3");
    expect(r.stderr).toContain(" * verify_pkg_installable: Only have 0kb available on filesystem /overlay, pkg iperf3 needs 132\n");
  });

  test("a dependency that fails stops the package", async () => {
    const router = makeRouter("ipq40xx-22.03");
    await opkg(router, "update");
    const avail = overlayUsage(router).availKiB;
    router.fs.writeAtomic("/overlay/upper/filler", Buffer.alloc((avail - 30) * 1024));
    const r = await opkg(router, "install", "kmod-nft-offload");
    expect(r.code).toBe(255);
    expect(r.stdout).toBe(
      "Installing kmod-nft-offload (5.10.176-1) to root...\n" +
        "Downloading https://downloads.openwrt.org/releases/22.03.5/targets/ipq40xx/mikrotik/packages/kmod-nft-offload_5.10.176-1_arm_cortex-a7_neon-vfpv4.ipk\n" +
        "Installing kmod-nf-flow (5.10.176-1) to root...\n",
    );
    expect(r.stderr).toMatch(/pkg kmod-nf-flow needs 54\n \* opkg_install_cmd: Cannot install package kmod-nft-offload\.\n$/);
  });
});

describe("remove", () => {
  test("refuses to remove what others depend on", async () => {
    const r = await opkg(makeRouter("mt7621-23.05"), "remove", "kmod-nf-flow");
    expect(r).toEqual({
      code: 255,
      stdout: "No packages removed.\n",
      stderr:
        "Collected errors:\n" +
        " * print_dependents_warning: Package kmod-nf-flow is depended upon by packages:\n" +
        " * print_dependents_warning: \tkmod-nft-offload\n" +
        " * print_dependents_warning: These might cease to work if package kmod-nf-flow is removed.\n\n" +
        " * print_dependents_warning: Force removal of this package with --force-depends.\n" +
        " * print_dependents_warning: Force removal of this package and its dependents\n" +
        " * print_dependents_warning: with --force-removal-of-dependent-packages.\n",
    });
  });

  test("removes a leaf package and its files", async () => {
    const router = makeRouter("mt7621-23.05");
    expect(router.fs.list("/usr/sbin")).toContain("ethtool");
    expect(await opkg(router, "remove", "ethtool")).toEqual({ code: 0, stdout: "Removing package ethtool from root...\n", stderr: "" });
    expect(router.fs.list("/usr/sbin")).not.toContain("ethtool");
    expect(router.fs.exists("/usr/lib/opkg/info/ethtool.control")).toBe(false);
    expect(await opkg(router, "remove", "ethtool")).toEqual({ code: 0, stdout: "No packages removed.\n", stderr: "" });
  });
});

describe("command line", () => {
  test("no sub-command, unknown sub-command, missing argument", async () => {
    const router = makeRouter("mt7621-23.05");
    const none = await opkg(router);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe("opkg must have one sub-command argument\n");
    expect(none.stdout.startsWith("usage: opkg [options...] sub-command [arguments...]\n")).toBe(true);
    expect((await opkg(router, "frobnicate")).stderr).toBe("opkg: unknown sub-command frobnicate\n");
    expect((await opkg(router, "install")).stderr).toBe("opkg: the ``install'' command requires at least one argument\n");
  });
});
