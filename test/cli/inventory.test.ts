import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CLI, requireBuiltCli, tempDir } from "./fleet";

/** A broken inventory stops audit and drift before any router is touched, naming file and line. */
let dir: string;
beforeAll(() => {
  requireBuiltCli();
  dir = tempDir("inventory-");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// No simulated routers live in this process, so a synchronous spawn is fine here.
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

test.each(["audit", "drift"])("%s: every problem as file:line: path: message, exit 1, nothing on stdout", (command) => {
  const file = write(
    "bad.yaml",
    [
      "defaults:",
      "  user: root",
      "routers:",
      "  - name: edge-1",
      "    host: 192.0.2.1",
      "    port: 70000",
      "    insecureIgnoreHostKey: true",
      "    passwordEnv: HOME",
      "  - name: edge-2",
      "    host: 192.0.2.2",
      "    mode: turbo",
      "    insecureIgnoreHostKey: true",
      "    passwordEnv: HOME",
      "",
    ].join("\n"),
  );
  const res = cli(command, "--inventory", file);
  expect(res.status).toBe(1);
  expect(res.stdout).toBe("");
  const lines = res.stderr.trimEnd().split("\n");
  expect(lines[0]).toBe(`openwrt-offload: invalid inventory ${file}:`);
  expect(lines).toContain(`  ${file}:6: routers[0].port: Too big: expected number to be <=65535`);
  expect(lines).toContain(`  ${file}:11: routers[1].mode: Invalid option: expected one of "auto"|"hardware"|"software"|"off"`);
});

test("a YAML syntax error and a missing file are one clear line each", () => {
  const broken = write("broken.yaml", "routers:\n  - name: [edge-1\n");
  const syntax = cli("drift", "--inventory", broken);
  expect(syntax.status).toBe(1);
  expect(syntax.stderr).toMatch(new RegExp(`^openwrt-offload: invalid inventory .*\\n {2}${broken.replace(/[.]/g, "\\.")}:3: \\(syntax\\): `));
  const missing = cli("audit", "--inventory", path.join(dir, "nope.yaml"));
  expect(missing.status).toBe(1);
  expect(missing.stderr).toBe(`openwrt-offload: cannot read the inventory ${path.join(dir, "nope.yaml")}: no such file\n`);
});

test("bad option values are refused by the command line parser", () => {
  const file = write("ok.yaml", "routers:\n  - { name: a, host: 192.0.2.1, insecureIgnoreHostKey: true, passwordEnv: HOME }\n");
  expect(cli("audit", "--inventory", file, "--concurrency", "0").stderr).toMatch(/--concurrency must be a whole number from 1 to 1024, got "0"/);
  expect(cli("drift", "--inventory", file, "--policy", "fast").stderr).toMatch(/argument 'fast' is invalid. Allowed choices are auto, software, off/);
});
