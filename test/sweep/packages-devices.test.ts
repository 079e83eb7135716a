import { getPool } from "../../provider/transport";
import { OPERATIONS } from "./operations";
import { expectSweepHolds } from "./report";

/** The crash-point sweep for packages, hw-tc-offload and an operator's rollback (see firewall.test.ts). */
afterAll(() => getPool().closeAll());

const mine = OPERATIONS.filter((op) => !/^(FirewallDefaults|Flowtable)/.test(op.name));

test.each(mine.map((op) => [op.name, op]))("%s", async (_name, op) => {
  await expectSweepHolds(op, 3);
}, 600_000);
