import type { SimulatedRouter } from "../../sim";
import { deviceOffloadProvider, type DeviceOffloadOutputs } from "../../provider/resources/device-offload";
import { firewallDefaultsProvider, type FirewallDefaultsOutputs } from "../../provider/resources/firewall-defaults";
import { flowtableProvider, type FlowtableOutputs } from "../../provider/resources/flowtable";
import { offloadPackagesProvider, type OffloadPackagesOutputs } from "../../provider/resources/offload-packages";
import { DEFAULT_GUARD, listSnapshots, planRollback, rollback } from "../../provider/guard";
import { readFacts } from "../../provider/device/facts";
import { routerShell } from "../../provider/device/shell";
import { connectionOf, defaultsInputs, flowtableInputs, type Connection } from "../helpers/providers";
import { optionsFor } from "../helpers/router-files";
import { RELAXED_WINDOW, type Operation, type Window } from "./harness";

async function packagesInputs(connection: Connection, extra: Record<string, unknown>): Promise<OffloadPackagesOutputs> {
  const { inputs } = await offloadPackagesProvider.check({}, { connection, ...extra });
  return inputs as unknown as OffloadPackagesOutputs;
}

async function deviceInputs(connection: Connection, extra: Record<string, unknown>): Promise<DeviceOffloadOutputs> {
  const { inputs } = await deviceOffloadProvider.check({}, { connection, ...extra });
  return inputs as unknown as DeviceOffloadOutputs;
}

/** Every write operation of every resource, and an operator's rollback. */
export const OPERATIONS: Operation<never>[] = [
  {
    name: "FirewallDefaults create (off → hardware)",
    profiles: ["mt7621-23.05"],
    setup: async ([sim]: SimulatedRouter[]) => ({ inputs: await defaultsInputs(await connectionOf(sim)) }),
    run: async (_sims: SimulatedRouter[], c: { inputs: FirewallDefaultsOutputs }, w: Window) => firewallDefaultsProvider.create({ ...c.inputs, ...w }),
  },
  {
    name: "FirewallDefaults update (software → hardware)",
    profiles: ["mt7621-23.05"],
    setup: async ([sim]: SimulatedRouter[]) => {
      const connection = await connectionOf(sim);
      const created = await firewallDefaultsProvider.create(await defaultsInputs(connection, { flowOffloadingHw: false }));
      return { created, news: await defaultsInputs(connection) };
    },
    run: async (_sims: SimulatedRouter[], c: { created: { id: string; outs: FirewallDefaultsOutputs }; news: FirewallDefaultsOutputs }, w: Window) =>
      firewallDefaultsProvider.update(c.created.id, c.created.outs, { ...c.news, ...w }),
  },
  {
    name: "FirewallDefaults delete (hardware → the original options)",
    profiles: ["mt7621-23.05"],
    setup: async ([sim]: SimulatedRouter[]) => ({ created: await firewallDefaultsProvider.create(await defaultsInputs(await connectionOf(sim))) }),
    run: async (_sims: SimulatedRouter[], c: { created: { id: string; outs: FirewallDefaultsOutputs } }, w: Window) => firewallDefaultsProvider.delete(c.created.id, { ...c.created.outs, ...w }),
  },
  {
    name: "Flowtable create",
    profiles: ["mt7621-23.05"],
    setup: async ([sim]: SimulatedRouter[]) => ({ inputs: await flowtableInputs(await connectionOf(sim), { name: "mine", devices: ["lan3", "lan4"] }) }),
    run: async (_sims: SimulatedRouter[], c: { inputs: FlowtableOutputs }, w: Window) => flowtableProvider.create({ ...c.inputs, ...w }),
  },
  {
    name: "Flowtable update (software → flags offload: unhooked and rebuilt in one transaction)",
    profiles: ["mt7621-23.05"],
    setup: async ([sim]: SimulatedRouter[]) => {
      const connection = await connectionOf(sim);
      const created = await flowtableProvider.create(await flowtableInputs(connection, { name: "mine", devices: ["lan3", "lan4"] }));
      return { created, news: await flowtableInputs(connection, { name: "mine", devices: ["lan3", "lan4"], hardware: true }) };
    },
    run: async (_sims: SimulatedRouter[], c: { created: { id: string; outs: FlowtableOutputs }; news: FlowtableOutputs }, w: Window) => flowtableProvider.update(c.created.id, c.created.outs, { ...c.news, ...w }),
  },
  {
    name: "Flowtable delete",
    profiles: ["mt7621-23.05"],
    setup: async ([sim]: SimulatedRouter[]) => ({ created: await flowtableProvider.create(await flowtableInputs(await connectionOf(sim), { name: "mine", devices: ["lan3"] })) }),
    run: async (_sims: SimulatedRouter[], c: { created: { id: string; outs: FlowtableOutputs } }, w: Window) => flowtableProvider.delete(c.created.id, { ...c.created.outs, ...w }),
  },
  {
    name: "OffloadPackages create (opkg install)",
    profiles: ["x86-64-23.05"],
    setup: async ([sim]: SimulatedRouter[]) => ({ inputs: await packagesInputs(await connectionOf(sim), { packages: ["kmod-nft-offload", "ethtool"], removeOnDelete: true }) }),
    run: async (_sims: SimulatedRouter[], c: { inputs: OffloadPackagesOutputs }, w: Window) => offloadPackagesProvider.create({ ...c.inputs, ...w }),
  },
  {
    name: "OffloadPackages delete (apk del)",
    profiles: ["filogic-25.12"],
    setup: async ([sim]: SimulatedRouter[]) => ({
      created: await offloadPackagesProvider.create(await packagesInputs(await connectionOf(sim), { packages: ["kmod-nft-offload", "ethtool-full"], removeOnDelete: true })),
    }),
    run: async (_sims: SimulatedRouter[], c: { created: { id: string; outs: OffloadPackagesOutputs } }, w: Window) => offloadPackagesProvider.delete(c.created.id, { ...c.created.outs, ...w }),
  },
  {
    name: "DeviceOffload create (hw-tc-offload off, persistent)",
    profiles: ["mt7621-23.05"],
    setup: async ([sim]: SimulatedRouter[]) => ({ inputs: await deviceInputs(await connectionOf(sim), { devices: ["lan3", "lan4"], hwTcOffload: false }) }),
    run: async (_sims: SimulatedRouter[], c: { inputs: DeviceOffloadOutputs }, w: Window) => deviceOffloadProvider.create({ ...c.inputs, ...w }),
  },
  {
    name: "DeviceOffload delete",
    profiles: ["mt7621-23.05"],
    setup: async ([sim]: SimulatedRouter[]) => ({ created: await deviceOffloadProvider.create(await deviceInputs(await connectionOf(sim), { devices: ["lan3"], hwTcOffload: false })) }),
    run: async (_sims: SimulatedRouter[], c: { created: { id: string; outs: DeviceOffloadOutputs } }, w: Window) => deviceOffloadProvider.delete(c.created.id, { ...c.created.outs, ...w }),
  },
  {
    name: "rollback (openwrt-offload rollback of a confirmed hardware change)",
    profiles: ["mt7621-23.05"],
    setup: async ([sim]: SimulatedRouter[]) => {
      await firewallDefaultsProvider.create(await defaultsInputs(await connectionOf(sim)));
      const [change] = await listSnapshots(routerShell(optionsFor(sim)));
      return { txid: change.txid };
    },
    run: async ([sim]: SimulatedRouter[], c: { txid: string }, w: Window) => {
      const shell = routerShell(optionsFor(sim));
      return rollback(shell, optionsFor(sim), await planRollback(shell, c.txid), { ...DEFAULT_GUARD, ...w }, await readFacts(shell));
    },
  },
  {
    name: "fleet wave (three routers applied together; the faults strike one)",
    profiles: ["mt7621-23.05", "x86-64-23.05", "mt7621-24.10"],
    setup: async (sims: SimulatedRouter[]) => ({
      inputs: await Promise.all(
        sims.map(async (sim) => defaultsInputs(await connectionOf(sim), { flowOffloadingHw: sim.profile.hwFlowEngine && !sim.profile.sqmConfig, sqmPolicy: "warn" })),
      ),
    }),
    // As OffloadFleet's wave runs them: every router's resource at once, in one process. Only the router the faults
    // strike gets the sweep's short window; the others must reach their new state whatever the machine's load.
    run: async (_sims: SimulatedRouter[], c: { inputs: FirewallDefaultsOutputs[] }, w: Window) => {
      const results = await Promise.allSettled(c.inputs.map((inputs, i) => firewallDefaultsProvider.create({ ...inputs, ...(i === 0 ? w : RELAXED_WINDOW) })));
      if (results[0].status === "rejected") throw results[0].reason;
      return results;
    },
  },
] as unknown as Operation<never>[];
