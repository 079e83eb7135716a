import * as path from "path";
import { pulumiCliAvailability } from "../../tools/pulumi/index.cjs";
import { describeIf } from "../helpers/requirements";
import { run } from "../helpers/sim-client";
import { CliStack, routerState, sandboxTest, stateResource, uciGet, writeInventory } from "./harness";

/**
 * Two stacks, two `pulumi up` processes, writing one router at the same moment: examples/fleet twice over the same
 * one-router inventory, one wanting hardware offload (the policy's choice) and one software (declared in its
 * inventory), each holding its guard window open for a while (soakSeconds). The router's lock lets one in; the other
 * is refused before it changes anything, and its error names the transaction that holds the router. Nothing is mixed:
 * the router ends up with exactly the winner's change, confirmed, and the guard's log shows one transaction.
 */
const OFFLOAD = "edge-r1-mt7621-23.05-offload";

describeIf(pulumiCliAvailability(), "two stacks writing one router at once, through the real Pulumi CLI", () => {
  sandboxTest(
    "one wins and is confirmed, the other is refused naming the winner's transaction; the router holds the winner's config",
    { profiles: ["mt7621-23.05"] },
    async (box) => {
      const [sim] = box.routers;
      const stackFor = (name: string, mode?: string) =>
        CliStack.init(
          box,
          "fleet",
          name,
          {
            plain: {
              inventory: writeInventory(path.join(box.dir, `inventory-${name}`), box.routers, mode ? { 0: mode } : {}),
              soakSeconds: "8",
              failureBudget: "0",
              confirmTimeoutSeconds: "60",
            },
          },
          `fleet-${name}`,
        );
      const hw = await stackFor("hardware");
      const sw = await stackFor("software", "software");
      const logBefore = (await run(sim, "cat /etc/offload-guard/log 2>/dev/null")).stdout;

      const [a, b] = await Promise.all([hw.run(["up", "--yes", "--skip-preview"]), sw.run(["up", "--yes", "--skip-preview"])]);
      const results = [
        { stack: hw, result: a, mode: "hardware" },
        { stack: sw, result: b, mode: "software" },
      ];
      const winners = results.filter((r) => r.result.code === 0);
      const losers = results.filter((r) => r.result.code !== 0);
      expect(winners.map((w) => w.result.code)).toEqual([0]);
      const [winner] = winners;
      const [loser] = losers;

      // One transaction on the router: armed and confirmed; the loser never armed one.
      const log = (await run(sim, "cat /etc/offload-guard/log")).stdout.slice(logBefore.length).trim().split("\n");
      expect(log.map((l) => l.split(" ").slice(1, 2)[0])).toEqual(["armed", "confirmed"]);
      const txid = log[0].split(" ")[2];
      expect(log[1].split(" ")[2]).toBe(txid);

      // The loser's error names it, and says nothing was changed.
      expect(loser.result.output).toMatch(/wave 1: 1 router failed so far, over the failure budget of 0/);
      expect(loser.result.output).toContain(`another change holds this router (${txid}: FirewallDefaults: ${winner.mode} offload, waiting for confirmation until`);
      expect(loser.result.output).toMatch(/Nothing was changed/);

      // The router holds the winner's change, whole: uci, the kernel, no lock.
      expect((await routerState(sim)).guardLock).toBe(false);
      expect(await uciGet(sim, "firewall.@defaults[0].flow_offloading")).toBe("1");
      expect(await uciGet(sim, "firewall.@defaults[0].flow_offloading_hw")).toBe(winner.mode === "hardware" ? "1" : "unset");
      const ft = (await run(sim, "nft list flowtable inet fw4 ft")).stdout;
      expect(/flags offload/.test(ft)).toBe(winner.mode === "hardware");

      // Each state says what it did: the winner confirmed, the loser failed (reported, onFailure "report").
      const winnerState = stateResource(await winner.stack.exportState(), OFFLOAD)?.outputs;
      expect(winnerState).toMatchObject({ runtime: { mode: winner.mode }, lastApply: { status: "confirmed" } });
      const loserState = stateResource(await loser.stack.exportState(), OFFLOAD)?.outputs;
      expect(loserState).toMatchObject({ lastApply: { status: "failed" } });
      expect((loserState as { lastApply: { detail: string } }).lastApply.detail).toContain(txid);
    },
  );
});
