import { dfTool, overlayUsage } from "../../../sim/tools/df";
import { cleanupRouters, makeRouter, runTool, TestRouter } from "./helpers";

afterAll(cleanupRouters);

const df = (router: TestRouter, ...args: string[]) => runTool(router, dfTool, ["df", ...args]);

test("df -Pk /overlay: POSIX header, 20-column device, KiB", async () => {
  const router = makeRouter("mt7621-23.05");
  const { totalKiB, usedKiB, availKiB } = overlayUsage(router);
  const pct = Math.floor((usedKiB * 100 + Math.floor(totalKiB / 2)) / totalKiB);
  expect(await df(router, "-Pk", "/overlay")).toEqual({
    code: 0,
    stderr: "",
    stdout:
      "Filesystem           1024-blocks    Used Available Capacity Mounted on\n" +
      `/dev/ubi0_1          ${String(totalKiB).padStart(9)} ${String(usedKiB).padStart(9)} ${String(availKiB).padStart(9)} ${String(pct).padStart(3)}% /overlay\n`,
  });
});

test("plain df lists the squashfs layout", async () => {
  const r = await df(makeRouter("ath79-21.02"));
  const lines = r.stdout.split("\n");
  expect(lines[0]).toBe("Filesystem           1K-blocks      Used Available Use% Mounted on");
  expect(lines.slice(1, -1).map((l) => [l.slice(0, 20).trim(), l.split(" ").pop()])).toEqual([
    ["/dev/root", "/rom"],
    ["tmpfs", "/tmp"],
    ["/dev/mtdblock5", "/overlay"],
    ["overlayfs:/overlay", "/"],
    ["tmpfs", "/dev"],
  ]);
  expect(lines[1]).toMatch(/^\/dev\/root +(\d+) +\1 +0 100% \/rom$/);
});

test("an ext4 image has no overlay: /overlay is on the root filesystem", async () => {
  const router = makeRouter("x86-64-23.05");
  const r = await df(router, "-Pk", "/overlay");
  expect(r.stdout.split("\n")[1]).toMatch(/^\/dev\/root +102400 +\d+ +\d+ +\d+% \/$/);
});

test("what is written under /etc and /overlay takes flash space", async () => {
  const router = makeRouter("mt7621-23.05");
  const before = overlayUsage(router);
  router.fs.writeAtomic("/etc/guard/snapshot.tar", Buffer.alloc(200 * 1024));
  router.fs.writeAtomic("/tmp/scratch", Buffer.alloc(500 * 1024));
  expect(overlayUsage(router).usedKiB).toBe(before.usedKiB + 200);
  expect(router.overlayFreeKiB()).toBe(before.availKiB - 200);
});

test("the full-overlay fault: nothing available, 100%", async () => {
  const router = makeRouter("mt7621-24.10");
  router.faults.overlayFull = true;
  const row = (await df(router, "-Pk", "/overlay")).stdout.split("\n")[1];
  expect(row).toMatch(/^\/dev\/mtdblock6 +6976 +\d+ +0 100% \/overlay$/);
});

test("-h, -T, and a path that does not exist", async () => {
  const router = makeRouter("mt7621-23.05");
  expect((await df(router, "-h", "/tmp")).stdout).toBe(
    "Filesystem                Size      Used Available Use% Mounted on\ntmpfs                    58.6M         0     58.6M   0% /tmp\n",
  );
  expect((await df(router, "-T", "/")).stdout.split("\n")[0]).toBe("Filesystem           Type       1K-blocks      Used Available Use% Mounted on");
  expect(await df(router, "/nonexistent")).toEqual({
    code: 1,
    stdout: "Filesystem           1K-blocks      Used Available Use% Mounted on\n",
    stderr: "df: /nonexistent: can't find mount point\n",
  });
  const bad = await df(router, "-z");
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/^df: unrecognized option: z\nBusyBox v1\.36\.1 \(2024-06-25 \d\d:\d\d:\d\d UTC\) multi-call binary\.\n/);
});
