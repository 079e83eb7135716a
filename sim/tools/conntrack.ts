import type { ConntrackEntry } from "../types";
import { formatIpv6Full, isIpv6 } from "./inet";

/** OpenWrt's sysctl defaults: established TCP 7440 s, assured UDP streams 180 s; listed just after a packet. */
const TIMEOUT_S = { tcp: 7439, udp: 179 };
const PROTO_NUMBER = { tcp: 6, udp: 17 };

export interface ConntrackRenderOptions {
  /**
   * The WAN address LAN flows are masqueraded to; the reply tuple then targets it, as fw4's
   * `masq` on the wan zone makes the kernel record. Without it the reply simply mirrors the original.
   */
  masqueradeAddress?: string;
}

/**
 * /proc/net/nf_conntrack as the kernel's ct_seq_show prints it on OpenWrt (accounting, marks and
 * zones compiled in). An offloaded entry shows neither the timeout nor the TCP state — the flowtable
 * owns it — and is tagged [OFFLOAD], or [HW_OFFLOAD] once the flow engine has it; others are [ASSURED].
 * The entry's packet and byte totals are split across the two directions.
 */
export function renderConntrack(entries: readonly ConntrackEntry[], options: ConntrackRenderOptions = {}): string {
  return entries.map((e) => renderEntry(e, options)).join("");
}

function renderEntry(e: ConntrackEntry, options: ConntrackRenderOptions): string {
  const v6 = isIpv6(e.src);
  const l3 = v6 ? "ipv6" : "ipv4";
  const family = v6 ? 10 : 2;
  const addr = (a: string) => (v6 ? formatIpv6Full(a) : a);
  const offloaded = e.offload !== "none";
  const nat = !v6 && options.masqueradeAddress !== undefined && isPrivateIpv4(e.src) && !isPrivateIpv4(e.dst);
  const replyDst = nat ? options.masqueradeAddress! : e.src;
  const origPackets = Math.ceil(e.packets / 2);
  const origBytes = Math.ceil(e.bytes / 2);

  let line = `${l3.padEnd(8)} ${family} ${e.proto.padEnd(8)} ${PROTO_NUMBER[e.proto]} `;
  if (!offloaded) line += `${TIMEOUT_S[e.proto]} `;
  if (e.proto === "tcp" && !offloaded) line += "ESTABLISHED ";
  line += `src=${addr(e.src)} dst=${addr(e.dst)} sport=${e.sport} dport=${e.dport} `;
  line += `packets=${origPackets} bytes=${origBytes} `;
  line += `src=${addr(e.dst)} dst=${addr(replyDst)} sport=${e.dport} dport=${e.sport} `;
  line += `packets=${e.packets - origPackets} bytes=${e.bytes - origBytes} `;
  line += e.offload === "hardware" ? "[HW_OFFLOAD] " : e.offload === "software" ? "[OFFLOAD] " : "[ASSURED] ";
  line += "mark=0 zone=0 use=2\n";
  return line;
}

function isPrivateIpv4(address: string): boolean {
  const [a, b] = address.split(".").map(Number);
  return a === 10 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168);
}
