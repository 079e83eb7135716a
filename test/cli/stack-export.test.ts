import { parseStackExport } from "../../cli/stack-export";

/** Reading what a stack declared from `pulumi stack export`, without a router. */
const SIG = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
const TYPE = "pulumi-nodejs:dynamic/openwrt:FirewallDefaults";

const doc = (resources: unknown[]) => JSON.stringify({ version: 3, deployment: { manifest: {}, resources } });
const resource = (name: string, outputs: object, extra: object = {}) => ({ urn: `urn:pulumi:dev::fleet::${TYPE}::${name}`, type: TYPE, inputs: {}, outputs, ...extra });
const declared = { flowOffloading: true, flowOffloadingHw: true };

test("FirewallDefaults resources with plain, wholly secret and partly secret connections; everything else ignored", () => {
  const parsed = parseStackExport(
    doc([
      { urn: "urn:pulumi:dev::fleet::pulumi:pulumi:Stack::fleet-dev", type: "pulumi:pulumi:Stack" },
      { urn: "urn:pulumi:dev::fleet::pulumi-nodejs:dynamic/openwrt:Router::edge-1", type: "pulumi-nodejs:dynamic/openwrt:Router", outputs: { connection: { host: "192.0.2.9" } } },
      resource("edge-1-offload", { connection: { host: "192.0.2.1", port: 2222 }, declared, firmware: "OpenWrt 23.05.4 r1 (ramips/mt7621, kernel 5.15.162)" }),
      resource("edge-2-offload", { connection: { ...SIG, plaintext: JSON.stringify({ host: "192.0.2.2", privateKey: "k" }) }, declared: { ...SIG, plaintext: JSON.stringify({ flowOffloading: true, flowOffloadingHw: false }) } }),
      resource("edge-3-offload", { connection: { host: "192.0.2.3", port: 22, privateKey: { ...SIG, plaintext: '"k"' } }, declared: { flowOffloading: false, flowOffloadingHw: true } }),
      // A replaced resource waiting for deletion is not what the program declares.
      resource("edge-4-offload", { connection: { host: "192.0.2.4" }, declared }, { delete: true }),
    ]),
  );
  expect(parsed).toEqual([
    { urn: expect.stringMatching(/::edge-1-offload$/), name: "edge-1-offload", host: "192.0.2.1", port: 2222, declared, firmware: "OpenWrt 23.05.4 r1 (ramips/mt7621, kernel 5.15.162)" },
    { urn: expect.any(String), name: "edge-2-offload", host: "192.0.2.2", port: 22, declared: { flowOffloading: true, flowOffloadingHw: false }, firmware: undefined },
    // Hardware without software offload is off, as the provider reads it.
    { urn: expect.any(String), name: "edge-3-offload", host: "192.0.2.3", port: 22, declared: { flowOffloading: false, flowOffloadingHw: false }, firmware: undefined },
  ]);
});

test("what cannot be used says why and what to do", () => {
  expect(() => parseStackExport("{", "s.json")).toThrow(/^stack export s\.json: not JSON .*pulumi stack export --show-secrets --file FILE/);
  expect(() => parseStackExport(JSON.stringify({ version: 2, deployment: {} }), "s.json")).toThrow("stack export s.json: expected a `pulumi stack export` document of version 3, got version 2");
  expect(() => parseStackExport(doc([resource("a", { connection: { ...SIG, ciphertext: "v1:x" }, declared })]), "s.json")).toThrow(
    "stack export s.json: urn:pulumi:dev::fleet::pulumi-nodejs:dynamic/openwrt:FirewallDefaults::a: outputs.connection is an encrypted secret: export the stack with `pulumi stack export --show-secrets`",
  );
  expect(() => parseStackExport(doc([resource("a", { connection: { host: "h" } })]), "s.json")).toThrow(/::a: outputs\.declared must hold the booleans flowOffloading and flowOffloadingHw$/);
  expect(() => parseStackExport(doc([resource("a", { declared })]), "s.json")).toThrow(/::a: outputs\.connection\.host is missing$/);
});
