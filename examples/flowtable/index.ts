import * as pulumi from "@pulumi/pulumi";
import * as openwrt from "pulumi-openwrt-offload";

// A flowtable of your own instead of fw4's `ft`: offload only LAN-to-WAN flows leaving through the
// WAN port. A device can belong to one flowtable per table, so fw4's own offloading stays off.
const cfg = new pulumi.Config();

const edge = new openwrt.Router("edge-1", {
  host: cfg.require("host"),
  port: cfg.getNumber("port") ?? 22,
  privateKey: cfg.requireSecret("sshKey"),
  hostKey: cfg.require("hostKey"),
});

new openwrt.FirewallDefaults("edge-1-defaults", { router: edge, flowOffloading: false });

const lanwan = new openwrt.Flowtable("edge-1-ft", {
  router: edge,
  name: "lanwan",
  devices: cfg.getObject<string[]>("devices") ?? ["lan1", "wan"],
  hardware: false,
  forwardRule: { protocols: ["tcp", "udp"], outputInterfaces: ["wan"] },
});

export const live = lanwan.live;
