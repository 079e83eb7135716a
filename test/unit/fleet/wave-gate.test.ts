import { waveGateProvider } from "../../../provider/resources/wave-gate";

/** What a gate says about its wave is the line the demo and the fleet's outputs show. */
const gate = async (results: { router: string; status: string }[], failureBudget: number, priorFailures = 0) =>
  (await waveGateProvider.create({ fleet: "edge", wave: 3, failureBudget, priorFailures, halted: "", results: results.map((r) => ({ ...r, detail: `${r.router} detail` })) })).outs;

test("a wave whose failures fit the budget passed, and says how many routers failed and how", async () => {
  const outs = await gate([{ router: "a", status: "confirmed" }, { router: "b", status: "restored" }, { router: "c", status: "unchanged" }], 1);
  expect(outs.note).toBe("wave 3 passed: 1 of 3 routers restored, within the budget of 1");
  expect(outs.haltedAfter).toBe("");
});

test("over the budget: the wave failed, the rollout halts, and a single router is one router", async () => {
  const outs = await gate([{ router: "a", status: "refused" }], 0);
  expect(outs.note).toBe("wave 3 failed: 1 of 1 router refused, over the budget of 0");
  expect(outs.haltedAfter).toMatch(/^fleet edge, wave 3: 1 router failed so far, over the failure budget of 0; later waves were not started/);
  expect((await gate([{ router: "a", status: "confirmed" }], 0)).note).toBe("wave 3 passed");
});
