import * as pulumi from "@pulumi/pulumi";
import * as openwrt from "pulumi-openwrt-offload";

/**
 * What deserves a warning reaches Pulumi's log, on its resource. A health check that calls what a stock
 * OpenWrt router lacks is said when the program runs (at preview): it would fail there and every change
 * be restored.
 */
test("health checks that a stock OpenWrt router cannot run get a warning; portable ones do not", async () => {
  pulumi.runtime.setMocks({ newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }), call: (args) => args.inputs }, "p", "s", true);
  const warnings: string[] = [];
  // Without an engine (mocks), the SDK writes Pulumi's log to the console.
  const spy = jest.spyOn(console, "warn").mockImplementation((msg: string) => void warnings.push(msg));
  try {
    const router = { connection: pulumi.output({ host: "192.0.2.1", port: 22, user: "root" }) } as unknown as openwrt.Router;
    new openwrt.FirewallDefaults("fd", {
      router,
      flowOffloading: true,
      healthChecks: [
        { name: "wan gateway", command: "timeout 2 ping -c 1 192.0.2.254" },
        { name: "lan server", command: "ping -c 1 -W 2 192.168.1.10" },
      ],
    });
    new openwrt.Flowtable("ft", { router, name: "mine", devices: ["lan1"], healthChecks: pulumi.output([{ name: "settle", command: "sleep 0.5; true" }]) });
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    spy.mockRestore();
  }
  expect(warnings).toEqual([
    expect.stringMatching(/health check "wan gateway": timeout: not on a stock OpenWrt router.*the guard would restore every change/),
    expect.stringMatching(/health check "settle": sleep: fractional seconds \(FLOAT_DURATION is off\)/),
  ]);
});

/** Preflight warnings (an old kernel, SQM bypassed, a router not read at preview) reach Pulumi's log on their resource. */
test("the provider's warnings go to Pulumi's log, on the resource", async () => {
  pulumi.runtime.setMocks(
    {
      newResource: (args) => ({
        id: `${args.name}-id`,
        state: { ...args.inputs, warnings: args.type.endsWith("FirewallDefaults") ? ["kernel 4.14.275 is older than 5.4; flow offloading there is known to be unstable"] : [] },
      }),
      call: (args) => args.inputs,
    },
    "p",
    "s",
    false,
  );
  const warnings: string[] = [];
  const spy = jest.spyOn(console, "warn").mockImplementation((msg: string) => void warnings.push(msg));
  try {
    const router = { connection: pulumi.output({ host: "192.0.2.1", port: 22, user: "root" }) } as unknown as openwrt.Router;
    new openwrt.FirewallDefaults("old-kernel", { router, flowOffloading: true });
    new openwrt.Flowtable("quiet", { router, name: "mine", devices: ["lan1"] });
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    spy.mockRestore();
  }
  expect(warnings).toEqual([expect.stringMatching(/kernel 4\.14\.275 is older than 5\.4/)]);
});
