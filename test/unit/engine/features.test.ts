import * as fs from "node:fs";
import * as path from "node:path";
import { NOT_DRIVEN } from "../../../cli/engine/engine";
import { EngineDriver, ops, result, TestStack } from "./harness";

const SECRET_SIG = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

describe("MiniEngine", () => {
  let driver: EngineDriver;
  const stacks: TestStack[] = [];
  const newStack = () => {
    const stack = new TestStack(driver);
    stacks.push(stack);
    return stack;
  };

  beforeAll(() => {
    driver = EngineDriver.start();
  });

  afterAll(async () => {
    await driver.stop();
    for (const stack of stacks) stack.remove();
  });

  it("fails the up on a Check failure with property: reason, and runs nothing that depends on it", async () => {
    const stack = newStack();

    const { summary } = await stack.run("up", "basic", { keyA: "bad key" });

    expect(summary.ok).toBe(false);
    expect(summary.error).toContain("key: must be letters, digits, '_', '.' or '-'");
    expect(summary.resources).toEqual([
      expect.objectContaining({ name: "a", op: "create", error: expect.stringContaining("check failed: key: must be") }),
    ]);
    expect(fs.readdirSync(stack.kvDir)).toEqual([]);
    expect(stack.state().resources).toEqual([]);
  });

  it("fails the up with the provider's error and keeps the state true to what was created", async () => {
    const stack = newStack();
    fs.writeFileSync(path.join(stack.kvDir, "e1"), "in the way");

    const { summary } = await stack.run("up", "basic", { extras: "3" });

    expect(summary.ok).toBe(false);
    expect(summary.error).toContain(`${path.join(stack.kvDir, "e1")} already exists`);
    expect(result(summary, "e1")).toMatchObject({ op: "create", error: expect.stringContaining("already exists") });
    // Steps already running finish; each one that created a file is in the state, and nothing else is.
    const inState = stack.state().resources.map((r) => r.name);
    expect(inState).not.toContain("e1");
    expect(fs.readdirSync(stack.kvDir).filter((f) => f !== "e1").sort()).toEqual([...inState].sort());
  });

  it("fails the up on a program error, and then deletes nothing", async () => {
    const stack = newStack();
    await stack.run("up", "basic");

    const { summary } = await stack.run("up", "basic", { withB: "false", failWith: "bug in an apply" });

    expect(summary.ok).toBe(false);
    expect(summary.error).toBe("program failed: bug in an apply");
    expect(ops(summary)).toEqual({ a: "same" });
    expect(stack.journal()).toEqual(["create a", "create b"]);
    expect(stack.state().resources.map((r) => r.name)).toEqual(["a", "b"]);
  });

  it("keeps a secret input secret in the program's outputs and out of the state file in clear", async () => {
    const stack = newStack();
    const token = "hunter2-d41d8cd9";

    const { summary } = await stack.run("up", "secrets", {}, { token });

    expect(summary.ok).toBe(true);
    // The provider got the plaintext: the plugin does not accept secrets, so the engine sends them revealed.
    expect(stack.kvFile("guarded")).toBe(token);
    expect(summary.outputs).toEqual({
      value: "[secret]",
      echo: "[secret]",
      leakyValue: "[secret]",
      // The engine marks outputs secret only under the keys of secret inputs; a new key needs additionalSecretOutputs.
      leakyEcho: token,
    });

    const guarded = stack.resource("guarded");
    expect(guarded.inputs.value).toEqual({ ...SECRET_SIG, ciphertext: expect.any(String) });
    expect(guarded.outputs.echo).toEqual({ ...SECRET_SIG, ciphertext: expect.any(String) });
    expect([...guarded.secretOutputs].sort()).toEqual(["echo", "value"]);
    expect(guarded.additionalSecretOutputs).toEqual(["echo"]);
    expect(stack.resource("leaky").secretOutputs).toEqual(["value"]);
    // The only plaintext copies are the one the program left unprotected and the stack output made from it.
    const state = stack.state();
    expect(state.outputs.leakyEcho).toBe(token);
    expect(stack.resource("leaky").outputs.echo).toBe(token);
    delete state.outputs.leakyEcho;
    delete state.resources.find((r) => r.name === "leaky")!.outputs.echo;
    expect(JSON.stringify(state)).not.toContain(token);

    expect(await stack.outputs(true)).toMatchObject({ value: token, echo: token });

    const again = await stack.run("up", "secrets", {}, { token });
    expect(ops(again.summary)).toEqual({ guarded: "same", leaky: "same" });

    stack.passphrase = "wrong";
    expect(await stack.failure("refresh")).toMatch(/incorrect passphrase/);
  });

  it("records components, drives their dynamic children, and leaves other custom types undriven", async () => {
    const stack = newStack();

    const { summary } = await stack.run("up", "fleet");

    expect(summary.ok).toBe(true);
    expect(summary.resources.map(({ name, op, note }) => ({ name, op, note }))).toEqual([
      { name: "fleet", op: "create", note: undefined },
      { name: "fleet-r1", op: "create", note: undefined },
      { name: "fleet-reload", op: "create", note: NOT_DRIVEN },
    ]);
    const fleet = stack.resource("fleet");
    const router = stack.resource("fleet-r1");
    const reload = stack.resource("fleet-reload");
    expect(fleet).toMatchObject({ custom: false, type: "openwrt:index:OffloadFleet" });
    expect(router.urn).toBe("urn:pulumi:dev::proj::openwrt:index:OffloadFleet$pulumi-nodejs:dynamic/test:FileKv::fleet-r1");
    expect(router.parent).toBe(fleet.urn);
    expect(summary.outputs).toEqual({ routerUrn: router.urn, routerValue: "v1" });
    expect(reload).toMatchObject({ custom: true, parent: fleet.urn, inputs: { create: "/etc/init.d/firewall reload" } });
    expect(reload.id).toBeUndefined();
    expect(reload.dependencies).toEqual([router.urn]);
    expect(stack.kvFile("r1")).toBe("v1");

    const changed = await stack.run("up", "fleet", { value: "v2" });
    expect(ops(changed.summary)).toEqual({ fleet: "same", "fleet-r1": "update", "fleet-reload": "same" });

    const refreshed = await stack.run("refresh");
    expect(result(refreshed.summary, "fleet-reload")).toMatchObject({ op: "same", note: NOT_DRIVEN });

    const destroyed = await stack.run("destroy");
    expect(destroyed.summary.resources.map(({ name, note }) => [name, note])).toEqual([
      ["fleet-reload", NOT_DRIVEN],
      ["fleet-r1", undefined],
      ["fleet", undefined],
    ]);
    expect(stack.journal()).toEqual(["create r1", "update r1", "delete r1"]);
  });

  it("diffs the inputs itself for a provider without diff(), and only then applies replaceOnChanges", async () => {
    const stack = newStack();
    await stack.run("up", "nodiff");

    const same = await stack.run("up", "nodiff");
    expect(ops(same.summary)).toEqual({ plain: "same", strict: "same" });

    const { summary } = await stack.run("up", "nodiff", { value: "v2" });
    expect(summary.ok).toBe(true);
    expect(result(summary, "plain")).toMatchObject({ op: "update", changedKeys: ["value"] });
    expect(result(summary, "strict")).toMatchObject({ op: "replace", replaceKeys: ["value"] });
    const journal = stack.journal();
    expect(journal.slice(0, 2).sort()).toEqual(["create plain", "create strict"]);
    expect(journal.slice(2).filter((l) => l.endsWith("strict"))).toEqual(["delete strict", "create strict"]);
    expect(journal.slice(2).filter((l) => l.endsWith("plain"))).toEqual(["update plain"]);
    expect(stack.kvFile("strict")).toBe("v2");
  });

  it("runs concurrently registered resources concurrently, keeps the state whole, and configures the plugin", async () => {
    const stack = newStack();

    const { summary, events } = await stack.run("up", "basic", { extras: "6", kvPrefix: "p_" });

    expect(summary.ok).toBe(true);
    const names = ["a", "b", "e0", "e1", "e2", "e3", "e4", "e5"];
    expect(summary.resources.map((r) => r.name).sort()).toEqual(names);
    const stateNames = stack.state().resources.map((r) => r.name);
    expect([...stateNames].sort()).toEqual(names);
    expect(stateNames.indexOf("a")).toBeLessThan(stateNames.indexOf("b"));
    // The provider's configure() read kvPrefix from the stack config.
    expect(fs.readdirSync(stack.kvDir).sort()).toEqual(names.map((n) => `p_${n}`));
    expect(fs.readFileSync(path.join(stack.kvDir, "p_e3"), "utf8")).toBe("3");

    let inFlight = 0;
    let mostInFlight = 0;
    for (const e of events) {
      if (e.kind === "stepStart") mostInFlight = Math.max(mostInFlight, ++inFlight);
      if (e.kind === "stepDone") inFlight--;
    }
    expect(mostInFlight).toBeGreaterThan(1);
  });
});
