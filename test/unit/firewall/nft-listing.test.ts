import * as fs from "fs";
import * as path from "path";
import { nftTool } from "../../../sim/tools/nft";
import { FIXTURES, RENDERS, fakeRouter, runTool } from "./helpers";

/**
 * fixtures/nft-1.0.6 holds what the real nft 1.0.6 (Debian bookworm) printed after loading the same
 * input into a kernel in a fresh network namespace (see fixtures/README.md).
 */
const ORACLE = path.join(FIXTURES, "nft-1.0.6");
const oracle = (name: string) => fs.readFileSync(path.join(ORACLE, name), "utf8");
const nft = { nft: nftTool };

async function loaded(file: string) {
  const router = fakeRouter();
  router.fs.writeAtomic("/tmp/in.nft", fs.readFileSync(file, "utf8"));
  const res = await runTool(router, nft, ["nft", "-f", "/tmp/in.nft"]);
  expect(res).toEqual({ code: 0, stdout: "", stderr: "" });
  return router;
}

describe.each(["2305", "master"])("stock fw4 %s ruleset listed like nft 1.0.6", (flavor) => {
  const input = path.join(RENDERS, `fw4-${flavor}-offload0.nft`);

  it("text", async () => {
    const router = await loaded(input);
    expect((await runTool(router, nft, ["nft", "list", "ruleset"])).stdout).toBe(oracle(`fw4-${flavor}-offload0.list`));
  });

  it("text with handles", async () => {
    const router = await loaded(input);
    expect((await runTool(router, nft, ["nft", "-a", "list", "ruleset"])).stdout).toBe(oracle(`fw4-${flavor}-offload0.list-a`));
  });

  it("JSON", async () => {
    const router = await loaded(input);
    expect((await runTool(router, nft, ["nft", "-j", "list", "ruleset"])).stdout).toBe(oracle(`fw4-${flavor}-offload0.json`));
  });
});

describe.each(["probe1", "probe2", "probe3b"])("hand-written ruleset %s", (probe) => {
  it("lists text and JSON like nft 1.0.6", async () => {
    const router = await loaded(path.join(ORACLE, `${probe}.nft`));
    expect((await runTool(router, nft, ["nft", "list", "ruleset"])).stdout).toBe(oracle(`${probe}.list`));
    expect((await runTool(router, nft, ["nft", "-j", "list", "ruleset"])).stdout).toBe(oracle(`${probe}.json`));
  });
});
