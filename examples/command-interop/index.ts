import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import * as openwrt from "pulumi-openwrt-offload";

// Router.connection has the shape of remote.ConnectionArgs (with the host key pinned), so your own
// extra steps run on the same router: here, a persistent log of what the offload setup changed.
const cfg = new pulumi.Config();

const edge = new openwrt.Router("edge-1", {
  host: cfg.require("host"),
  port: cfg.getNumber("port") ?? 22,
  privateKey: cfg.requireSecret("sshKey"),
  hostKey: cfg.require("hostKey"),
});

const offload = new openwrt.FirewallDefaults("edge-1-offload", { router: edge, flowOffloading: true });

export const note = new remote.Command(
  "edge-1-note",
  {
    connection: edge.connection,
    create: pulumi.interpolate`logger -t offload "flow offloading is ${offload.runtime.mode}"`,
  },
  { dependsOn: [offload] },
).stdout;
