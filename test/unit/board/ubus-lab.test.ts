import { DeviceStatistics, renderDeviceStatus, renderInterfaceDump } from "../../../sim/netifd";
import { ubusTool } from "../../../sim/tools/ubus";
import { captured, cleanupRouters, makeRouter, runTool } from "./helpers";

/**
 * The x86-64-23.05 profile is the lab router of fw4-renders/ubus-for-fw4.txt (real OpenWrt 23.05.4
 * netifd): br-lan on eth0, wan on eth1 by DHCP, wan6 proto none. Uptimes, the DHCP lease and the
 * link counters are what the capture happened to see; everything else must come out byte for byte.
 */
const DUMP = captured("ubus-for-fw4.txt", "ubus call network.interface dump");
const DEVICES = captured("ubus-for-fw4.txt", "ubus call network.device status");

function labRouter() {
  const boot = 1_000_000;
  let now = boot;
  const recorded = JSON.parse(DEVICES) as Record<string, { statistics: DeviceStatistics }>;
  const router = makeRouter("x86-64-23.05", {
    clock: () => now,
    leases: { wan: "203.0.113.151" },
    statistics: Object.fromEntries(Object.entries(recorded).map(([dev, s]) => [dev, s.statistics])),
  });
  // Captured two seconds after netifd started: statics up for 2 s, the DHCP lease just obtained.
  now = boot + 2000;
  return router;
}

afterAll(cleanupRouters);

test("network.interface dump matches the real 23.05.4 netifd byte for byte", () => {
  const router = labRouter();
  expect(renderInterfaceDump(router.netifd.interfaces())).toBe(DUMP);
});

test("network.device status matches the real 23.05.4 netifd byte for byte", () => {
  const router = labRouter();
  expect(renderDeviceStatus(router.netifd, router.kernel.hwTcOffload)).toBe(DEVICES);
});

test("the ubus CLI prints the same text", async () => {
  const router = labRouter();
  expect(await runTool(router, ubusTool, ["ubus", "call", "network.interface", "dump"])).toEqual({ code: 0, stdout: DUMP, stderr: "" });
  expect(await runTool(router, ubusTool, ["ubus", "call", "network.device", "status"])).toEqual({ code: 0, stdout: DEVICES, stderr: "" });
});

test("a single device or interface is the dump's entry without its name", async () => {
  const router = labRouter();
  const dev = await runTool(router, ubusTool, ["ubus", "call", "network.device", "status", '{"name":"br-lan"}']);
  expect(dev.code).toBe(0);
  expect(JSON.parse(dev.stdout)).toEqual(JSON.parse(DEVICES)["br-lan"]);
  const lan = await runTool(router, ubusTool, ["ubus", "call", "network.interface.lan", "status"]);
  const { interface: name, ...rest } = (JSON.parse(DUMP) as { interface: Record<string, unknown>[] }).interface[0];
  expect(name).toBe("lan");
  expect(JSON.parse(lan.stdout)).toEqual(rest);
  expect(lan.stdout.startsWith('{\n\t"up": true,\n')).toBe(true);
});
