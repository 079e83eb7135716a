import { waveGateSchema, type WaveGateInputs } from "../../sdk/schemas";
import { changedKeys, checkInputs, jsonSafe } from "./common";

/**
 * The checkpoint between two waves of an OffloadFleet. It touches no router: it exists so the engine
 * runs it only after every router of its wave is done, and the next wave depends on it. When the
 * failures so far exceed the budget it fails, and the engine starts no later wave.
 */
const OK = new Set(["unchanged", "confirmed"]);

export interface WaveGateOutputs extends WaveGateInputs {
  failures: number;
}

function evaluate(inputs: WaveGateInputs): WaveGateOutputs {
  const failed = inputs.results.filter((r) => !OK.has(r.status));
  const failures = inputs.priorFailures + failed.length;
  if (failures > inputs.failureBudget) {
    const which = failed.map((r) => `${r.router} (${r.status}): ${r.detail.split("\n")[0]}`).join("; ");
    throw new Error(
      `fleet ${inputs.fleet}, wave ${inputs.wave}: ${failures} router(s) failed so far, over the failure budget of ${inputs.failureBudget}; ` +
        `later waves were not started. Failed in this wave: ${which || "none"}. Each failed router was left unchanged or restored by its guard.`,
    );
  }
  return jsonSafe({ ...inputs, failures });
}

export const waveGateProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    return checkInputs(waveGateSchema, news, { withConnection: false });
  },
  async diff(_id: string, olds: WaveGateOutputs, news: WaveGateInputs) {
    return { changes: changedKeys({ ...olds }, { ...news }, ["results", "failureBudget", "priorFailures"]).length > 0, replaces: [], deleteBeforeReplace: false };
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
