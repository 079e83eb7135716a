import { firewallDefaultsProvider } from "../provider/resources/firewall-defaults";
import { flowtableProvider } from "../provider/resources/flowtable";
import { offloadPackagesProvider } from "../provider/resources/offload-packages";
import { routerProvider } from "../provider/resources/router";
import type { RouterConnection } from "../provider/resources/common";
import { getPool } from "../provider/transport";
import type { FleetRouter } from "./fleet";
import { Slots } from "./limit";
import { FLOWTABLE_NAME, flowtableDevices, type BenchTool, type Operation } from "./workload";

type Props = Record<string, unknown>;

/**
 * The provider surface the Pulumi dynamic-provider plugin calls, with the plain JSON objects it
 * passes. Method syntax and `object` parameters let each provider's own input and output types in.
 */
interface DynamicProvider {
  check(olds: unknown, news: object): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }>;
  diff(id: string, olds: object, news: object): Promise<{ changes: boolean }>;
  create(inputs: object): Promise<{ id: string; outs: object }>;
  read(id: string, props: object): Promise<{ id: string; props?: object }>;
  update(id: string, olds: object, news: object): Promise<{ outs: object }>;
}

/** One resource of the program as the engine tracks it: the program's arguments and the state. */
interface Tracked {
  provider: DynamicProvider;
  args: Props;
  inputs: Props;
  id: string;
  outs: Props;
}

/** A Pulumi program's per-router resources, in dependency order (Router first: the others take its connection). */
function declare(router: FleetRouter): { routerArgs: Props; dependents: (connection: RouterConnection) => [DynamicProvider, Props][] } {
  return {
    routerArgs: { host: router.host, port: router.port, user: router.user, privateKey: router.privateKey, hostKey: router.hostKeyFingerprint },
    dependents: (connection) => [
      [offloadPackagesProvider, { connection }],
      // The README's program: FirewallDefaults dependsOn OffloadPackages.
      [firewallDefaultsProvider, { connection, flowOffloading: true }],
      [flowtableProvider, { connection, name: FLOWTABLE_NAME, devices: flowtableDevices(router), forwardRule: {} }],
    ],
  };
}

async function checked(provider: DynamicProvider, olds: unknown, args: Props): Promise<Props> {
  const { inputs, failures } = await provider.check(olds, args);
  if (failures.length > 0) throw new Error(`check failed: ${JSON.stringify(failures)}`);
  return inputs;
}

/**
 * This project through its dynamic-provider implementations, called as the plugin calls them.
 * Every operation starts with no SSH connection, as each `pulumi` command starts a new plugin
 * process; `finish` closes the pool as that process's exit would. Calls that reach a router
 * (create, read, update) share `parallel` slots over the whole fleet, as `pulumi --parallel` bounds
 * resource operations.
 */
export class OursTool implements BenchTool {
  readonly counts = {
    reset: () => getPool().counters.reset(),
    read: () => getPool().counters.snapshot(),
  };
  private readonly state = new Map<number, Tracked[]>();
  private readonly slots: Slots;

  constructor(parallel: number) {
    this.slots = new Slots(parallel);
  }

  async run(operation: Operation, router: FleetRouter, index: number): Promise<{ changed: number }> {
    if (operation === "firstApply") {
      const created = await this.create(router);
      this.state.set(index, created);
      return { changed: created.length };
    }
    const tracked = this.state.get(index);
    if (!tracked) throw new Error(`router ${index} has no state: run firstApply first`);
    switch (operation) {
      case "preview":
        return { changed: await this.diffAll(tracked) };
      case "refresh":
        return { changed: await this.refreshAll(tracked) };
      case "noopApply":
        return { changed: await this.diffAll(tracked, { update: true }) };
    }
  }

  async finish(): Promise<void> {
    await getPool().closeAll();
  }

  /** `pulumi up` on an empty stack: check + create per resource, each after the ones it depends on. */
  private async create(router: FleetRouter): Promise<Tracked[]> {
    const { routerArgs, dependents } = declare(router);
    const make = async (provider: DynamicProvider, args: Props): Promise<Tracked> => {
      const inputs = await checked(provider, {}, args);
      const { id, outs } = await this.slots.run(() => provider.create(inputs));
      return { provider, args, inputs, id, outs: outs as Props };
    };
    const routerResource = await make(routerProvider, routerArgs);
    const tracked = [routerResource];
    for (const [provider, args] of dependents(routerResource.outs.connection as RouterConnection)) tracked.push(await make(provider, args));
    return tracked;
  }

  /** check + diff per resource against the state (`pulumi preview`); with `update`, what differs is updated (`pulumi up`). */
  private async diffAll(tracked: Tracked[], { update = false } = {}): Promise<number> {
    let changed = 0;
    for (const resource of tracked) {
      const inputs = await checked(resource.provider, resource.inputs, resource.args);
      const { changes } = await resource.provider.diff(resource.id, resource.outs, inputs);
      if (!changes) continue;
      changed++;
      if (update) {
        resource.outs = (await this.slots.run(() => resource.provider.update(resource.id, resource.outs, inputs))).outs as Props;
        resource.inputs = inputs;
      }
    }
    return changed;
  }

  /** `pulumi refresh`: every resource read at once, as the engine does; returns how many drifted. */
  private async refreshAll(tracked: Tracked[]): Promise<number> {
    const read = await Promise.all(tracked.map((r) => this.slots.run(() => r.provider.read(r.id, r.outs))));
    let drifted = 0;
    read.forEach(({ props }, i) => {
      if (!props) throw new Error(`${tracked[i].id} disappeared on refresh`);
      tracked[i].outs = props as Props;
      if (((props as { drift?: unknown[] }).drift ?? []).length > 0) drifted++;
    });
    return drifted;
  }
}
