import * as pulumi from "@pulumi/pulumi";
import * as openwrt from "pulumi-openwrt-offload";

// One router: the offload package, then flow offloading in the firewall defaults (hardware where the
// SoC can). Run it against a simulated router as examples/quickstart/README.md shows.
const cfg = new pulumi.Config();

const edge = new openwrt.Router("edge-1", {
  host: cfg.require("host"),
  port: cfg.getNumber("port") ?? 22,
  user: "root",
  privateKey: cfg.requireSecret("sshKey"),
  hostKey: cfg.require("hostKey"),
});

const pkgs = new openwrt.OffloadPackages("edge-1-pkgs", { router: edge });

const offload = new openwrt.FirewallDefaults(
  "edge-1-offload",
  { router: edge, flowOffloading: true, flowOffloadingHw: cfg.getBoolean("hardware") ?? edge.hwOffloadCapable },
  { dependsOn: [pkgs] },
);

export const target = edge.target;
export const release = edge.release.version;
export const hwOffloadCapable = edge.hwOffloadCapable;
export const runningMode = offload.runtime.mode;
export const drift = offload.drift;
