import * as path from "path";
import { flowtableSchema } from "../../sdk/schemas";
import { shellQuote } from "../../provider/transport";
import { factsFromProbe, FACT_SECTIONS } from "../../provider/device/facts";
import { runningMode, runtimeMismatches } from "../../provider/device/offload";
import { flowtablesReferencedByRules, parseFlowtablesJson, parseFlowtablesText } from "../../provider/device/parse/nft";
import { Probe } from "../../provider/device/probe";
import { flowtablePaths, renderFlowtable } from "../../provider/resources/flowtable";
import { describeWithRouterVm, startRouterVm, type RouterVm } from "./router-vm";

/**
 * The project's nft readers and the Flowtable resource's include files against a real kernel with flowtables
 * (this machine's kernel has none, so everything else in the suite runs on the simulator's model of them).
 *
 * Topology inside the VM, all in the guest's own network namespaces (198.18.0.0/15 is the RFC 2544 benchmark range;
 * each side has a route to the other side only, and the VM's only link to the host is the forwarded SSH port):
 *
 *   lan (veth0 198.18.1.2) -- eth0 [rt, forwarding, fw4-like table] eth1 -- (veth0 198.18.2.2) wan
 *   rd: dummy devices wan, lan1, lan2 for listing flowtables
 */
const TOPOLOGY = `set -e
for ns in rt lan wan rd; do ip netns add $ns; ip -n $ns link set lo up; done
ip -n rt link add eth0 type veth peer name veth0 netns lan
ip -n rt link add eth1 type veth peer name veth0 netns wan
ip -n rt addr add 198.18.1.1/24 dev eth0
ip -n rt addr add 198.18.2.1/24 dev eth1
ip -n lan addr add 198.18.1.2/24 dev veth0
ip -n wan addr add 198.18.2.2/24 dev veth0
for dev in eth0 eth1; do ip -n rt link set $dev up; done
for ns in lan wan; do ip -n $ns link set veth0 up; done
ip -n lan route add 198.18.2.0/24 via 198.18.1.1
ip -n wan route add 198.18.1.0/24 via 198.18.2.1
ip netns exec rt sysctl -qw net.ipv4.ip_forward=1
for dev in wan lan1 lan2; do ip -n rd link add $dev type dummy; done
`;

/**
 * fw4's table as far as offloading goes: its include points, and a forward chain whose last rule counts what is not
 * offloaded. Like fw4's reload it is one transaction, deleting the old flowtable when `deleteFlowtable` names it.
 */
function fw4Ruleset({ include = "/etc/nftables.d/*.nft", deleteFlowtable }: { include?: string; deleteFlowtable?: string } = {}): string {
  return `table inet fw4
flush table inet fw4
${deleteFlowtable ? `delete flowtable inet fw4 ${deleteFlowtable}\n` : ""}
table inet fw4 {
	include "${include}"

	chain forward {
		type filter hook forward priority filter; policy accept;
		include "/usr/share/nftables.d/chain-pre/forward/*.nft"
		counter
	}
}
`;
}

let vm: RouterVm;
const rt = (command: string, stdin?: string) => vm.execIn("rt", command, { stdin });
const rd = (command: string) => vm.execIn("rd", command);

/** A Flowtable resource's inputs as a program would give them, forwarding TCP and UDP between the two sides. */
const inputs = (hardware = false) =>
  flowtableSchema.parse({ connection: vm.connection, name: "lanwan", devices: ["eth0", "eth1"], hardware, forwardRule: {} });

/** Writes what the Flowtable resource writes, where it writes it. */
async function writeFlowtableFiles(rendered: { flowtable: string; rule?: string }): Promise<void> {
  const paths = flowtablePaths("lanwan");
  const write = async (file: string, content: string | undefined) => {
    const cmd = `mkdir -p ${shellQuote(path.posix.dirname(file))} && ${content === undefined ? "rm -f" : "cat >"} ${shellQuote(file)}`;
    expect((await vm.exec(cmd, { stdin: content })).code).toBe(0);
  };
  await write(paths.flowtable, rendered.flowtable);
  await write(paths.rule, rendered.rule);
}

interface Transfer {
  /** /proc/net/nf_conntrack of the router, read mid-transfer. */
  conntrack: string;
  /** What the forward chain's counter rule saw during the transfer. */
  forwardPackets: number;
  /** What the router sent out of eth1 during the transfer. */
  forwardedBytes: number;
  iperf: string;
}

const forwardCounter = async () => {
  const listed = await rt("nft list chain inet fw4 forward");
  const m = listed.stdout.match(/^\s*counter packets (\d+) bytes \d+$/m);
  if (!m) throw new Error(`no counter rule in the forward chain:\n${listed.stdout}${listed.stderr}`);
  return Number(m[1]);
};
const txBytes = async () => Number((await rt("cat /sys/class/net/eth1/statistics/tx_bytes")).stdout);

/** A 2-second iperf3 run from lan to wan (bounded by time, inside the guest), with conntrack sampled halfway. */
async function transfer(protocol: "tcp" | "udp"): Promise<Transfer> {
  const [packetsBefore, bytesBefore] = [await forwardCounter(), await txBytes()];
  const client = `iperf3 -c 198.18.2.2 -t 2${protocol === "udp" ? " -u -b 200M" : ""}`;
  const run = await vm.exec(
    [
      "ip netns exec wan iperf3 -s -1 -B 198.18.2.2 >/dev/null 2>&1 &",
      // The server needs a moment to listen; a refused client exits at once and tries again.
      `( i=0; until ip netns exec lan ${client} >/tmp/iperf.out 2>&1; do i=$((i+1)); [ $i -lt 50 ] || exit 1; sleep 0.1; done ) &`,
      "client=$!",
      "sleep 1",
      "ip netns exec rt cat /proc/net/nf_conntrack",
      "wait $client; rc=$?",
      "wait",
      "cat /tmp/iperf.out >&2",
      "exit $rc",
    ].join("\n"),
    { timeoutMs: 30_000 },
  );
  expect(run.code).toBe(0);
  return {
    conntrack: run.stdout,
    forwardPackets: (await forwardCounter()) - packetsBefore,
    forwardedBytes: (await txBytes()) - bytesBefore,
    iperf: run.stderr,
  };
}

const offloaded = (conntrack: string, protocol: "tcp" | "udp") =>
  conntrack.split("\n").filter((l) => l.startsWith(`ipv4     2 ${protocol}`) && l.includes("[OFFLOAD]"));

describeWithRouterVm("real kernel (router VM)", () => {
  beforeAll(async () => {
    vm = await startRouterVm();
    console.log(`router VM: SSH after ${vm.bootMs} ms on 127.0.0.1:${vm.port} (pid ${vm.pid})`);
    const setup = await vm.exec(TOPOLOGY);
    expect(setup).toMatchObject({ code: 0, stderr: "" });
  }, 120_000);

  afterAll(async () => {
    await vm?.stop();
  });

  describe("the nft readers on real nft output", () => {
    test("one device, no counter: text and JSON", async () => {
      expect((await rd("nft add table inet fw4; nft 'add flowtable inet fw4 ft { hook ingress priority 0; devices = { wan }; }'")).code).toBe(0);
      const text = await rd("nft list flowtables");
      expect(text.stdout).toBe("table inet fw4 {\n\tflowtable ft {\n\t\thook ingress priority filter\n\t\tdevices = { wan }\n\t}\n}\n");
      expect(parseFlowtablesText(text.stdout)).toEqual([
        { family: "inet", table: "fw4", name: "ft", hook: "ingress", priority: "filter", devices: ["wan"], hwOffload: false, counter: false },
      ]);
      const json = await rd("nft -j list flowtables");
      // One device is a bare string in nft's JSON.
      expect(json.stdout).toContain('"dev": "wan"');
      expect(parseFlowtablesJson(json.stdout)).toEqual([{ family: "inet", table: "fw4", name: "ft", hook: "ingress", priority: "0", devices: ["wan"] }]);
    });

    test("several devices and a counter; JSON has no flags, so only the text shows the counter", async () => {
      expect((await rd("nft 'add flowtable inet fw4 ft2 { hook ingress priority 10; devices = { lan1, lan2 }; counter; }'")).code).toBe(0);
      const text = await rd("nft list flowtable inet fw4 ft2");
      expect(parseFlowtablesText(text.stdout)).toEqual([
        { family: "inet", table: "fw4", name: "ft2", hook: "ingress", priority: "filter + 10", devices: ["lan1", "lan2"], hwOffload: false, counter: true },
      ]);
      const json = await rd("nft -j list flowtable inet fw4 ft2");
      expect(json.stdout).not.toMatch(/counter|flags/);
      expect(parseFlowtablesJson(json.stdout)).toEqual([{ family: "inet", table: "fw4", name: "ft2", hook: "ingress", priority: "10", devices: ["lan1", "lan2"] }]);
    });

    test("the forward rule is listed as `flow add @ft`, and the reader finds it in the chain and the ruleset", async () => {
      const added = await rd(
        "nft 'add chain inet fw4 forward { type filter hook forward priority filter; policy drop; }' && " +
          "nft add rule inet fw4 forward meta l4proto { tcp, udp } flow offload @ft && " +
          "nft add rule inet fw4 forward ct state established,related accept",
      );
      expect(added.code).toBe(0);
      const chain = await rd("nft list chain inet fw4 forward");
      expect(chain.stdout).toContain("\t\tmeta l4proto { tcp, udp } flow add @ft\n");
      expect(flowtablesReferencedByRules(chain.stdout)).toEqual(["ft"]);
      expect(flowtablesReferencedByRules((await rd("nft list ruleset")).stdout)).toEqual(["ft"]);
      const json = JSON.parse((await rd("nft -j list chain inet fw4 forward")).stdout) as { nftables: { rule?: { expr: unknown[] } }[] };
      expect(json.nftables.find((o) => o.rule)?.rule?.expr).toContainEqual({ flow: { op: "add", flowtable: "@ft" } });
    });

    test("a missing flowtable: exit 1, ENOENT with carets under the name, nothing on stdout", async () => {
      expect(await rd("nft list flowtable inet fw4 nosuch")).toEqual({
        code: 1,
        stdout: "",
        stderr: `Error: No such file or directory\nlist flowtable inet fw4 nosuch\n${" ".repeat("list flowtable inet fw4 ".length)}^^^^^^\n`,
      });
    });
  });

  describe("the Flowtable resource's include files in the real kernel", () => {
    test("without a flowtable every forwarded packet passes the forward chain (the baseline)", async () => {
      // An empty include and no forward rule file: fw4's table with nothing of the resource in it.
      await writeFlowtableFiles({ flowtable: "" });
      expect(await rt("nft -f -", fw4Ruleset())).toMatchObject({ code: 0, stderr: "" });
      const t = await transfer("tcp");
      expect(t.forwardedBytes).toBeGreaterThan(10_000_000);
      expect(t.forwardPackets).toBeGreaterThan(1000);
      expect(offloaded(t.conntrack, "tcp")).toEqual([]);
    });

    test("the rendered flowtable and forward rule load inside fw4's table and are live as declared", async () => {
      const rendered = renderFlowtable(inputs());
      await writeFlowtableFiles(rendered);
      expect(await rt("nft -f -", fw4Ruleset())).toMatchObject({ code: 0, stderr: "" });
      const listed = await rt("nft list ruleset");
      expect(parseFlowtablesText(listed.stdout)).toEqual([
        { family: "inet", table: "fw4", name: "lanwan", hook: "ingress", priority: "filter", devices: ["eth0", "eth1"], hwOffload: false, counter: true },
      ]);
      expect(flowtablesReferencedByRules(listed.stdout)).toEqual(["lanwan"]);
    });

    test("forwarded TCP is offloaded: [OFFLOAD] in conntrack and only the handshake in the forward chain", async () => {
      const t = await transfer("tcp");
      expect(t.forwardedBytes).toBeGreaterThan(10_000_000);
      // iperf3's control and data connections.
      expect(offloaded(t.conntrack, "tcp").length).toBeGreaterThanOrEqual(2);
      expect(t.forwardPackets).toBeLessThan(100);
    });

    test("forwarded UDP is offloaded once the server has answered", async () => {
      const t = await transfer("udp");
      expect(t.forwardedBytes).toBeGreaterThan(10_000_000);
      expect(offloaded(t.conntrack, "udp")).toHaveLength(1);
      expect(t.forwardPackets).toBeLessThan(100);
    });
  });

  describe("hardware offload on devices without a flow engine", () => {
    test("the kernel refuses `flags offload` and keeps the running ruleset (fw4's reload is one transaction)", async () => {
      const before = await rt("nft -s list ruleset");
      const hw = renderFlowtable(inputs(true));
      expect(hw.flowtable).toContain("\tflags offload;\n");
      expect((await vm.exec("cat > /tmp/hw-lanwan.nft", { stdin: hw.flowtable })).code).toBe(0);
      const reload = await rt("nft -f -", fw4Ruleset({ include: "/tmp/hw-lanwan.nft", deleteFlowtable: "lanwan" }));
      expect(reload.code).toBe(1);
      expect(reload.stdout).toBe("");
      expect(reload.stderr).toContain("Error: Could not process rule: Operation not supported\nflowtable lanwan {\n          ^^^^^^\n");
      expect((await rt("nft -s list ruleset")).stdout).toBe(before.stdout);
    });

    test("fw4's `nft -c` probe fails the same way", async () => {
      const probe = 'add table inet fw4-hw-offload-test\nadd flowtable inet fw4-hw-offload-test ft { hook ingress priority 0; devices = { "eth0", "eth1" }; flags offload; }\n';
      const res = await rt("nft -c -f -", probe);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^\/dev\/stdin:2:1-\d+: Error: Could not process rule: Operation not supported\n/);
    });

    test("the facts read the refusal as a fallback to software offload", async () => {
      const factsProbe = new Probe(FACT_SECTIONS);
      const result = await vm.shellIn("rt").run(factsProbe.script(), { purpose: "read router facts" });
      const probe = factsProbe.parse(result.stdout).results;
      // The VM has nft but no OpenWrt userland; every nft, module and conntrack section is the real kernel's answer.
      expect(probe.firewall.out).toBe("none\n");
      // This flowtable was loaded as `lanwan` (a Flowtable's files); fw4 itself calls its own `ft`, and only `ft` is
      // FirewallDefaults' offloading. Renamed in the kernel's answer, it reads as fw4's fallback would.
      const asFw4 = (section: { rc: number; out: string }) => ({ ...section, out: section.out.replaceAll("lanwan", "ft") });
      const facts = factsFromProbe({ ...probe, firewall: { rc: 0, out: "fw4" }, flowtables: asFw4(probe.flowtables), forwardChain: asFw4(probe.forwardChain) });
      expect(facts.offload.runtime.modules).toEqual(expect.arrayContaining(["nf_flow_table", "nf_flow_table_inet", "nft_flow_offload"]));
      expect(facts.offload.runtime.flowtables.map((f) => [f.name, f.hwOffload])).toEqual([["ft", false]]);
      expect(runningMode(facts)).toBe("software");
      expect(runtimeMismatches(facts, { flowOffloading: true, flowOffloadingHw: true })).toEqual([
        "hardware offload was requested but the kernel runs software offload (fw4 fell back: `flags offload` was refused)",
      ]);
      expect(runtimeMismatches(facts, { flowOffloading: true, flowOffloadingHw: false })).toEqual([]);
    });
  });
});
