import { ethtoolTool } from "../../../sim/tools/ethtool";
import { cleanupRouters, makeRouter, runTool, TestRouter } from "./helpers";

afterAll(cleanupRouters);

const ethtool = (router: TestRouter, ...args: string[]) => runTool(router, ethtoolTool, ["ethtool", ...args]);

test("-k lists the features with hw-tc-offload from the kernel", async () => {
  const router = makeRouter("mt7621-23.05");
  const r = await ethtool(router, "-k", "wan");
  expect(r.code).toBe(0);
  const lines = r.stdout.split("\n");
  expect(lines[0]).toBe("Features for wan:");
  expect(lines).toContain("hw-tc-offload: on");
  expect(lines).toContain("\ttx-checksum-ip-generic: on");
  expect(lines).toContain("rx-udp-gro-forwarding: off");
  expect((await ethtool(router, "-k", "br-lan")).stdout).toContain("\nhw-tc-offload: off [fixed]\n");
});

test("older kernels lack the newer features", async () => {
  const r = await ethtool(makeRouter("x86-64-23.05"), "-k", "eth0");
  expect(r.stdout).toContain("\nhw-tc-offload: off [fixed]\n");
  expect(r.stdout).toContain("\ngeneric-receive-offload: off\n");
  const old = await ethtool(makeRouter("ath79-21.02"), "--show-features", "eth0");
  expect(old.stdout).not.toContain("rx-udp-gro-forwarding");
});

test("-K hw-tc-offload changes the kernel's state", async () => {
  const router = makeRouter("mt7621-23.05");
  expect(await ethtool(router, "-K", "wan", "hw-tc-offload", "off")).toEqual({ code: 0, stdout: "", stderr: "" });
  expect(router.kernel.hwTcOffload.get("wan")).toBe(false);
  expect((await ethtool(router, "-k", "wan")).stdout).toContain("\nhw-tc-offload: off\n");
  expect(await ethtool(router, "-K", "wan", "hw-tc-offload", "on")).toEqual({ code: 0, stdout: "", stderr: "" });
  expect(router.kernel.hwTcOffload.get("wan")).toBe(true);
});

test("a fixed feature cannot change", async () => {
  const router = makeRouter("x86-64-23.05");
  expect(await ethtool(router, "-K", "eth1", "hw-tc-offload", "on")).toEqual({ code: 1, stdout: "", stderr: "Could not change any device features\n" });
  expect(await ethtool(router, "-K", "eth1", "hw-tc-offload", "off")).toEqual({ code: 0, stdout: "", stderr: "" });
  expect(router.kernel.hwTcOffload.get("eth1")).toBe(false);
});

test("a partial change reports the actual changes", async () => {
  const router = makeRouter("mt7621-23.05");
  const r = await ethtool(router, "-K", "lan1", "hw-tc-offload", "off", "gro", "off");
  expect(r).toEqual({ code: 0, stdout: "Actual changes:\nhw-tc-offload: off\ngeneric-receive-offload: on [requested off]\n", stderr: "" });
});

test("unknown device and bad arguments", async () => {
  const router = makeRouter("mt7621-23.05");
  expect(await ethtool(router, "-k", "eth9")).toEqual({ code: 1, stdout: "", stderr: "Cannot get device feature names: No such device\n" });
  expect(await ethtool(router, "-K", "eth9", "hw-tc-offload", "on")).toEqual({ code: 1, stdout: "", stderr: "Cannot get device feature names: No such device\n" });
  const bad = { code: 1, stdout: "", stderr: "ethtool: bad command line argument(s)\nFor more information run ethtool -h\n" };
  expect(await ethtool(router, "-K", "wan", "hw-tc-offload", "maybe")).toEqual(bad);
  expect(await ethtool(router, "-K", "wan", "warp-drive", "on")).toEqual(bad);
  expect(await ethtool(router, "-k")).toEqual(bad);
});

test("lo has loopback's features", async () => {
  const r = await ethtool(makeRouter("mt7621-23.05"), "-k", "lo");
  expect(r.stdout).toContain("\nloopback: on [fixed]\n");
});
