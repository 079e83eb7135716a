import { run } from "../helpers/sim-client";
import { commandPluginAvailability, routerConfig } from "./harness";
import { exampleSuites } from "./lifecycle";

/**
 * examples/command-interop through the real Pulumi CLI: it needs @pulumi/command's provider plugin, which this
 * machine cannot get (tools/pulumi/README.md), so the suite says exactly that in the run's summary unless the plugin
 * is installed. What can be checked without it, is: test/program/command-interop.test.ts runs the program under mocks
 * with our real providers and checks that remote.Command receives Router.connection as remote.ConnectionArgs.
 */
exampleSuites({
  example: "command-interop",
  projectName: "openwrt-offload-command",
  availability: commandPluginAvailability,
  profiles: ["mt7621-23.05"],
  config: (box) => routerConfig(box.routers[0]),
  // The stack, the Router, the FirewallDefaults and the remote.Command.
  resources: 4,
  async checkUp(box, outputs) {
    expect((await run(box.routers[0], "uci -q get firewall.@defaults[0].flow_offloading")).stdout.trim()).toBe("1");
    // The command ran on the router over the Router's connection (its stdout is empty: logger prints nothing).
    expect(outputs).toEqual({ note: "" });
  },
  async handEdit(box) {
    await run(box.routers[0], "uci set firewall.@defaults[0].flow_offloading=0; uci commit firewall; fw4 reload");
  },
  drift: { resource: "edge-1-offload", class: "local-edit" },
});
