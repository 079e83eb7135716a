import * as fs from "node:fs";
import * as path from "node:path";
import { EngineDriver, ops, result, TestStack } from "./harness";

// One stack taken through its life; each test starts from where the previous one left it.
describe("MiniEngine lifecycle against the real dynamic-provider plugin", () => {
  let driver: EngineDriver;
  let stack: TestStack;
  /** The config the stack settles on once a has been replaced twice. */
  const current = () => ({ valueA: "two", keyA: "a2", dirA: stack.otherKvDir });

  beforeAll(() => {
    driver = EngineDriver.start();
    stack = new TestStack(driver);
  });

  afterAll(async () => {
    await driver.stop();
    stack.remove();
  });

  it("preview plans the creates but sends no Create: no file, no state", async () => {
    const { summary } = await stack.run("preview", "basic");

    expect(summary.ok).toBe(true);
    expect(ops(summary)).toEqual({ a: "create", b: "create" });
    // Preview outputs are the checked inputs; what only create computes is unknown, and so is b's input built from it.
    expect(summary.outputs).toMatchObject({ aValue: "one", aRevision: "[unknown]", bValue: "[unknown]" });
    expect(fs.readdirSync(stack.kvDir)).toEqual([]);
    expect(stack.journal()).toEqual([]);
    expect(fs.existsSync(stack.statePath)).toBe(false);
  });

  it("up creates, and b receives a's output as its input", async () => {
    const { summary, events } = await stack.run("up", "basic");

    expect(summary.ok).toBe(true);
    expect(ops(summary)).toEqual({ a: "create", b: "create" });
    expect(stack.kvFile("a")).toBe("one");
    expect(stack.kvFile("b")).toBe("one+b");
    expect(stack.journal()).toEqual(["create a", "create b"]);
    expect(summary.outputs).toMatchObject({ aValue: "one", aRevision: 1, bValue: "one+b" });

    const state = stack.state();
    expect(state.resources.map((r) => r.name)).toEqual(["a", "b"]);
    const a = stack.resource("a");
    expect(a).toMatchObject({ id: path.join(stack.kvDir, "a"), custom: true, type: "pulumi-nodejs:dynamic/test:FileKv" });
    expect(a.outputs).toMatchObject({ echo: "one", revision: 1 });
    expect(stack.resource("b").dependencies).toEqual([a.urn]);
    // The urn the program saw is the one in the state.
    expect(summary.outputs.aUrn).toBe(a.urn);
    expect(state.outputs).toMatchObject({ aValue: "one", bValue: "one+b" });

    expect(events[0]).toEqual({ kind: "start", operation: "up" });
    expect(events.filter((e) => e.kind === "stepStart").map((e) => e.kind === "stepStart" && e.name)).toEqual(["a", "b"]);
    expect(events[events.length - 1]).toEqual({ kind: "done", summary });
  });

  it("a second up with the same inputs is the same everywhere and calls no Create or Update", async () => {
    const { summary } = await stack.run("up", "basic");

    expect(summary.ok).toBe(true);
    expect(ops(summary)).toEqual({ a: "same", b: "same" });
    expect(stack.journal()).toEqual(["create a", "create b"]);
  });

  it("preview of an input change plans updates and applies nothing", async () => {
    const { summary } = await stack.run("preview", "basic", { valueA: "two" });

    expect(ops(summary)).toEqual({ a: "update", b: "update" });
    expect(result(summary, "a").changedKeys).toEqual(["value"]);
    expect(stack.kvFile("a")).toBe("one");
    expect(stack.journal()).toHaveLength(2);
    expect(stack.resource("a").inputs.value).toBe("one");
  });

  it("an input change updates, and the dependent follows with the new output", async () => {
    const { summary } = await stack.run("up", "basic", { valueA: "two" });

    expect(summary.ok).toBe(true);
    expect(ops(summary)).toEqual({ a: "update", b: "update" });
    expect(result(summary, "b").changedKeys).toEqual(["value"]);
    expect(stack.kvFile("a")).toBe("two");
    expect(stack.kvFile("b")).toBe("two+b");
    expect(stack.journal().slice(2)).toEqual(["update a", "update b"]);
    expect(stack.resource("a").outputs.revision).toBe(2);
  });

  it("a change the provider marks as a replacement with deleteBeforeReplace deletes first, then creates", async () => {
    const { summary } = await stack.run("up", "basic", { valueA: "two", keyA: "a2" });

    expect(summary.ok).toBe(true);
    expect(ops(summary)).toEqual({ a: "replace", b: "same" });
    expect(result(summary, "a")).toMatchObject({ replaceKeys: ["key"], changedKeys: ["key"] });
    expect(stack.journal().slice(4)).toEqual(["delete a", "create a2"]);
    expect(stack.kvFile("a")).toBeUndefined();
    expect(stack.kvFile("a2")).toBe("two");
    expect(stack.resource("a")).toMatchObject({ id: path.join(stack.kvDir, "a2"), outputs: { revision: 1 } });
  });

  it("a replacement without deleteBeforeReplace creates the new resource before deleting the old one", async () => {
    const { summary } = await stack.run("up", "basic", current());

    expect(result(summary, "a")).toMatchObject({ op: "replace", replaceKeys: ["dir"] });
    expect(stack.journal().slice(6)).toEqual(["create a2", "delete a2"]);
    expect(stack.kvFile("a2")).toBeUndefined();
    expect(stack.kvFile("a2", stack.otherKvDir)).toBe("two");
    expect(stack.resource("a").id).toBe(path.join(stack.otherKvDir, "a2"));
  });

  it("a resource the program no longer registers is deleted at the end of up", async () => {
    const journalBefore = stack.journal().length;
    const { summary } = await stack.run("up", "basic", { ...current(), withB: "false" });

    expect(summary.resources.map(({ name, op }) => [name, op])).toEqual([
      ["a", "same"],
      ["b", "delete"],
    ]);
    expect(stack.journal().slice(journalBefore)).toEqual(["delete b"]);
    expect(stack.state().resources.map((r) => r.name)).toEqual(["a"]);
    expect(summary.outputs).not.toHaveProperty("bValue");
  });

  it("refresh reports out-of-band drift, and the next up repairs it", async () => {
    fs.writeFileSync(path.join(stack.otherKvDir, "a2"), "tampered");

    const refreshed = await stack.run("refresh");
    expect(refreshed.summary.ok).toBe(true);
    expect(refreshed.summary.resources.map(({ name, op, drift }) => ({ name, op, drift }))).toEqual([
      { name: "a", op: "read", drift: true },
    ]);
    expect(result(refreshed.summary, "a").changedKeys).toEqual(["value"]);
    expect(stack.resource("a").outputs.value).toBe("tampered");
    expect(stack.resource("a").inputs.value).toBe("two");

    // b comes back too: the program registers it again.
    const repaired = await stack.run("up", "basic", current());
    expect(ops(repaired.summary)).toEqual({ a: "update", b: "create" });
    expect(result(repaired.summary, "a").changedKeys).toEqual(["value"]);
    expect(stack.kvFile("a2", stack.otherKvDir)).toBe("two");
  });

  it("refresh removes a resource deleted out of band, and the next up creates it again", async () => {
    fs.unlinkSync(path.join(stack.kvDir, "b"));

    const refreshed = await stack.run("refresh");
    expect(result(refreshed.summary, "b")).toMatchObject({ op: "delete", drift: true });
    expect(result(refreshed.summary, "a")).toMatchObject({ op: "read", drift: false });
    expect(result(refreshed.summary, "a").changedKeys).toBeUndefined();
    expect(stack.state().resources.map((r) => r.name)).toEqual(["a"]);

    const { summary } = await stack.run("up", "basic", current());
    expect(ops(summary)).toEqual({ a: "same", b: "create" });
    expect(stack.kvFile("b")).toBe("two+b");
  });

  it("destroy deletes every resource, last registered first, and empties the state", async () => {
    const journalBefore = stack.journal().length;

    const { summary } = await stack.run("destroy");

    expect(summary.ok).toBe(true);
    expect(summary.resources.map(({ name, op }) => [name, op])).toEqual([
      ["b", "delete"],
      ["a", "delete"],
    ]);
    expect(stack.journal().slice(journalBefore)).toEqual(["delete b", "delete a2"]);
    expect(fs.readdirSync(stack.kvDir)).toEqual([]);
    expect(fs.readdirSync(stack.otherKvDir)).toEqual([]);
    expect(stack.state()).toMatchObject({ resources: [], outputs: {} });
  });
});
