import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IncorrectPassphraseError } from "../../../cli/engine/secrets";
import { StateStore, type ResourceState } from "../../../cli/engine/state";
import { annotateSecrets, makeSecret, markSecretKeys, toDisplay, UNKNOWN } from "../../../cli/engine/values";

describe("annotateSecrets (the engine's rule for outputs of a provider that does not accept secrets)", () => {
  it("makes an output secret when the input under the same key held a secret, recursing into objects", () => {
    const ins = {
      password: makeSecret("pw"),
      conn: { host: "r1", key: makeSecret("k") },
      tags: ["a", makeSecret("b")],
      plain: "x",
    };
    const outs = { password: "pw", conn: { host: "r1", key: "k" }, tags: ["a", "b"], plain: "x", derived: "pw!" };

    expect(annotateSecrets(outs, ins)).toEqual({
      password: makeSecret("pw"),
      conn: { host: "r1", key: makeSecret("k") },
      tags: makeSecret(["a", "b"]),
      plain: "x",
      derived: "pw!",
    });
  });

  it("leaves new keys alone unless additionalSecretOutputs names them", () => {
    expect(markSecretKeys({ derived: "pw!", other: "x" }, ["derived", "absent"])).toEqual({
      derived: makeSecret("pw!"),
      other: "x",
    });
  });

  it("displays secrets masked unless asked, and unknowns as [unknown]", () => {
    const value = { a: makeSecret({ b: 1 }), c: UNKNOWN };
    expect(toDisplay(value)).toEqual({ a: "[secret]", c: "[unknown]" });
    expect(toDisplay(value, { showSecrets: true })).toEqual({ a: { b: 1 }, c: "[unknown]" });
  });
});

describe("StateStore", () => {
  let dir: string;
  const file = () => path.join(dir, "nested", "state.json");
  const resource = (name: string, password: string): ResourceState => ({
    urn: `urn:pulumi:dev::proj::pulumi-nodejs:dynamic:Resource::${name}`,
    type: "pulumi-nodejs:dynamic:Resource",
    name,
    custom: true,
    id: `${name}-id`,
    inputs: { password: makeSecret(password), list: [makeSecret({ deep: password })] },
    outputs: { password: makeSecret(password) },
    secretOutputs: ["password"],
    additionalSecretOutputs: [],
    dependencies: [],
  });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mini-engine-state-"));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("starts empty, and reads back what it wrote with secrets intact but never in clear on disk", async () => {
    const store = new StateStore(file(), "pass", "proj", "dev");
    expect(await store.load()).toEqual({ resources: [], outputs: {} });

    const state = { resources: [resource("r", "s3cr3t-value")], outputs: { pw: makeSecret("s3cr3t-value") } };
    await store.save(state);

    expect(fs.readFileSync(file(), "utf8")).not.toContain("s3cr3t-value");
    expect(await new StateStore(file(), "pass", "proj", "dev").load()).toEqual(state);
  });

  it("refuses a wrong passphrase and another stack's file", async () => {
    await new StateStore(file(), "pass", "proj", "dev").save({ resources: [resource("r", "x")], outputs: {} });

    await expect(new StateStore(file(), "nope", "proj", "dev").load()).rejects.toBeInstanceOf(IncorrectPassphraseError);
    await expect(new StateStore(file(), "pass", "proj", "prod").load()).rejects.toThrow(/holds stack proj\/dev/);
  });

  it("applies concurrent saves in call order, so the file ends with the last one", async () => {
    const store = new StateStore(file(), "pass", "proj", "dev");
    const saves = Array.from({ length: 10 }, (_, i) =>
      store.save({ resources: Array.from({ length: i + 1 }, (_, j) => resource(`r${j}`, `p${j}`)), outputs: {} }),
    );
    await Promise.all(saves);

    expect((await store.load()).resources).toHaveLength(10);
    expect(fs.readdirSync(path.dirname(file()))).toEqual(["state.json"]);
  });
});
