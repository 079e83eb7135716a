import type { SimulatedRouter } from "../../sim";
import { routerProvider, type RouterOutputs } from "../../provider/resources/router";
import { firewallDefaultsProvider, type FirewallDefaultsOutputs } from "../../provider/resources/firewall-defaults";
import { flowtableProvider, type FlowtableOutputs } from "../../provider/resources/flowtable";
import { getPool } from "../../provider/transport";
import { run } from "./sim-client";

export type Connection = RouterOutputs["connection"];

/** A Router resource's connection to a simulated router (host key pinned), as resources receive it. */
export async function connectionOf(sim: SimulatedRouter): Promise<Connection> {
  const { inputs } = await routerProvider.check({}, { host: sim.host, port: sim.port, privateKey: sim.privateKey, hostKey: sim.hostKeyFingerprint });
  return (await routerProvider.create(inputs as never)).outs.connection;
}

/** FirewallDefaults inputs through `check` (defaults applied), failing the test on a check failure. */
export async function defaultsInputs(connection: Connection, extra: Record<string, unknown> = {}): Promise<FirewallDefaultsOutputs> {
  const { inputs, failures } = await firewallDefaultsProvider.check({}, { connection, flowOffloading: true, flowOffloadingHw: true, ...extra });
  if (failures.length > 0) throw new Error(`check failed: ${JSON.stringify(failures)}`);
  return inputs as unknown as FirewallDefaultsOutputs;
}

export async function flowtableInputs(connection: Connection, extra: Record<string, unknown>): Promise<FlowtableOutputs> {
  const { inputs, failures } = await flowtableProvider.check({}, { connection, ...extra });
  if (failures.length > 0) throw new Error(`check failed: ${JSON.stringify(failures)}`);
  return inputs as unknown as FlowtableOutputs;
}

/** What the kernel runs and what is staged, to compare "old" with "after". */
export async function runtimeOf(sim: SimulatedRouter): Promise<string> {
  return (await run(sim, "nft list ruleset 2>/dev/null || iptables -S; uci changes; ls /etc/rc.d")).stdout;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A new `pulumi` run: a plugin process of its own, with no connection yet. Within a run, a probe of
 * a router answers the reads that plan a change or a preview for a few seconds (RECENT_READ_MS),
 * so a test that changes the router behind the provider's back and then plans starts a new run.
 */
export const newRun = (): Promise<void> => getPool().closeAll();
