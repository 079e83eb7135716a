import * as pulumi from "@pulumi/pulumi";
import { connectionOf, loadInventory, type InventoryRouter } from "../provider/fleet/inventory";
import { decideMode, type Decision, type FleetSqmPolicy, type Mode, type Policy } from "../provider/fleet/policy";
import { planWaves, type WavePlan } from "../provider/fleet/waves";
import type { HealthCheck } from "../provider/guard";
import { FirewallDefaults, OffloadPackages } from "./resources";
import { Router } from "./router";
import { shim } from "./shim";
import type { Drift } from "./types";

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
  guard: "unchanged" | "confirmed" | "refused" | "restored" | "failed";
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

  constructor(name: string, args: OffloadFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openwrt:index:OffloadFleet", name, {}, opts);
    const file = typeof args.inventory === "string" ? args.inventory : undefined;
    const inventory = file ? loadInventory(file).routers : args.inventory as InventoryRouter[];
    const policy = args.policy ?? "auto";
    const routers: Record<string, Router> = {};
    const summaries: pulumi.Output<RouterSummary>[] = [];
    let gate: pulumi.Resource | undefined;
    let priorFailures: pulumi.Input<number> = 0;

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
        const pkgs = args.installPackages === false ? undefined : new OffloadPackages(`${name}-${r.name}-pkgs`, { router }, { parent: this, dependsOn: after });
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
      const waveGate: WaveGate = new WaveGate(
        `${name}-wave-${index + 1}`,
        {
          fleet: name,
          wave: index + 1,
          failureBudget: args.failureBudget ?? 0,
          priorFailures,
          results: pulumi.all(results).apply((rs) => rs.map((s) => ({ router: s.name, status: s.guard, detail: s.detail }))),
        },
        { parent: this },
      );
      gate = waveGate;
      priorFailures = waveGate.failures;
    });

    this.routers = routers;
    this.summary = pulumi.all(summaries);
    this.registerOutputs({ summary: this.summary });
  }
}

interface WaveGateArgs {
  fleet: pulumi.Input<string>;
  wave: pulumi.Input<number>;
  failureBudget: pulumi.Input<number>;
  priorFailures: pulumi.Input<number>;
  results: pulumi.Input<{ router: string; status: string; detail: string }[]>;
}

/** The checkpoint between two waves (provider/resources/wave-gate.ts). */
class WaveGate extends pulumi.dynamic.Resource {
  declare readonly failures: pulumi.Output<number>;

  constructor(name: string, args: WaveGateArgs, opts?: pulumi.CustomResourceOptions) {
    super(shim("waveGate"), name, { ...args, failures: undefined }, opts, "openwrt", "WaveGate");
  }
}
