import * as pulumi from "@pulumi/pulumi";
import { connectionOf, loadInventory, type InventoryRouter } from "../provider/fleet/inventory";
import { decideMode, type Decision, type FleetSqmPolicy, type Mode, type Policy } from "../provider/fleet/policy";
import { planWaves, type WavePlan } from "../provider/fleet/waves";
import type { HealthCheck } from "../provider/guard";
import { FirewallDefaults, OffloadPackages } from "./resources";
import { Router } from "./router";
import { shim } from "./shim";
import type { FleetVerdictInputs, LastApply, WaveGateInputs } from "./schemas";
import { placeholders, type Drift, type Inputs } from "./types";

export interface OffloadFleetArgs {
  /** An inventory file (YAML or JSON; see provider/fleet/inventory.ts) or its routers. */
  inventory: string | InventoryRouter[];
  /** "auto" (default), "software", "off", or a function of each router's facts. */
  policy?: Policy;
  /** Where SQM shapes a zone's interface: software offload (default), none, or ignore SQM. */
  sqmPolicy?: FleetSqmPolicy;
  /** Canary first (default 1 router), then waves of `size` (default "25%"). */
  waves?: WavePlan;
  /** Routers that may fail (and be restored by their guard) before later waves stop (default 0). */
  failureBudget?: number;
  /** Make sure the offload kernel package is installed on every router (default true). */
  installPackages?: boolean;
  confirmTimeoutSeconds?: number;
  soakSeconds?: number;
  healthChecks?: HealthCheck[];
}

export interface RouterSummary {
  name: string;
  host: string;
  wave: number;
  modeRequested: Mode;
  reason: string;
  modeRunning: "off" | "software" | "hardware";
  drift: Drift["class"][];
  /** What this up did to the router ("not-started" when an earlier wave halted the rollout). */
  guard: LastApply["status"];
  detail: string;
}

/**
 * Flow offloading for a fleet: one Router (+ OffloadPackages) + FirewallDefaults per inventory
 * router, the mode decided by a policy from each router's facts, rolled out in waves. A wave starts
 * only after the previous one is done and its gate found the failures within the budget; a router
 * whose change fails is restored by its own guard.
 */
export class OffloadFleet extends pulumi.ComponentResource {
  declare readonly routers: Record<string, Router>;
  declare readonly summary: pulumi.Output<RouterSummary[]>;
  /** Each wave's gate, in a line: "wave 2 passed: 1 of 3 routers restored, within the budget of 1". */
  declare readonly waves: pulumi.Output<string[]>;

  constructor(name: string, args: OffloadFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openwrt:index:OffloadFleet", name, {}, opts);
    const file = typeof args.inventory === "string" ? args.inventory : undefined;
    const inventory = file ? loadInventory(file).routers : args.inventory as InventoryRouter[];
    const policy = args.policy ?? "auto";
    const routers: Record<string, Router> = {};
    const summaries: pulumi.Output<RouterSummary>[] = [];
    const gates: WaveGate[] = [];
    let gate: WaveGate | undefined;

    planWaves(inventory, args.waves).forEach((wave, index) => {
      const results = wave.map((r) => {
        const conn = connectionOf(r, file);
        const router = new Router(
          `${name}-${r.name}`,
          {
            host: r.host,
            port: r.port,
            user: r.user,
            privateKey: conn.privateKey ? pulumi.secret(conn.privateKey.reveal()) : undefined,
            password: conn.password ? pulumi.secret(conn.password.reveal()) : undefined,
            hostKey: r.hostKey,
            insecureIgnoreHostKey: r.insecureIgnoreHostKey,
          },
          { parent: this },
        );
        routers[r.name] = router;
        const after = gate ? [gate] : [];
        // A closed gate halts the waves after it: their routers are read, never written.
        const halted = gate?.haltedAfter ?? "";
        const pkgs = args.installPackages === false ? undefined : new OffloadPackages(`${name}-${r.name}-pkgs`, { router, halted }, { parent: this, dependsOn: after });
        const decision: pulumi.Output<Decision> = pulumi
          .all([router.target, router.firewall, router.kernel, router.kernelSupported, router.hwOffloadCapable, router.sqm, router.zones])
          .apply(([target, firewall, kernel, kernelSupported, hwOffloadCapable, sqm, zones]) =>
            decideMode(policy, { name: r.name, labels: r.labels, target, firewall, kernel, kernelSupported, hwOffloadCapable, sqm, zones }, r.mode, args.sqmPolicy),
          );
        const offload = new FirewallDefaults(
          `${name}-${r.name}-offload`,
          {
            router,
            flowOffloading: decision.apply((d) => d.mode !== "off"),
            flowOffloadingHw: decision.apply((d) => d.mode === "hardware"),
            // The policy already weighed SQM; an explicit override is the operator's call.
            sqmPolicy: "warn",
            onFailure: "report",
            confirmTimeoutSeconds: args.confirmTimeoutSeconds,
            soakSeconds: args.soakSeconds,
            healthChecks: args.healthChecks,
            halted,
          },
          { parent: this, dependsOn: pkgs ? [pkgs, ...after] : after },
        );
        const summary = pulumi.all([decision, offload.runtime, offload.drift, offload.lastApply]).apply(([d, runtime, drift, last]) => ({
          name: r.name,
          host: `${r.host}:${r.port}`,
          wave: index + 1,
          modeRequested: d.mode,
          reason: d.reason,
          modeRunning: runtime.mode,
          drift: drift.map((x) => x.class),
          guard: last.status,
          detail: last.detail,
        }));
        summaries.push(summary);
        return summary;
      });
      gate = new WaveGate(
        `${name}-wave-${index + 1}`,
        {
          fleet: name,
          wave: index + 1,
          failureBudget: args.failureBudget ?? 0,
          priorFailures: gate?.failures ?? 0,
          halted: gate?.haltedAfter ?? "",
          results: pulumi.all(results).apply((rs) => rs.map((s) => ({ router: s.name, status: s.guard, detail: s.detail }))),
        },
        { parent: this },
      );
      gates.push(gate);
    });

    this.routers = routers;
    this.summary = pulumi.all(summaries);
    this.waves = pulumi.all(gates.map((g) => g.note));
    // Last of all, once every router's outputs are recorded: a halted rollout fails the up here.
    new FleetVerdict(`${name}-verdict`, { fleet: name, halted: gate?.haltedAfter ?? "", routers: inventory.length }, { parent: this, dependsOn: gates });
    this.registerOutputs({ summary: this.summary, waves: this.waves });
  }
}

/** The checkpoint between two waves (provider/resources/wave-gate.ts). */
class WaveGate extends pulumi.dynamic.Resource {
  declare readonly failures: pulumi.Output<number>;
  declare readonly haltedAfter: pulumi.Output<string>;
  declare readonly note: pulumi.Output<string>;

  constructor(name: string, args: Inputs<WaveGateInputs>, opts?: pulumi.CustomResourceOptions) {
    super(shim("waveGate"), name, { ...args, ...placeholders(["failures", "haltedAfter", "note"]) }, opts, "openwrt", "WaveGate");
  }
}

/** Fails the up when the rollout was halted (provider/resources/wave-gate.ts). */
class FleetVerdict extends pulumi.dynamic.Resource {
  constructor(name: string, args: Inputs<FleetVerdictInputs>, opts?: pulumi.CustomResourceOptions) {
    super(shim("fleetVerdict"), name, args, opts, "openwrt", "FleetVerdict");
  }
}
