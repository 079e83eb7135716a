import { renderConntrack } from "../../../sim/tools/conntrack";
import type { ConntrackEntry } from "../../../sim/types";

const flow = (over: Partial<ConntrackEntry>): ConntrackEntry => ({
  proto: "tcp",
  src: "192.168.1.100",
  dst: "198.51.100.10",
  sport: 40000,
  dport: 443,
  offload: "none",
  bytes: 15000,
  packets: 10,
  ...over,
});

test("kernel format: padded l3/l4 columns, timeout and TCP state only when not offloaded", () => {
  const text = renderConntrack([
    flow({}),
    flow({ offload: "software", sport: 40001 }),
    flow({ offload: "hardware", sport: 40002 }),
    flow({ proto: "udp", dport: 53, sport: 40003, bytes: 301, packets: 3 }),
    flow({ proto: "udp", dport: 53, sport: 40004, offload: "software" }),
  ]);
  expect(text).toBe(
    "ipv4     2 tcp      6 7439 ESTABLISHED src=192.168.1.100 dst=198.51.100.10 sport=40000 dport=443 packets=5 bytes=7500 src=198.51.100.10 dst=192.168.1.100 sport=443 dport=40000 packets=5 bytes=7500 [ASSURED] mark=0 zone=0 use=2\n" +
      "ipv4     2 tcp      6 src=192.168.1.100 dst=198.51.100.10 sport=40001 dport=443 packets=5 bytes=7500 src=198.51.100.10 dst=192.168.1.100 sport=443 dport=40001 packets=5 bytes=7500 [OFFLOAD] mark=0 zone=0 use=2\n" +
      "ipv4     2 tcp      6 src=192.168.1.100 dst=198.51.100.10 sport=40002 dport=443 packets=5 bytes=7500 src=198.51.100.10 dst=192.168.1.100 sport=443 dport=40002 packets=5 bytes=7500 [HW_OFFLOAD] mark=0 zone=0 use=2\n" +
      "ipv4     2 udp      17 179 src=192.168.1.100 dst=198.51.100.10 sport=40003 dport=53 packets=2 bytes=151 src=198.51.100.10 dst=192.168.1.100 sport=53 dport=40003 packets=1 bytes=150 [ASSURED] mark=0 zone=0 use=2\n" +
      "ipv4     2 udp      17 src=192.168.1.100 dst=198.51.100.10 sport=40004 dport=53 packets=5 bytes=7500 src=198.51.100.10 dst=192.168.1.100 sport=53 dport=40004 packets=5 bytes=7500 [OFFLOAD] mark=0 zone=0 use=2\n",
  );
  expect(text.match(/\[HW_OFFLOAD\]/g)).toHaveLength(1);
  expect(text.match(/\[OFFLOAD\]/g)).toHaveLength(2);
});

test("masqueraded LAN flows reply to the WAN address; IPv6 is printed unabbreviated", () => {
  const [nat, v6] = renderConntrack(
    [flow({}), flow({ src: "fd5d:3563:874c::100", dst: "2001:db8::1", offload: "software" })],
    { masqueradeAddress: "203.0.113.151" },
  ).split("\n");
  expect(nat).toContain(" src=198.51.100.10 dst=203.0.113.151 sport=443 dport=40000 ");
  expect(v6).toBe(
    "ipv6     10 tcp      6 src=fd5d:3563:874c:0000:0000:0000:0000:0100 dst=2001:0db8:0000:0000:0000:0000:0000:0001 sport=40000 dport=443 packets=5 bytes=7500 " +
      "src=2001:0db8:0000:0000:0000:0000:0000:0001 dst=fd5d:3563:874c:0000:0000:0000:0000:0100 sport=443 dport=40000 packets=5 bytes=7500 [OFFLOAD] mark=0 zone=0 use=2",
  );
});

test("no entries, no lines", () => {
  expect(renderConntrack([])).toBe("");
});
