import type { RouterHandle, Tool, ToolContext } from "../../types";
import { loadEffectivePackage } from "../uci";
import type { UciPackage, UciSection } from "../uci/model";

/**
 * fw3 (OpenWrt 21.02) and iptables, reduced to what a flow-offload manager observes: the filter
 * FORWARD chain with fw3's FLOWOFFLOAD rule (openwrt-behaviour.md §2.5), zone chains, masquerading
 * and MSS clamping. The tables live in kernel.iptables as `iptables -S` lines.
 */

const STATE = "/var/run/fw3.state";
const BUILTIN: Record<string, string[]> = {
  filter: ["INPUT", "FORWARD", "OUTPUT"],
  nat: ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
  mangle: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
  raw: ["PREROUTING", "OUTPUT"],
};
const TABLES = ["filter", "nat", "mangle", "raw"];

/** fw3's boolean: only these are true, anything else is false without complaint. */
const fw3Bool = (v: string | string[] | undefined) => typeof v === "string" && ["1", "yes", "true", "on"].includes(v);

function opt(s: UciSection, name: string): string | undefined {
  const v = s.options.get(name);
  return typeof v === "string" ? v : undefined;
}

function list(s: UciSection, name: string): string[] {
  const v = s.options.get(name);
  if (v === undefined) return [];
  return Array.isArray(v) ? v : v.split(/\s+/).filter(Boolean);
}

const policyOf = (v: string | undefined) => (v ?? "REJECT").toUpperCase();

interface Fw3Zone {
  name: string;
  devices: string[];
  physdevs: string[];
  input: string;
  output: string;
  forward: string;
  masq: boolean;
  mtuFix: boolean;
}

/** Chains in creation order with their rules; serialised as `iptables -S` lines. */
class Table {
  readonly policies = new Map<string, string>();
  readonly chains: string[] = [];
  readonly rules: string[] = [];

  constructor(readonly name: string) {
    for (const c of BUILTIN[name]) this.policies.set(c, "ACCEPT");
  }

  chain(name: string): void {
    if (!this.chains.includes(name)) this.chains.push(name);
  }

  add(chain: string, spec: string): void {
    this.rules.push(`-A ${chain} ${spec}`);
  }

  lines(): string[] {
    const userChains = [...this.chains].sort();
    // iptables -S lists each chain's rules in chain order: builtins first, then user chains by name.
    const order = [...BUILTIN[this.name], ...userChains];
    const byChain = (r: string) => order.indexOf(r.split(" ")[1]);
    const rules = this.rules.map((r, i) => ({ r, i })).sort((a, b) => byChain(a.r) - byChain(b.r) || a.i - b.i);
    return [...[...this.policies].map(([c, p]) => `-P ${c} ${p}`), ...userChains.map((c) => `-N ${c}`), ...rules.map((x) => x.r)];
  }
}

const C = (text = "!fw3") => `-m comment --comment "${text}"`;

function lowerDevices(router: RouterHandle, name: string): string[] {
  const dev = router.netifd.device(name);
  if (!dev) return [];
  if (dev.devtype === "bridge" || dev.devtype === "vlan") return (dev.lower ?? []).flatMap((l) => lowerDevices(router, l));
  return [name];
}

interface Fw3Result {
  tables: Map<string, string[]>;
  warnings: string[];
}

/** Builds fw3's IPv4 tables from the effective firewall config. */
export function renderFw3(router: RouterHandle, config: UciPackage | undefined): Fw3Result {
  const warnings: string[] = [];
  const sections = config?.sections ?? [];
  const defaults = sections.find((s) => s.type === "defaults");
  const dflt = (name: string) => (defaults ? opt(defaults, name) : undefined);
  const interfaces = new Map(router.netifd.interfaces().map((i) => [i.interface, i]));

  const zones: Fw3Zone[] = sections
    .filter((s) => s.type === "zone" && opt(s, "name"))
    .map((s) => {
      const nets = list(s, "network").map((n) => interfaces.get(n)).filter((i) => i !== undefined);
      const devices = [...new Set([...nets.map((i) => i.l3_device ?? i.device ?? ""), ...list(s, "device")].filter(Boolean))];
      return {
        name: opt(s, "name")!,
        devices,
        physdevs: [...new Set(nets.map((i) => i.device ?? "").filter(Boolean))],
        input: policyOf(opt(s, "input") ?? dflt("input")),
        output: policyOf(opt(s, "output") ?? dflt("output")),
        forward: policyOf(opt(s, "forward") ?? dflt("forward")),
        masq: fw3Bool(opt(s, "masq")),
        mtuFix: fw3Bool(opt(s, "mtu_fix")),
      };
    });

  let offload = fw3Bool(dflt("flow_offloading"));
  if (offload && !router.kernel.modules.has("xt_FLOWOFFLOAD")) {
    warnings.push("Section @defaults[0] requires unavailable target extension FLOWOFFLOAD, disabling");
    offload = false;
  }
  const hwDevices = [...new Set(zones.flatMap((z) => z.physdevs.flatMap((d) => lowerDevices(router, d))))].sort();
  const hw = offload && fw3Bool(dflt("flow_offloading_hw")) && router.kernel.acceptsHwOffload(hwDevices);

  const filter = new Table("filter");
  const nat = new Table("nat");
  const mangle = new Table("mangle");
  const raw = new Table("raw");
  for (const [chain, value] of [
    ["INPUT", dflt("input")],
    ["OUTPUT", dflt("output")],
    ["FORWARD", dflt("forward")],
  ] as const) {
    filter.policies.set(chain, policyOf(value) === "ACCEPT" ? "ACCEPT" : "DROP");
  }
  for (const c of ["input_rule", "output_rule", "forwarding_rule", "reject"]) filter.chain(c);
  filter.add("INPUT", `-i lo ${C()} -j ACCEPT`);
  filter.add("INPUT", `${C("!fw3: Custom input rule chain")} -j input_rule`);
  filter.add("INPUT", `-m conntrack --ctstate RELATED,ESTABLISHED ${C()} -j ACCEPT`);
  if (fw3Bool(dflt("syn_flood")) || fw3Bool(dflt("synflood_protect"))) {
    filter.chain("syn_flood");
    filter.add("INPUT", `-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN ${C()} -j syn_flood`);
    filter.add("syn_flood", `-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m limit --limit 25/sec --limit-burst 50 ${C()} -j RETURN`);
    filter.add("syn_flood", `${C()} -j DROP`);
  }
  filter.add("FORWARD", `${C("!fw3: Custom forwarding rule chain")} -j forwarding_rule`);
  if (offload) filter.add("FORWARD", `${C("!fw3: Traffic offloading")} -m conntrack --ctstate RELATED,ESTABLISHED -j FLOWOFFLOAD${hw ? " --hw" : ""}`);
  filter.add("FORWARD", `-m conntrack --ctstate RELATED,ESTABLISHED ${C()} -j ACCEPT`);
  filter.add("OUTPUT", `-o lo ${C()} -j ACCEPT`);
  filter.add("OUTPUT", `${C("!fw3: Custom output rule chain")} -j output_rule`);
  filter.add("OUTPUT", `-m conntrack --ctstate RELATED,ESTABLISHED ${C()} -j ACCEPT`);
  filter.add("reject", `-p tcp ${C()} -j REJECT --reject-with tcp-reset`);
  filter.add("reject", `${C()} -j REJECT --reject-with icmp-port-unreachable`);

  const verdictTarget = (v: string) => (v === "REJECT" ? "reject" : v);
  const destChains = new Set<string>();
  const dest = (zone: Fw3Zone, verdict: string) => {
    const chain = `zone_${zone.name}_dest_${verdict}`;
    destChains.add(chain);
    return chain;
  };

  for (const z of zones) {
    for (const dir of ["input", "output", "forward"]) {
      const zoneChain = `zone_${z.name}_${dir}`;
      const custom = `${dir === "forward" ? "forwarding" : dir}_${z.name}_rule`;
      filter.chain(zoneChain);
      filter.chain(custom);
      filter.add(zoneChain, `${C(`!fw3: Custom ${z.name} ${dir === "forward" ? "forwarding" : dir} rule chain`)} -j ${custom}`);
    }
    for (const d of z.devices) {
      filter.add("INPUT", `-i ${d} ${C()} -j zone_${z.name}_input`);
      filter.add("FORWARD", `-i ${d} ${C()} -j zone_${z.name}_forward`);
      filter.add("OUTPUT", `-o ${d} ${C()} -j zone_${z.name}_output`);
    }
  }
  for (const s of sections.filter((x) => x.type === "forwarding")) {
    const src = zones.find((z) => z.name === opt(s, "src"));
    const dst = zones.find((z) => z.name === opt(s, "dest"));
    if (src && dst) filter.add(`zone_${src.name}_forward`, `${C(`!fw3: Zone ${src.name} to ${dst.name} forwarding policy`)} -j ${dest(dst, "ACCEPT")}`);
  }
  for (const s of sections.filter((x) => x.type === "rule")) {
    const src = zones.find((z) => z.name === opt(s, "src"));
    const dst = zones.find((z) => z.name === opt(s, "dest"));
    const family = opt(s, "family");
    if (!src || (family && family.includes("6")) || opt(s, "src_ip")?.includes(":")) continue;
    const target = policyOf(opt(s, "target") ?? "ACCEPT");
    const chain = dst ? `zone_${src.name}_forward` : `zone_${src.name}_input`;
    const jump = dst ? dest(dst, target) : verdictTarget(target);
    const name = opt(s, "name") ?? "";
    const protos = opt(s, "proto") === undefined ? ["tcp", "udp"] : list(s, "proto");
    for (const proto of protos) {
      const ports = list(s, "dest_port");
      const types = list(s, "icmp_type");
      let match = proto === "all" ? "" : `-p ${proto} `;
      if (ports.length && (proto === "tcp" || proto === "udp")) match += `-m ${proto} --dport ${ports[0].replace("-", ":")} `;
      if (proto === "icmp" && types.length) match += `-m icmp --icmp-type ${types[0] === "echo-request" ? "8" : types[0]} `;
      filter.add(chain, `${match}${C(`!fw3: ${name}`)} -j ${jump}`);
    }
  }
  for (const z of zones) {
    filter.add(`zone_${z.name}_input`, `-m conntrack --ctstate DNAT ${C("!fw3: Accept port redirections")} -j ACCEPT`);
    filter.add(`zone_${z.name}_input`, `${C()} -j zone_${z.name}_src_${z.input}`);
    filter.chain(`zone_${z.name}_src_${z.input}`);
    for (const d of z.devices) {
      const extra = z.input === "ACCEPT" ? "-m conntrack --ctstate NEW,UNTRACKED " : "";
      filter.add(`zone_${z.name}_src_${z.input}`, `-i ${d} ${extra}${C()} -j ${verdictTarget(z.input)}`);
    }
    filter.add(`zone_${z.name}_output`, `${C()} -j ${dest(z, z.output)}`);
    filter.add(`zone_${z.name}_forward`, `-m conntrack --ctstate DNAT ${C("!fw3: Accept port forwards")} -j ACCEPT`);
    filter.add(`zone_${z.name}_forward`, `${C()} -j ${dest(z, z.forward)}`);
  }
  for (const chain of destChains) {
    filter.chain(chain);
    const [, zoneName, , verdict] = /^zone_(.+)_(dest)_(ACCEPT|REJECT|DROP)$/.exec(chain)!;
    const z = zones.find((x) => x.name === zoneName)!;
    for (const d of z.devices) {
      if (verdict === "ACCEPT" && z.masq) filter.add(chain, `-o ${d} -m conntrack --ctstate INVALID ${C("!fw3: Prevent NAT leakage")} -j DROP`);
      filter.add(chain, `-o ${d} ${C()} -j ${verdictTarget(verdict)}`);
    }
  }
  if (filter.policies.get("FORWARD") === "DROP" && policyOf(dflt("forward")) === "REJECT") filter.add("FORWARD", `${C()} -j reject`);
  if (policyOf(dflt("input")) === "REJECT") filter.add("INPUT", `${C()} -j reject`);

  for (const z of zones.filter((x) => x.masq)) {
    nat.chain(`zone_${z.name}_postrouting`);
    for (const d of z.devices) nat.add("POSTROUTING", `-o ${d} ${C()} -j zone_${z.name}_postrouting`);
    nat.add(`zone_${z.name}_postrouting`, `${C()} -j MASQUERADE`);
  }
  for (const z of zones.filter((x) => x.mtuFix)) {
    for (const d of z.devices) {
      mangle.add("FORWARD", `-o ${d} -p tcp -m tcp --tcp-flags SYN,RST SYN ${C(`!fw3: Zone ${z.name} MTU fixing`)} -j TCPMSS --clamp-mss-to-pmtu`);
    }
  }
  return { tables: new Map([filter, nat, mangle, raw].map((t) => [t.name, t.lines()])), warnings };
}

function emptyTable(name: string): string[] {
  return BUILTIN[name].map((c) => `-P ${c} ACCEPT`);
}

function effectiveFirewall(ctx: ToolContext): UciPackage | undefined {
  try {
    return loadEffectivePackage(ctx.fs, "firewall");
  } catch {
    return undefined;
  }
}

/** `fw3 [-q] start|stop|flush|reload|restart|print` (firewall3 main.c messages, IPv4 only). */
export const fw3Tool: Tool = async (ctx) => {
  const args = ctx.argv.slice(1);
  let quiet = false;
  while (args[0]?.startsWith("-")) if (args.shift() === "-q") quiet = true;
  const info = (msg: string) => !quiet && ctx.stderr(`${msg}\n`);
  const warn = (msg: string) => ctx.stderr(`Warning: ${msg}\n`);
  const kernel = ctx.router.kernel;
  const loaded = () => ctx.fs.exists(STATE);

  const populate = (reload: boolean) => {
    const out = renderFw3(ctx.router, effectiveFirewall(ctx));
    out.warnings.forEach(warn);
    if (ctx.router.faults.failNextFirewallReload) {
      ctx.router.faults.failNextFirewallReload = false;
      warn("Unable to commit IPv4 filter table: Resource temporarily unavailable");
      return 1;
    }
    for (const table of TABLES) {
      if (reload) info(` * Clearing IPv4 ${table} table`);
      info(` * Populating IPv4 ${table} table`);
      kernel.iptables.set(table, out.tables.get(table)!);
    }
    ctx.fs.writeAtomic(STATE, "IPv4\n");
    return 0;
  };
  const flush = (how: "Flushing" | "Clearing") => {
    for (const table of TABLES) {
      info(` * ${how} IPv4 ${table} table`);
      kernel.iptables.set(table, emptyTable(table));
    }
    ctx.fs.remove(STATE);
  };

  switch (args[0]) {
    case "start":
      if (loaded()) {
        warn(`The IPv4 firewall appears to be started already. If it is indeed empty, remove the ${STATE} file and retry.`);
        return 1;
      }
      return populate(false);
    case "stop":
      if (!loaded()) {
        warn("The firewall appears to be stopped. Use the 'flush' command to forcefully purge all rules.");
        return 1;
      }
      flush("Clearing");
      return 0;
    case "flush":
      flush("Flushing");
      return 0;
    case "reload":
      return populate(loaded());
    case "restart":
      if (loaded()) flush("Clearing");
      return populate(false);
    case "print": {
      const out = renderFw3(ctx.router, effectiveFirewall(ctx));
      out.warnings.forEach(warn);
      for (const table of TABLES) for (const line of out.tables.get(table)!) ctx.stdout(`iptables -t ${table} ${line}\n`);
      return 0;
    }
    default:
      ctx.stderr(
        "fw3 [-4] [-6] [-q] print\nfw3 [-q] {start|stop|flush|reload|restart}\nfw3 [-q] network {net}\nfw3 [-q] device {dev}\nfw3 [-q] zone {zone} [dev]\n",
      );
      return 1;
  }
};

const NO_CHAIN = "iptables: No chain/target/match by that name.\n";

/** iptables-legacy `-S [chain]` and a plain `-L [chain]` over kernel.iptables. */
export const iptablesTool: Tool = async (ctx) => {
  const args = ctx.argv.slice(1).filter((a) => !["-w", "-n", "-v", "--wait", "--numeric", "--verbose"].includes(a));
  let table = "filter";
  let mode: "S" | "L" | undefined;
  let chain: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-t" || a === "--table") table = args[++i] ?? "";
    else if (a === "-S" || a === "--list-rules") mode = "S";
    else if (a === "-L" || a === "--list") mode = "L";
    else if (!a.startsWith("-") && mode && chain === undefined) chain = a;
    else {
      ctx.stderr(`iptables v1.8.7 (legacy): unknown option "${a}"\nTry \`iptables -h' or 'iptables --help' for more information.\n`);
      return 2;
    }
  }
  if (!BUILTIN[table]) {
    ctx.stderr(`iptables v1.8.7 (legacy): can't initialize iptables table \`${table}': Table does not exist (do you need to insmod?)\nPerhaps iptables or your kernel needs to be upgraded.\n`);
    return 3;
  }
  if (!mode) {
    ctx.stderr("iptables v1.8.7 (legacy): no command specified\nTry `iptables -h' or 'iptables --help' for more information.\n");
    return 2;
  }
  const lines = ctx.router.kernel.iptables.get(table) ?? emptyTable(table);
  const chains = lines.filter((l) => l.startsWith("-P ") || l.startsWith("-N ")).map((l) => l.split(" ")[1]);
  if (chain !== undefined && !chains.includes(chain)) {
    ctx.stderr(NO_CHAIN);
    return 1;
  }
  const wanted = chain === undefined ? chains : [chain];
  if (mode === "S") {
    const heads = lines.filter((l) => !l.startsWith("-A ") && wanted.includes(l.split(" ")[1]));
    const rules = lines.filter((l) => l.startsWith("-A ") && wanted.includes(l.split(" ")[1]));
    ctx.stdout([...heads, ...rules].map((l) => `${l}\n`).join(""));
    return 0;
  }
  ctx.stdout(wanted.map((c) => listChain(lines, c)).join("\n"));
  return 0;
};

/** One chain in `iptables -L` layout (target, prot, opt, source, destination, then the comment). */
function listChain(lines: string[], chain: string): string {
  const policy = lines.find((l) => l.startsWith(`-P ${chain} `))?.split(" ")[2];
  const refs = lines.filter((l) => l.startsWith("-A ") && new RegExp(` -j ${chain}( |$)`).test(l)).length;
  let out = policy ? `Chain ${chain} (policy ${policy})\n` : `Chain ${chain} (${refs} references)\n`;
  out += `${"target".padEnd(10)} ${"prot".padEnd(4)} ${"opt".padEnd(3)} ${"source".padEnd(20)} ${"destination".padEnd(20)}\n`;
  for (const l of lines.filter((x) => x.startsWith(`-A ${chain} `))) {
    const target = / -j (\S+)/.exec(l)?.[1] ?? "";
    const prot = / -p (\S+)/.exec(l)?.[1] ?? "all";
    const comment = / --comment "([^"]*)"/.exec(l)?.[1];
    const extra = [comment !== undefined ? `/* ${comment} */` : "", / -j \S+ (.+)$/.exec(l)?.[1] ?? ""].filter(Boolean).join(" ");
    out += `${target.padEnd(10)} ${prot.padEnd(4)} ${"--".padEnd(3)} ${"anywhere".padEnd(20)} ${"anywhere".padEnd(20)} ${extra}`.trimEnd() + "\n";
  }
  return out;
}
