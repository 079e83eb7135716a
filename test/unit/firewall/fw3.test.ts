import { fw3Tool, iptablesTool } from "../../../sim/tools/fw3";
import { STOCK_FIREWALL, fakeRouter, runTool } from "./helpers";

const tools = { fw3: fw3Tool, iptables: iptablesTool };
const withDefaults = (...opts: string[]) => STOCK_FIREWALL.replace("config defaults\n", `config defaults\n${opts.map((o) => `\toption ${o}\n`).join("")}`);
const OFFLOAD_RULE = '-A FORWARD -m comment --comment "!fw3: Traffic offloading" -m conntrack --ctstate RELATED,ESTABLISHED -j FLOWOFFLOAD';

function router(config: string, modules: string[], hwOffload = false) {
  const r = fakeRouter({ firewall: "fw3", modules, hwOffload: () => hwOffload });
  r.fs.writeAtomic("/etc/config/firewall", config);
  return { r, run: (...argv: string[]) => runTool(r, tools, argv) };
}

describe("fw3 flow offloading (OpenWrt 21.02)", () => {
  it("puts the FLOWOFFLOAD rule after the custom forwarding chain and before the established accept", async () => {
    const { run } = router(withDefaults("flow_offloading\t1"), ["xt_FLOWOFFLOAD"]);
    expect(await run("fw3", "-q", "start")).toEqual({ code: 0, stdout: "", stderr: "" });
    const forward = (await run("iptables", "-S", "FORWARD")).stdout.split("\n");
    expect(forward.slice(0, 4)).toEqual([
      "-P FORWARD DROP",
      '-A FORWARD -m comment --comment "!fw3: Custom forwarding rule chain" -j forwarding_rule',
      OFFLOAD_RULE,
      '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "!fw3" -j ACCEPT',
    ]);
  });

  it("adds --hw only when flow_offloading_hw is set and the kernel accepts it", async () => {
    const refused = router(withDefaults("flow_offloading\t1", "flow_offloading_hw\t1"), ["xt_FLOWOFFLOAD"], false);
    await refused.run("fw3", "-q", "start");
    expect((await refused.run("iptables", "-S", "FORWARD")).stdout).toContain(`${OFFLOAD_RULE}\n`);
    const accepted = router(withDefaults("flow_offloading\t1", "flow_offloading_hw\t1"), ["xt_FLOWOFFLOAD"], true);
    await accepted.run("fw3", "-q", "start");
    expect((await accepted.run("iptables", "-S", "FORWARD")).stdout).toContain(`${OFFLOAD_RULE} --hw\n`);
  });

  it("warns and skips offloading without xt_FLOWOFFLOAD", async () => {
    const { run } = router(withDefaults("flow_offloading\t1"), []);
    expect(await run("fw3", "-q", "start")).toEqual({
      code: 0,
      stdout: "",
      stderr: "Warning: Section @defaults[0] requires unavailable target extension FLOWOFFLOAD, disabling\n",
    });
    expect((await run("iptables", "-S", "FORWARD")).stdout).not.toContain("FLOWOFFLOAD");
  });

  it("reports table population, refuses a second start and clears on stop", async () => {
    const { r, run } = router(STOCK_FIREWALL, []);
    expect((await run("fw3", "start")).stderr).toBe(
      " * Populating IPv4 filter table\n * Populating IPv4 nat table\n * Populating IPv4 mangle table\n * Populating IPv4 raw table\n",
    );
    expect(await run("fw3", "-q", "start")).toEqual({
      code: 1,
      stdout: "",
      stderr: "Warning: The IPv4 firewall appears to be started already. If it is indeed empty, remove the /var/run/fw3.state file and retry.\n",
    });
    expect((await run("iptables", "-t", "nat", "-S", "zone_wan_postrouting")).stdout).toBe(
      '-N zone_wan_postrouting\n-A zone_wan_postrouting -m comment --comment "!fw3" -j MASQUERADE\n',
    );
    expect((await run("fw3", "-q", "stop")).code).toBe(0);
    expect(r.kernel.iptables.get("filter")).toEqual(["-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT"]);
    expect(await run("iptables", "-S", "zone_wan_input")).toEqual({ code: 1, stdout: "", stderr: "iptables: No chain/target/match by that name.\n" });
  });

  it("lists a chain in iptables -L layout", async () => {
    const { run } = router(withDefaults("flow_offloading\t1"), ["xt_FLOWOFFLOAD"]);
    await run("fw3", "-q", "start");
    const out = (await run("iptables", "-L", "FORWARD")).stdout.split("\n");
    expect(out[0]).toBe("Chain FORWARD (policy DROP)");
    expect(out[1]).toBe("target     prot opt source               destination         ");
    expect(out[3]).toBe("FLOWOFFLOAD all  --  anywhere             anywhere             /* !fw3: Traffic offloading */");
  });
});
