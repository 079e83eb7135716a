import { getPool } from "../../provider/transport";
import { OPERATIONS } from "./operations";
import { expectSweepHolds } from "./report";

/**
 * The crash-point sweep (DESIGN §8.5) for the resources that reload the firewall: after a power cut
 * or a lost link at any step, the router holds exactly the old or the new state, is never left
 * locked, the client's report is true, and running the operation again converges.
 */
afterAll(() => getPool().closeAll());

const mine = OPERATIONS.filter((op) => /^(FirewallDefaults|Flowtable)/.test(op.name));

test.each(mine.map((op) => [op.name, op]))("%s", async (_name, op) => {
  await expectSweepHolds(op, 3);
}, 600_000);
