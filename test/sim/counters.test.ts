import { startSimulatedRouter, type SimulatedRouter } from "../../sim";
import { run } from "../helpers/sim-client";

/**
 * The router's own count of what it ran (processes started in its PID namespace, emulated-program
 * calls and what the RPC shim adds to them): known command sequences give known counts.
 */
let router: SimulatedRouter;

beforeAll(async () => {
  router = await startSimulatedRouter({ profile: "mt7621-23.05" });
}, 60_000);

afterAll(() => router?.stop());

async function counted(command: string, via: "ssh" | "console" = "ssh") {
  const before = await router.counters();
  const result = via === "ssh" ? await run(router, command) : await router.console(command);
  const after = await router.counters();
  return {
    code: result.code,
    processStarts: after.processStarts - before.processStarts,
    shimProcessStarts: after.shimProcessStarts - before.shimProcessStarts,
    toolCalls: after.toolCalls - before.toolCalls,
  };
}

test("an idle router starts nothing (its init reaps without polling)", async () => {
  const before = await router.counters();
  await new Promise((r) => setTimeout(r, 2500));
  expect((await router.counters()).processStarts).toBe(before.processStarts);
});

test.each([
  // The exec's own shell; builtins start nothing.
  ["true", 1, 0, 0],
  ["echo a; [ -d /etc ]; read -r x </etc/openwrt_release", 1, 0, 0],
  // ash runs the last command of `sh -c` in its own process: only the first /bin/true is a fork.
  ["/bin/true; /bin/true", 2, 0, 0],
  ["echo a | cat", 3, 0, 0],
  ["x=$(/bin/true)", 2, 0, 0],
  // An emulated program: its shim (which the shell became), a mkfifo and a cat for its output.
  ["uci show firewall", 3, 2, 1],
  // Nothing on stdout: no cat.
  ["uci -q get firewall.nonexistent.option", 2, 1, 1],
  ["uci show firewall >/dev/null; uci show network >/dev/null", 6, 4, 2],
] as const)("%s: %i process starts, %i of them the shim's, %i program calls", async (command, starts, shim, calls) => {
  const counts = await counted(command);
  expect(counts).toEqual({ code: expect.any(Number), processStarts: starts, shimProcessStarts: shim, toolCalls: calls });
});

test("the serial console counts like an exec", async () => {
  expect(await counted("/bin/true; /bin/true", "console")).toMatchObject({ processStarts: 2 });
});

test("a reboot starts the counts again", async () => {
  await router.reboot();
  const afterBoot = await router.counters();
  expect(afterBoot.toolCalls).toBeLessThan(5);
  expect(afterBoot.processStarts).toBeLessThan(40);
}, 60_000);
