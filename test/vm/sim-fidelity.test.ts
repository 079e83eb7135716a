import * as fs from "fs";
import * as path from "path";
import type { Client } from "ssh2";
import { startSimulatedRouter, type SimulatedRouter } from "pulumi-openwrt-offload/sim";
import { flowtableSchema } from "../../sdk/schemas";
import { flowtablePaths, renderFlowtable } from "../../provider/resources/flowtable";
import { shellQuote } from "../../provider/transport";
import { connect, exec, type ExecResult } from "../helpers/sim-client";
import { describeWithRouterVm, startRouterVm, type RouterVm } from "./router-vm";

/**
 * The simulator's nft against the real one: the same commands, in the same order, on a simulated x86-64-23.05 router
 * and in a network namespace of the router VM whose devices are named like the profile's (eth0, eth1, br-lan over
 * eth0), compared byte for byte (stdout, stderr, exit code). Nothing is normalised: handles included, both sides
 * must agree. The expected outputs are never written down here; the real kernel and nft 1.0.6 produce them.
 */
const RENDERS = path.join(__dirname, "../fixtures/fw4-renders");
const render = (name: string) => fs.readFileSync(path.join(RENDERS, name), "utf8");

/** The profile's devices, down (as in the captures of test/unit/firewall/fixtures), in the namespace `fid`. */
const VM_ROUTER = `set -e
# OpenWrt's kmodloader loads every installed netfilter module at boot, before fw4 runs. Loading on demand instead,
# nft's batch is aborted and replayed once per missing module, and every replay takes a table handle.
modprobe -a $(find /lib/modules/$(uname -r)/kernel/net -name 'nft_*.ko' -o -name 'nf_flow_table*.ko' | sed 's,.*/,,; s,[.]ko$,,')
ip netns add fid
ip -n fid link set lo up
ip -n fid link add eth0 type dummy
ip -n fid link add eth1 type dummy
ip -n fid link add br-lan type bridge
ip -n fid link set eth0 master br-lan
`;

/** fw4's hardware probe (nft_try_hw_offload in fw4.uc), as the simulated fw4 runs it. */
const FW4_HW_PROBE = `
\t\tadd table inet fw4-hw-offload-test;
\t\tadd flowtable inet fw4-hw-offload-test ft {
\t\t\thook ingress priority 0;
\t\t\tdevices = { "eth0", "eth1" };
\t\t\tflags offload;
\t\t}
\t`;

interface Step {
  name: string;
  command: string;
  stdin?: string;
}

let vm: RouterVm;
let sim: SimulatedRouter;
let simClient: Client;

const onVm = (step: Step) => vm.execIn("fid", step.command, { stdin: step.stdin });
const onSim = (step: Step): Promise<ExecResult> => exec(simClient, step.command, step.stdin);

/** Files both routers must hold for the inputs to be identical (the fw4 render includes /etc/nftables.d/*.nft). */
async function writeBoth(file: string, content: string): Promise<void> {
  const cmd = `mkdir -p ${shellQuote(path.posix.dirname(file))} && cat > ${shellQuote(file)}`;
  expect((await vm.exec(cmd, { stdin: content })).code).toBe(0);
  expect((await exec(simClient, cmd, content)).code).toBe(0);
}

const flowtable = (name: string, devices: string[], extra: { hardware?: boolean; counter?: boolean } = {}) =>
  renderFlowtable(flowtableSchema.parse({ connection: vm.connection, name, devices, forwardRule: {}, ...extra }));

describeWithRouterVm("the simulator's nft equals nft 1.0.6 on a real kernel", () => {
  beforeAll(async () => {
    [vm, sim] = await Promise.all([startRouterVm(), startSimulatedRouter({ profile: "x86-64-23.05" })]);
    console.log(`router VM: SSH after ${vm.bootMs} ms on 127.0.0.1:${vm.port} (pid ${vm.pid})`);
    simClient = await connect(sim);
    expect(await vm.exec(VM_ROUTER)).toMatchObject({ code: 0, stderr: "" });
    // The simulated router's /etc/nftables.d, which fw4's ruleset includes, goes to the VM as it is.
    const listed = await exec(simClient, "for f in /etc/nftables.d/*.nft; do [ -f \"$f\" ] && echo \"$f\"; done; true");
    expect((await vm.exec("mkdir -p /etc/nftables.d")).code).toBe(0);
    for (const file of listed.stdout.split("\n").filter(Boolean)) await writeBoth(file, (await exec(simClient, `cat ${shellQuote(file)}`)).stdout);
    // The simulated router booted with fw4's ruleset, which took table handle 1: the VM's namespace gets the same history.
    const booted = await exec(simClient, "fw4 print");
    expect(booted.code).toBe(0);
    expect(await onVm({ name: "boot", command: "nft -f -", stdin: booted.stdout })).toEqual({ code: 0, stdout: "", stderr: "" });
  }, 120_000);

  afterAll(async () => {
    simClient?.end();
    await Promise.all([vm?.stop(), sim?.stop()]);
  });

  const compare = (steps: Step[]) =>
    test.each(steps.map((s) => [s.name, s] as const))("%s", async (_name, step) => {
      const [real, simulated] = await Promise.all([onVm(step), onSim(step)]);
      expect({ command: step.command, ...simulated }).toEqual({ command: step.command, ...real });
    });

  describe("fw4's ruleset as the router booted with it", () => {
    compare([
      { name: "the same nft release", command: "nft --version" },
      { name: "list ruleset with handles", command: "nft -a list ruleset" },
      { name: "list ruleset as JSON", command: "nft -j list ruleset" },
    ]);
  });

  describe("fw4's offload render (23.05.4, flow_offloading=1) on the profile's devices", () => {
    compare([
      { name: "flush the ruleset", command: "nft flush ruleset" },
      { name: "load the render", command: "nft -f -", stdin: render("fw4-2305-offload1.nft") },
      { name: "list ruleset", command: "nft list ruleset" },
      { name: "list ruleset with handles", command: "nft -a list ruleset" },
      { name: "list ruleset as JSON", command: "nft -j list ruleset" },
      { name: "list flowtables", command: "nft list flowtables" },
      { name: "list flowtables as JSON", command: "nft -j list flowtables" },
      { name: "fw4's own flowtable query", command: "nft --terse --json list flowtables inet" },
      { name: "list one flowtable", command: "nft list flowtable inet fw4 ft" },
      { name: "list one flowtable as JSON", command: "nft -j list flowtable inet fw4 ft" },
      { name: "list the forward chain", command: "nft list chain inet fw4 forward" },
      { name: "list the forward chain as JSON", command: "nft -j list chain inet fw4 forward" },
      { name: "stateless listing of the table", command: "nft -s list table inet fw4" },
      { name: "fw4 reloads the same render (flush table, same flowtable again)", command: "nft -f -", stdin: render("fw4-2305-offload1.nft") },
      { name: "list ruleset with handles after the reload", command: "nft -a list ruleset" },
    ]);
  });

  describe("errors", () => {
    compare([
      { name: "a missing flowtable", command: "nft list flowtable inet fw4 nosuch" },
      { name: "a flowtable of a missing table", command: "nft list flowtable inet nosuch ft" },
      { name: "deleting a flowtable the forward rule uses", command: "nft delete flowtable inet fw4 ft" },
      {
        name: "a device already in another flowtable of the table (command line)",
        command: "nft 'add flowtable inet fw4 ft2 { hook ingress priority 0; devices = { eth1 }; }'",
      },
      { name: "a device that does not exist", command: "nft 'add flowtable inet fw4 ft3 { hook ingress priority 0; devices = { nosuch0 }; }'" },
      { name: "flags offload on an existing flowtable without it", command: "nft 'add flowtable inet fw4 ft { hook ingress priority 0; devices = { eth0 }; flags offload; }'" },
      { name: "another priority for an existing flowtable", command: "nft 'add flowtable inet fw4 ft { hook ingress priority 10; devices = { eth0 }; }'" },
      { name: "fw4's hardware probe (nft -c)", command: "nft -c -f -", stdin: FW4_HW_PROBE },
      {
        name: "flags offload on a new flowtable (one-line check)",
        command: "nft -c 'add table inet probe; add flowtable inet probe ft { hook ingress priority 0; devices = { \"br-lan\" }; flags offload; }'",
      },
      { name: "flow add to a flowtable that does not exist", command: "nft add rule inet fw4 forward meta l4proto tcp flow add @nosuch" },
      {
        name: "syntax error: a rule ended by `;` right before `}` on one line",
        command: "nft -f -",
        stdin: "table inet t { chain c { type filter hook forward priority 0; policy accept; counter accept; } }\n",
      },
      { name: "syntax error: list without an object", command: "nft list" },
      { name: "syntax error: a rule closed by `}` on its own line", command: "nft -f -", stdin: "table inet t {\n\tchain c { counter accept }\n}\n" },
      {
        name: "syntax error: a flowtable line closed by `}`",
        command: "nft -f -",
        stdin: "table inet t {\n\tflowtable f { hook ingress priority 0; devices = { lo } }\n}\n",
      },
      { name: "an include of a missing file", command: "nft -f -", stdin: 'table inet t {\n\tinclude "/nonexist.nft"\n}\n' },
      { name: "an unknown statement", command: "nft add rule inet fw4 forward foo bar accept" },
      { name: "handles after failed and checked batches", command: "nft add chain inet fw4 after_errors && nft -a list chain inet fw4 after_errors" },
      { name: "the ruleset is unchanged by the failures", command: "nft -a list ruleset" },
    ]);
  });

  describe("the Flowtable resource's files next to fw4's own flowtable", () => {
    test("a second flowtable on a device of fw4's is refused in the reload", async () => {
      await writeBoth(flowtablePaths("lanwan").flowtable, flowtable("lanwan", ["eth1"]).flowtable);
    });
    compare([{ name: "fw4 reload with the include", command: "nft -f -", stdin: render("fw4-2305-offload1.nft") }]);
    test("on a device of its own it loads", async () => {
      await writeBoth(flowtablePaths("lanwan").flowtable, flowtable("lanwan", ["br-lan"]).flowtable);
    });
    compare([
      { name: "fw4 reload with the include", command: "nft -f -", stdin: render("fw4-2305-offload1.nft") },
      { name: "list flowtables", command: "nft list flowtables" },
      { name: "list flowtables as JSON", command: "nft -j list flowtables" },
    ]);
    test("with flags offload", async () => {
      await writeBoth(flowtablePaths("lanwan").flowtable, flowtable("lanwan", ["br-lan"], { hardware: true }).flowtable);
    });
    compare([
      { name: "fw4 reload with the hardware include", command: "nft -f -", stdin: render("fw4-2305-offload1.nft") },
      { name: "nothing changed", command: "nft -a list flowtables" },
    ]);
    test("back to the software file", async () => {
      await writeBoth(flowtablePaths("lanwan").flowtable, flowtable("lanwan", ["br-lan"]).flowtable);
    });
    compare([
      { name: "adding a device by redeclaring", command: "nft 'add flowtable inet fw4 lanwan { hook ingress priority 0; devices = { lo }; counter; }'" },
      { name: "devices merge", command: "nft -a list flowtable inet fw4 lanwan" },
    ]);
  });

  describe("removing flowtables", () => {
    compare([
      { name: "flush the forward chain, then the flowtable can go", command: "nft flush chain inet fw4 forward && nft delete flowtable inet fw4 ft" },
      { name: "list flowtables", command: "nft list flowtables" },
      { name: "the hardware render on a fresh table", command: "nft delete table inet fw4 && nft -f -", stdin: render("SIMULATED-hwprobe-ok-fw4-2305-offload1-hw1.nft") },
      { name: "nothing was loaded", command: "nft list ruleset" },
      { name: "the software render on a fresh table", command: "nft -f -", stdin: render("fw4-2305-offload1.nft") },
      { name: "handles after the refused batch", command: "nft -a list flowtables" },
    ]);
  });

  /** The kernel replaces a redeclared flowtable's flags: a declaration without `counter` turns the counter off. */
  describe("redeclaring a flowtable without its counter", () => {
    test("an include without the counter", async () => {
      await writeBoth(flowtablePaths("lanwan").flowtable, flowtable("lanwan", ["br-lan"], { counter: false }).flowtable);
      const reload = { name: "fw4 reload", command: "nft -f -", stdin: render("fw4-2305-offload1.nft") };
      const [real, simulated] = await Promise.all([onVm(reload), onSim(reload)]);
      expect(simulated).toEqual(real);
      expect(real.code).toBe(0);
    });
    test("the counter flag follows the last declaration", async () => {
      const step = { name: "list", command: "nft list flowtable inet fw4 lanwan" };
      const [real, simulated] = await Promise.all([onVm(step), onSim(step)]);
      expect(simulated).toEqual(real);
    });
  });
});
