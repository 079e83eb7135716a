import fc from "fast-check";
import * as fs from "fs";
import * as path from "path";
import { startSimulatedRouter, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { getPool, shellCommand } from "../../provider/transport";
import { uciBatch } from "../../provider/device/uci";
import { routerShell, type RouterShell } from "../../provider/device/shell";
import { optionsFor } from "../helpers/router-files";

/**
 * Any value a user can give ends up in a remote shell through the one quoting function; these
 * properties run it against the simulated router's real busybox ash and emulated uci. uci itself
 * refuses control characters other than TAB/LF/CR (openwrt-behaviour.md §1.1), and an empty value
 * means "delete", so those are left out of the generated values.
 */
const CANARY = "/tmp/quoting-canary";
const shellSyntax = fc.constantFrom("'", '"', "`", "$(", ")", "${", "}", ";", "&", "|", "\n", "\t", "\\", "'\\''", "*", "?", "~", "#", " ", "<", ">", "!", `$(touch ${CANARY})`, `\`touch ${CANARY}\``, "é", "日本", "\u{1F600}", "\r");
const value = fc
  .array(fc.oneof(shellSyntax, fc.string({ unit: "grapheme", maxLength: 6 })), { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(""))
  .filter((v) => v.length > 0 && [...v].every(uciAccepts));

function uciAccepts(ch: string): boolean {
  const code = ch.codePointAt(0)!;
  return ch === "\t" || ch === "\n" || ch === "\r" || (code >= 0x20 && code !== 0x7f);
}

let router: SimulatedRouter;
let shell: RouterShell;

beforeAll(async () => {
  router = await startSimulatedRouter({ profile: "x86-64-23.05" });
  fs.writeFileSync(path.join(router.rootDir, "etc/config/quoting"), "\nconfig item 'probe'\n");
  shell = routerShell(optionsFor(router));
});
afterAll(async () => {
  await getPool().closeAll();
  await router.stop();
});

test("uci set through shellCommand reads back identical and never executes", async () => {
  await fc.assert(
    fc.asyncProperty(value, async (v) => {
      const out = await shell.run(`${shellCommand(["uci", "set", `quoting.probe.value=${v}`])} && ${shellCommand(["uci", "get", "quoting.probe.value"])}`, {
        purpose: "quoting property",
      });
      expect(out.stdout).toBe(`${v}\n`);
    }),
    { numRuns: 60 },
  );
  expect(fs.existsSync(path.join(router.rootDir, CANARY))).toBe(false);
}, 120_000);

test("uci batch input built with the same quoting reads back identical and never executes", async () => {
  await fc.assert(
    fc.asyncProperty(value, async (v) => {
      const batch = uciBatch("quoting", [{ section: "probe", option: "batched", value: v }]);
      const out = await shell.run(`uci batch && ${shellCommand(["uci", "get", "quoting.probe.batched"])}`, { purpose: "quoting property", stdin: batch });
      expect(out.stdout).toBe(`${v}\n`);
    }),
    { numRuns: 60 },
  );
  expect(fs.existsSync(path.join(router.rootDir, CANARY))).toBe(false);
}, 120_000);
