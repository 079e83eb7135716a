import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startSimulatedRouter, SimulatedRouter } from "pulumi-openwrt-offload/sim";
import type { MiniEngineOptions, OperationSummary } from "../../cli/engine";
import { EngineDriver } from "../unit/engine/harness";
import { snapshotFiles } from "../helpers/router-files";
import { run } from "../helpers/sim-client";

/**
 * examples/quickstart through @pulumi/pulumi's real dynamic-provider plugin, driven over gRPC like
 * the engine drives it (Configure, Check, Diff, Create, Read, Update, Delete), against a simulated
 * router: preview writes nothing, up converges, drift made on the router shows in refresh, the
 * next up repairs it, destroy restores the router.
 */
const REPO = path.join(__dirname, "../..");
const PROGRAM = path.join(REPO, "examples/quickstart/index.ts");

let sim: SimulatedRouter;
let driver: EngineDriver;
let engine: MiniEngineOptions;

async function op(name: "preview" | "up" | "refresh" | "destroy"): Promise<OperationSummary> {
  const reply = await driver.send({ op: name, engine, ...(name === "preview" || name === "up" ? { program: PROGRAM } : {}) } as never);
  if (reply.error) throw new Error(reply.error);
  return reply.summary!;
}

const opsOf = (s: OperationSummary) => Object.fromEntries(s.resources.map((r) => [r.name, r.op]));

beforeAll(async () => {
  sim = await startSimulatedRouter({ profile: "mt7621-23.05" });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "quickstart-stack-"));
  engine = {
    project: "openwrt-offload-quickstart",
    stack: "sim",
    programDir: path.dirname(PROGRAM),
    statePath: path.join(dir, "state.json"),
    passphrase: "test passphrase",
    config: { host: sim.host, port: String(sim.port), hostKey: sim.hostKeyFingerprint },
    secretConfig: { sshKey: sim.privateKey },
  };
  driver = EngineDriver.start();
}, 60_000);

afterAll(async () => {
  await driver.stop();
  await sim.stop();
});

describe("quickstart over the real plugin", () => {
  let pristine: Record<string, string>;
  let pristineConfig: string;

  test("preview plans three creates and never connects to the router", async () => {
    pristine = snapshotFiles(sim);
    pristineConfig = (await run(sim, "uci show firewall")).stdout;
    const connections = sim.stats.connections;
    const summary = await op("preview");
    expect(summary.ok).toBe(true);
    expect(opsOf(summary)).toEqual({ "edge-1": "create", "edge-1-pkgs": "create", "edge-1-offload": "create" });
    expect(sim.stats.connections).toBe(connections);
    expect(snapshotFiles(sim)).toEqual(pristine);
  }, 60_000);

  test("up creates, the router runs hardware offload, secrets stay out of the state file", async () => {
    const summary = await op("up");
    expect(summary.error).toBeUndefined();
    expect(opsOf(summary)).toEqual({ "edge-1": "create", "edge-1-pkgs": "create", "edge-1-offload": "create" });
    expect(summary.outputs).toMatchObject({ target: "ramips/mt7621", hwOffloadCapable: true, runningMode: "hardware", drift: [] });
    expect((await run(sim, "uci get firewall.@defaults[0].flow_offloading_hw; nft list flowtables | grep -c 'flags offload'")).stdout).toBe("1\n1\n");
    const state = fs.readFileSync(engine.statePath, "utf8");
    expect(state).not.toContain("OPENSSH PRIVATE KEY");
  }, 60_000);

  test("a second up changes nothing on the router", async () => {
    const files = snapshotFiles(sim);
    const summary = await op("up");
    expect(opsOf(summary)).toEqual({ "edge-1": "same", "edge-1-pkgs": "same", "edge-1-offload": "same" });
    expect(snapshotFiles(sim)).toEqual(files);
  }, 60_000);

  test("a LuCI-style edit shows as drift on refresh, and the next up repairs it", async () => {
    await run(sim, "uci delete firewall.@defaults[0].flow_offloading_hw; uci commit firewall; fw4 reload");
    const refresh = await op("refresh");
    const drift = Object.fromEntries(refresh.resources.map((r) => [r.name, r.drift]));
    expect(drift).toEqual({ "edge-1": false, "edge-1-pkgs": false, "edge-1-offload": true });
    const summary = await op("up");
    expect(opsOf(summary)["edge-1-offload"]).toBe("update");
    expect((await run(sim, "uci get firewall.@defaults[0].flow_offloading_hw")).stdout).toBe("1\n");
  }, 60_000);

  test("destroy puts the router's config back as it was", async () => {
    const summary = await op("destroy");
    expect(summary.ok).toBe(true);
    // uci commit rewrites the file in its own format, so the config is compared as uci reads it.
    expect((await run(sim, "uci show firewall")).stdout).toBe(pristineConfig);
    const { "/etc/config/firewall": _after, ...rest } = snapshotFiles(sim);
    const { "/etc/config/firewall": _before, ...pristineRest } = pristine;
    expect(rest).toEqual(pristineRest);
    expect((await run(sim, "nft list flowtables")).stdout).not.toContain("flowtable ft");
  }, 60_000);
});
