import * as pulumi from "@pulumi/pulumi";
import * as openwrt from "pulumi-openwrt-offload";

// A fleet from an inventory file: hardware offload where the SoC can, software elsewhere, software
// where SQM shapes the uplink. One canary first, then waves of a third of the fleet; one failed
// router (restored by its guard) is tolerated before later waves stop.
const cfg = new pulumi.Config();
const waveSize = cfg.get("waveSize") ?? "34%";

const fleet = new openwrt.OffloadFleet("edge", {
  inventory: cfg.require("inventory"),
  policy: "auto",
  waves: { canary: 1, size: /^\d+$/.test(waveSize) ? Number(waveSize) : (waveSize as `${number}%`) },
  failureBudget: cfg.getNumber("failureBudget") ?? 1,
  soakSeconds: cfg.getNumber("soakSeconds") ?? 0,
  confirmTimeoutSeconds: cfg.getNumber("confirmTimeoutSeconds") ?? 90,
});

export const summary = fleet.summary;
export const waves = fleet.waves;
