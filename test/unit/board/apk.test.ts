import { overlayUsage } from "../../../sim/tools/df";
import { apkTool } from "../../../sim/tools/apk";
import { cleanupRouters, makeRouter, runTool, TestRouter } from "./helpers";

afterAll(cleanupRouters);

const apk = (router: TestRouter, ...args: string[]) => runTool(router, apkTool, ["apk", ...args]);

test("info -e prints the installed names; the exit status counts the missing ones", async () => {
  const router = makeRouter("filogic-25.12");
  expect(await apk(router, "info", "-e", "kmod-nft-offload")).toEqual({ code: 0, stdout: "kmod-nft-offload\n", stderr: "" });
  expect(await apk(router, "info", "-e", "kmod-nft-offload", "nope", "kmod-ipt-offload")).toEqual({ code: 2, stdout: "kmod-nft-offload\n", stderr: "" });
});

test("list --installed", async () => {
  const router = makeRouter("filogic-25.12");
  expect(await apk(router, "list", "--installed", "kmod-nft-offload")).toEqual({
    code: 0,
    stdout: "kmod-nft-offload-6.12.57-r1 aarch64_cortex-a53 {linux} (GPL-2.0-only) [installed]\n",
    stderr: "",
  });
  expect((await apk(router, "list", "-I", "kmod-ipt-offload")).stdout).toBe("");
  expect((await apk(router, "list", "kmod-ipt-offload")).stdout).toBe("kmod-ipt-offload-6.12.57-r1 aarch64_cortex-a53 {linux} (GPL-2.0-only)\n");
});

test("the database is apk's installed file and world", () => {
  const router = makeRouter("filogic-25.12");
  const db = router.fs.readText("/lib/apk/db/installed");
  expect(db).toMatch(/\nP:kmod-nft-offload\nV:6\.12\.57-r1\nA:aarch64_cortex-a53\n[^]*?D:kernel=6\.12\.57~9c3f7b0a1e5d8c2f4a6b0e3d7c1f5a9b-r1 kmod-nf-flow kmod-nft-nat\nF:lib\/modules\/6\.12\.57\nR:nf_flow_table_inet\.ko\nR:nft_flow_offload\.ko\n/);
  expect(router.fs.readText("/etc/apk/world").split("\n")).toContain("kmod-nft-offload");
});

test("add installs dependencies first, needs no update, loads the modules", async () => {
  const router = makeRouter("filogic-25.12");
  const r = await apk(router, "add", "kmod-ipt-offload");
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^\(1\/2\) Installing kmod-ipt-core \(6\.12\.57-r1\)\n\(2\/2\) Installing kmod-ipt-offload \(6\.12\.57-r1\)\nOK: \d+ MiB in \d+ packages\n$/);
  expect(router.kernel.modules.has("xt_FLOWOFFLOAD")).toBe(true);
  expect(router.fs.readText("/etc/apk/world").split("\n")).toContain("kmod-ipt-offload");
  expect(router.fs.readText("/etc/apk/world").split("\n")).not.toContain("kmod-ipt-core");
});

test("add of an unknown package changes nothing", async () => {
  const router = makeRouter("filogic-25.12");
  expect(await apk(router, "add", "nope")).toEqual({
    code: 1,
    stdout: "",
    stderr: "ERROR: unable to select packages:\n  nope (no such package):\n    required by: world[nope]\n",
  });
});

test("add fails to write a package that does not fit", async () => {
  const router = makeRouter("filogic-25.12");
  router.fs.writeAtomic("/overlay/upper/filler", Buffer.alloc((overlayUsage(router).availKiB - 100) * 1024));
  const r = await apk(router, "add", "tcpdump-mini");
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/^\(1\/1\) Installing tcpdump-mini \(4\.99\.5-r2\)\n1 error; \d+ MiB in \d+ packages\n$/);
  expect(r.stderr).toBe("ERROR: tcpdump-mini-4.99.5-r2: No space left on device\n");
  expect((await apk(router, "info", "-e", "tcpdump-mini")).code).toBe(1);
});

test("del keeps what the world still needs and purges orphans", async () => {
  const router = makeRouter("filogic-25.12");
  await apk(router, "add", "kmod-ipt-offload");
  const kept = await apk(router, "del", "kmod-nf-flow");
  expect(kept.stdout).toMatch(/^World updated, but the following packages are not removed due to:\n {2}kmod-nf-flow: kmod-ipt-offload kmod-nft-offload\n\nOK: /);
  expect((await apk(router, "info", "-e", "kmod-nf-flow")).code).toBe(0);
  const purged = await apk(router, "del", "kmod-ipt-offload");
  expect(purged.stdout).toMatch(/^\(1\/2\) Purging kmod-ipt-offload \(6\.12\.57-r1\)\n\(2\/2\) Purging kmod-ipt-core \(6\.12\.57-r1\)\nOK: /);
  expect(await apk(router, "del", "nope")).toEqual({ code: 1, stdout: "", stderr: "ERROR: No such package: nope\n" });
});
