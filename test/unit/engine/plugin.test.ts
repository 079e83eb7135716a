import * as path from "node:path";
import { DynamicProviderPlugin, PluginError, type PluginLogLine } from "../../../cli/engine/plugin";

// Written by hand in the shape pulumi.dynamic.Resource serializes providers to, so these tests need no serialization
// (and can run in jest): the plugin loads it with require-from-string, exactly as it loads a real one.
const PROVIDER = `exports.handler = () => ({
  async configure(req) { this.greeting = req.config.get("greeting") + "/" + req.config.get("other:flag"); },
  async check(olds, news) {
    return { inputs: { ...news, checked: true }, failures: news.n < 0 ? [{ property: "n", reason: "must not be negative" }] : [] };
  },
  async diff(id, olds, news) {
    return { changes: olds.n !== news.n, replaces: news.n > 100 ? ["n"] : [], deleteBeforeReplace: news.n > 100 };
  },
  async create(inputs) {
    console.log("creating " + inputs.n + " for " + this.greeting);
    if (inputs.n === 13) throw new Error("unlucky number");
    return { id: "id-" + inputs.n, outs: { ...inputs, doubled: inputs.n * 2 } };
  },
  async read(id, props) { return id === "id-gone" ? { id: "" } : { id, props: { ...props, seen: true }, inputs: { n: props.n } }; },
  async update(id, olds, news) { return { outs: { ...news, doubled: news.n * 2 } }; },
  async delete(id, props) { console.error("deleting " + id); },
})`;

const NO_DIFF_PROVIDER = `exports.handler = () => ({ async create(inputs) { return { id: "x", outs: inputs }; } })`;

/** Provider output travels on the plugin's stdout and stderr, not with the RPC reply, so it may arrive a little later. */
async function logged(logs: PluginLogLine[], expected: PluginLogLine): Promise<void> {
  for (let i = 0; i < 100 && !logs.some((l) => l.stream === expected.stream && l.line === expected.line); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(logs).toContainEqual(expected);
}

const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

describe("DynamicProviderPlugin", () => {
  let plugin: DynamicProviderPlugin;
  const logs: PluginLogLine[] = [];
  const urn = "urn:pulumi:dev::proj::pulumi-nodejs:dynamic:Resource::r";

  beforeAll(async () => {
    plugin = await DynamicProviderPlugin.start({ cwd: path.join(__dirname, "../../.."), project: "proj", stack: "dev" });
    plugin.on("log", (line: PluginLogLine) => logs.push(line));
  });

  afterAll(async () => {
    await plugin.close();
  });

  it("answers Configure like the real plugin does, and unwraps secret config for configure()", async () => {
    const reply = await plugin.configure({ "proj:greeting": { ...SECRET, value: "hello" }, "other:flag": "on" });

    expect(reply).toEqual({ acceptSecrets: false, supportsPreview: false });
    await plugin.create({ urn, properties: { __provider: PROVIDER, n: 1 } });
    await logged(logs, { stream: "stdout", line: "creating 1 for hello/on" });
  });

  it("returns checked inputs with __provider, and failures as property and reason", async () => {
    const ok = await plugin.check({ urn, olds: {}, news: { __provider: PROVIDER, n: 2, dropped: undefined } });
    expect(ok).toEqual({ inputs: { __provider: PROVIDER, n: 2, checked: true }, failures: [] });

    const bad = await plugin.check({ urn, olds: {}, news: { __provider: PROVIDER, n: -1 } });
    expect(bad.failures).toEqual([{ property: "n", reason: "must not be negative" }]);
  });

  it("maps Diff answers, including a provider without diff()", async () => {
    const olds = { __provider: PROVIDER, n: 2 };
    const diff = (news: Record<string, unknown>) => plugin.diff({ urn, id: "id-2", olds, news, oldInputs: olds });

    expect(await diff({ __provider: PROVIDER, n: 2 })).toEqual({ changes: "none", replaces: [], deleteBeforeReplace: false });
    expect(await diff({ __provider: PROVIDER, n: 3 })).toEqual({ changes: "some", replaces: [], deleteBeforeReplace: false });
    expect(await diff({ __provider: PROVIDER, n: 200 })).toEqual({
      changes: "some",
      replaces: ["n"],
      deleteBeforeReplace: true,
    });
    expect(await diff({ __provider: NO_DIFF_PROVIDER, n: 3 })).toMatchObject({ changes: "unknown" });
  });

  it("creates, reads, updates and deletes", async () => {
    const created = await plugin.create({ urn, properties: { __provider: PROVIDER, n: 4 } });
    expect(created).toEqual({ id: "id-4", properties: { __provider: PROVIDER, n: 4, doubled: 8 } });

    const read = await plugin.read({ urn, id: "id-4", properties: created.properties, inputs: {} });
    expect(read).toEqual({
      id: "id-4",
      properties: { __provider: PROVIDER, n: 4, doubled: 8, seen: true },
      inputs: { __provider: PROVIDER, n: 4 },
    });
    expect(await plugin.read({ urn, id: "id-gone", properties: created.properties, inputs: {} })).toMatchObject({ id: "" });

    const updated = await plugin.update({
      urn,
      id: "id-4",
      olds: created.properties,
      news: { __provider: PROVIDER, n: 5 },
      oldInputs: {},
    });
    expect(updated).toEqual({ __provider: PROVIDER, n: 5, doubled: 10 });

    await plugin.delete({ urn, id: "id-4", properties: updated, oldInputs: {} });
    await logged(logs, { stream: "stderr", line: "deleting id-4" });
  });

  it("surfaces a provider exception as a PluginError carrying the provider's message", async () => {
    const failure = plugin.create({ urn, properties: { __provider: PROVIDER, n: 13 } });

    await expect(failure).rejects.toBeInstanceOf(PluginError);
    await expect(failure).rejects.toMatchObject({ rpc: "Create", code: 2, message: "unlucky number" });
  });

  it("adds the plugin's stderr to the error when the plugin dies mid-call", async () => {
    const doomed = await DynamicProviderPlugin.start({ cwd: __dirname, project: "proj", stack: "dev" });
    const crash = `exports.handler = () => ({ async create() { console.error("about to die"); process.exit(7); } })`;

    await expect(doomed.create({ urn, properties: { __provider: crash } })).rejects.toThrow(
      /plugin exited with code 7: about to die/,
    );
    await doomed.close();
  });

  it("close() kills the plugin and waits for it, and may be called again", async () => {
    const pid = plugin.pid!;
    expect(() => process.kill(pid, 0)).not.toThrow();

    await plugin.close();

    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    await plugin.close();
  });
});
