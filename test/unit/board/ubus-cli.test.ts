import { ubusTool } from "../../../sim/tools/ubus";
import { cleanupRouters, makeRouter, runTool } from "./helpers";

afterAll(cleanupRouters);

const ubus = (router: ReturnType<typeof makeRouter>, ...args: string[]) => runTool(router, ubusTool, ["ubus", ...args]);

describe("system board", () => {
  test("23.05 takes the release from /etc/openwrt_release", async () => {
    const r = await ubus(makeRouter("mt7621-23.05"), "call", "system", "board");
    expect(r).toEqual({
      code: 0,
      stderr: "",
      stdout:
        "{\n" +
        '\t"kernel": "5.15.162",\n' +
        '\t"hostname": "OpenWrt",\n' +
        '\t"system": "MediaTek MT7621 ver:1 eco:3",\n' +
        '\t"model": "Netgear R6220",\n' +
        '\t"board_name": "netgear,r6220",\n' +
        '\t"rootfs_type": "squashfs",\n' +
        '\t"release": {\n' +
        '\t\t"distribution": "OpenWrt",\n' +
        '\t\t"version": "23.05.4",\n' +
        '\t\t"revision": "r24012-d8dd03c46f",\n' +
        '\t\t"target": "ramips/mt7621",\n' +
        '\t\t"description": "OpenWrt 23.05.4 r24012-d8dd03c46f"\n' +
        "\t}\n" +
        "}\n",
    });
  });

  test("24.10 and later parse os-release (build date; firmware_url from 25.12)", async () => {
    const r24 = JSON.parse((await ubus(makeRouter("mt7621-24.10"), "call", "system", "board")).stdout);
    expect(r24.release).toEqual({
      distribution: "OpenWrt",
      version: "24.10.0",
      revision: "r28427-6df0e3d02a",
      target: "ramips/mt7621",
      description: "OpenWrt 24.10.0 r28427-6df0e3d02a",
      builddate: "1738624177",
    });
    const r25 = JSON.parse((await ubus(makeRouter("filogic-25.12"), "call", "system", "board")).stdout);
    expect(Object.keys(r25.release)).toEqual(["distribution", "version", "revision", "target", "description", "builddate", "firmware_url"]);
    expect(r25.kernel).toBe("6.12.57");
  });

  test("21.02's procd has no rootfs_type", async () => {
    const board = JSON.parse((await ubus(makeRouter("ath79-21.02"), "call", "system", "board")).stdout);
    expect(board).not.toHaveProperty("rootfs_type");
    expect(board.release.version).toBe("21.02.7");
  });

  test("-S prints compact JSON on one line", async () => {
    const r = await ubus(makeRouter("x86-64-23.05"), "-S", "call", "system", "board");
    expect(r.stdout).toBe(
      '{"kernel":"5.15.162","hostname":"OpenWrt","system":"QEMU Virtual CPU version 2.5+","model":"QEMU Standard PC (i440FX + PIIX, 1996)",' +
        '"board_name":"qemu-standard-pc-i440fx-piix-1996","rootfs_type":"ext4","release":{"distribution":"OpenWrt","version":"23.05.4",' +
        '"revision":"r24012-d8dd03c46f","target":"x86/64","description":"OpenWrt 23.05.4 r24012-d8dd03c46f"}}\n',
    );
  });

  test("system reboot asks the router to reboot and prints nothing", async () => {
    const router = makeRouter("mt7621-23.05");
    expect(await ubus(router, "call", "system", "reboot")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(router.reboots).toHaveLength(1);
  });
});

describe("errors (stderr is not a terminal over SSH)", () => {
  test("unknown object: Command failed: Not found, exit 4; silent with -S", async () => {
    const router = makeRouter("mt7621-23.05");
    expect(await ubus(router, "call", "nosuch", "status")).toEqual({ code: 4, stdout: "", stderr: "Command failed: Not found\n" });
    expect(await ubus(router, "-S", "call", "nosuch", "status")).toEqual({ code: 4, stdout: "", stderr: "" });
  });

  test("unknown method: the verbose form, exit 256 - 3", async () => {
    const r = await ubus(makeRouter("mt7621-23.05"), "call", "system", "frobnicate");
    expect(r).toEqual({ code: 253, stdout: "", stderr: "Command failed: ubus call system frobnicate (Method not found)\n" });
  });

  test("unknown device: Invalid argument plus the usage text, exit 254; -S exits 2 quietly", async () => {
    const router = makeRouter("mt7621-23.05");
    const r = await ubus(router, "call", "network.device", "status", '{"name":"eth9"}');
    expect(r.code).toBe(254);
    expect(r.stderr.startsWith('Command failed: ubus call network.device status {"name":"eth9"} (Invalid argument)\nUsage: ubus [<options>] <command> [arguments...]\n')).toBe(true);
    expect(await ubus(router, "-S", "call", "network.device", "status", '{"name":"eth9"}')).toEqual({ code: 2, stdout: "", stderr: "" });
  });

  test("a message that is not a JSON object fails to parse, exit 244", async () => {
    const r = await ubus(makeRouter("mt7621-23.05"), "call", "system", "board", "[1]");
    expect(r).toEqual({ code: 244, stdout: "", stderr: "Command failed: ubus call system board [1] (Parsing message data failed)\n" });
  });

  test("wrong arity prints the usage, exit 254", async () => {
    const r = await ubus(makeRouter("mt7621-23.05"), "call", "system");
    expect(r.code).toBe(254);
    expect(r.stderr).toContain(" - call <path> <method> [<message>]\tCall an object method\n");
  });

  test("interface status through network.interface needs an existing interface", async () => {
    const router = makeRouter("mt7621-23.05");
    expect((await ubus(router, "call", "network.interface", "status", '{"interface":"guest"}')).code).toBe(252);
    const wan = JSON.parse((await ubus(router, "call", "network.interface", "status", '{"interface":"wan"}')).stdout);
    expect(wan.proto).toBe("dhcp");
  });
});

describe("list", () => {
  test("lists objects sorted, one per line; a pattern with * matches a prefix", async () => {
    const router = makeRouter("mt7621-23.05");
    expect((await ubus(router, "list")).stdout).toBe(
      "network\nnetwork.device\nnetwork.interface\nnetwork.interface.lan\nnetwork.interface.loopback\nnetwork.interface.wan\nnetwork.interface.wan6\nsystem\n",
    );
    expect((await ubus(router, "list", "network.interface.*")).stdout).toBe(
      "network.interface.lan\nnetwork.interface.loopback\nnetwork.interface.wan\nnetwork.interface.wan6\n",
    );
    expect(await ubus(router, "list", "uci")).toEqual({ code: 4, stdout: "", stderr: "Command failed: Not found\n" });
  });

  test("-v shows an id and the method signatures", async () => {
    const r = await ubus(makeRouter("mt7621-23.05"), "-v", "list", "network.device");
    expect(r.stdout).toMatch(/^'network\.device' @[0-9a-f]{8}\n\t"status":\{"name":"String"\}\n$/);
  });
});

describe("netifd state", () => {
  test("network reload applies the committed config; staged changes are not netifd's business", async () => {
    const router = makeRouter("mt7621-23.05");
    const config = router.fs.readText("/etc/config/network").replace("192.168.1.1", "10.10.0.1");
    router.fs.writeAtomic("/tmp/.uci/network", "network.lan.ipaddr='172.16.0.1'\n");
    router.fs.writeAtomic("/etc/config/network", config);
    expect(await ubus(router, "call", "network", "reload")).toEqual({ code: 0, stdout: "", stderr: "" });
    const lan = JSON.parse((await ubus(router, "call", "network.interface.lan", "status")).stdout);
    expect(lan["ipv4-address"]).toEqual([{ address: "10.10.0.1", mask: 24 }]);
  });

  test("down and up on an interface", async () => {
    const router = makeRouter("mt7621-23.05");
    await ubus(router, "call", "network.interface.wan", "down");
    const down = JSON.parse((await ubus(router, "call", "network.interface.wan", "status")).stdout);
    expect(down).toEqual({ up: false, pending: false, available: true, autostart: true, dynamic: false, proto: "dhcp", device: "wan", data: {} });
    await ubus(router, "call", "network.interface", "up", '{"interface":"wan"}');
    expect(JSON.parse((await ubus(router, "call", "network.interface.wan", "status")).stdout).up).toBe(true);
  });

  test("hw-tc-offload and bridge members follow the kernel and the config", async () => {
    const router = makeRouter("mt7621-23.05");
    router.kernel.hwTcOffload.set("wan", false);
    const all = JSON.parse((await ubus(router, "call", "network.device", "status")).stdout);
    expect(Object.keys(all)).toEqual(["br-lan", "lan1", "lan2", "lan3", "lan4", "lo", "wan"]);
    expect(all.wan["hw-tc-offload"]).toBe(false);
    expect(all.lan1["hw-tc-offload"]).toBe(true);
    expect(all.lan1.devtype).toBe("dsa");
    expect(all["br-lan"]["bridge-members"]).toEqual(["lan1", "lan2", "lan3", "lan4"]);
    expect(all.lan1.speed).toBe("1000F");
  });

  test("a dhcpv6 interface without an IPv6 upstream stays pending", () => {
    const router = makeRouter("mt7621-23.05");
    router.fs.writeAtomic("/etc/config/network", router.fs.readText("/etc/config/network").replace("'none'", "'dhcpv6'"));
    router.netifd.reload();
    const wan6 = router.netifd.interfaces().find((i) => i.interface === "wan6")!;
    expect({ up: wan6.up, pending: wan6.pending, proto: wan6.proto }).toEqual({ up: false, pending: true, proto: "dhcpv6" });
  });
});
