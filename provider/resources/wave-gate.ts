import { fleetVerdictSchema, waveGateSchema, type FleetVerdictInputs, type WaveGateInputs } from "../../sdk/schemas";
import { changedKeys, checkInputs, jsonSafe } from "./common";

const OK = new Set(["unchanged", "confirmed"]);

const routers = (n: number) => `${n} router${n === 1 ? "" : "s"}`;

export interface WaveGateOutputs extends WaveGateInputs {
  failures: number;
  /** Why the rollout stops after this wave ("" to go on). */
  haltedAfter: string;
  /** What the wave did, in a line: "wave 2 passed: 1 of 3 routers restored, within the budget of 1". */
  note: string;
}

function evaluate(inputs: WaveGateInputs): WaveGateOutputs {
  const failed = inputs.results.filter((r) => !OK.has(r.status) && r.status !== "not-started");
  const failures = inputs.priorFailures + failed.length;
  const which = failed.map((r) => `${r.router} (${r.status}): ${r.detail.split("\n")[0]}`).join("; ");
  let haltedAfter = inputs.halted;
  let note: string;
  if (inputs.halted) {
    note = `wave ${inputs.wave} did not start`;
  } else if (failures > inputs.failureBudget) {
    haltedAfter =
      `fleet ${inputs.fleet}, wave ${inputs.wave}: ${routers(failures)} failed so far, over the failure budget of ${inputs.failureBudget}; ` +
      `later waves were not started. Failed in this wave: ${which || "none"}. Each failed router was left unchanged or restored by its guard.`;
    note = `wave ${inputs.wave} failed: ${failed.length} of ${routers(inputs.results.length)} ${failed.map((r) => r.status).join("/")}, over the budget of ${inputs.failureBudget}`;
  } else if (failed.length > 0) {
    note = `wave ${inputs.wave} passed: ${failed.length} of ${routers(inputs.results.length)} ${[...new Set(failed.map((r) => r.status))].join("/")}, within the budget of ${inputs.failureBudget}`;
  } else {
    note = `wave ${inputs.wave} passed`;
  }
  return jsonSafe({ ...inputs, failures, haltedAfter, note });
}

/**
 * The checkpoint between two waves of an OffloadFleet. It touches no router: the next wave's
 * resources depend on it (so they start only once its wave is done) and take its `halted` reason.
 * It never fails the up itself: when the failures so far exceed the budget it closes (`halted` says
 * why), the later waves are read but not changed, every resource's outputs stay true, and the
 * fleet's verdict (below), the last step, fails the up.
 */
export const waveGateProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    return checkInputs(waveGateSchema, news, { withConnection: false });
  },
  async diff(_id: string, olds: WaveGateOutputs, news: WaveGateInputs) {
    return { changes: changedKeys({ ...olds }, { ...news }, ["results", "failureBudget", "priorFailures", "halted"]).length > 0, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs: WaveGateInputs) {
    return { id: `${inputs.fleet}/wave-${inputs.wave}`, outs: evaluate(inputs) };
  },
  async read(id: string, props: WaveGateOutputs) {
    return { id, props };
  },
  async update(_id: string, _olds: WaveGateOutputs, news: WaveGateInputs) {
    return { outs: evaluate(news) };
  },
  async delete(): Promise<void> {
    // Nothing on any router.
  },
};

/**
 * The fleet's last step, after every router's resources and the summary: when a gate closed it
 * fails, so the up exits non-zero, and only after everything else, outputs included, was recorded.
 */
function judge(inputs: FleetVerdictInputs): FleetVerdictInputs {
  if (inputs.halted) throw new Error(inputs.halted);
  return jsonSafe(inputs);
}

export const fleetVerdictProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    return checkInputs(fleetVerdictSchema, news, { withConnection: false });
  },
  async diff(_id: string, olds: FleetVerdictInputs, news: FleetVerdictInputs) {
    return { changes: changedKeys({ ...olds }, { ...news }, ["halted", "routers"]).length > 0, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs: FleetVerdictInputs) {
    return { id: `${inputs.fleet}/verdict`, outs: judge(inputs) };
  },
  async read(id: string, props: FleetVerdictInputs) {
    return { id, props };
  },
  async update(_id: string, _olds: FleetVerdictInputs, news: FleetVerdictInputs) {
    return { outs: judge(news) };
  },
  async delete(): Promise<void> {
    // Nothing on any router.
  },
};
