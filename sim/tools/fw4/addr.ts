import { formatIpv6 } from "../inet";

/** IPv4/IPv6 helpers matching ucode's iptoarr/arrtoip, which fw4 uses to mask and print subnets. */

export function ipToBytes(addr: string): number[] | undefined {
  if (addr.includes(":")) return ipv6ToBytes(addr);
  const parts = addr.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

function ipv6ToBytes(addr: string): number[] | undefined {
  const halves = addr.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...Array(Math.max(fill, 0)).fill("0"), ...tail];
  if (all.length !== 8 || !all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return all.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

/** inet_ntop: IPv6 with the longest run of two or more zero groups compressed (RFC 5952, as netifd prints). */
export function bytesToIp(bytes: number[]): string {
  if (bytes.length === 4) return bytes.join(".");
  return formatIpv6(bytes.reduce((value, b) => (value << 8n) | BigInt(b), 0n));
}

export function applyMask(addr: string, bits: number): string | undefined {
  const bytes = ipToBytes(addr);
  if (!bytes) return undefined;
  let left = bits;
  const masked = bytes.map((b) => {
    const take = Math.max(0, Math.min(8, left));
    left -= take;
    return b & ((0xff << (8 - take)) & 0xff);
  });
  return bytesToIp(masked);
}

export interface Subnet {
  family: 4 | 6;
  addr: string;
  bits: number;
}

/** fw4's cidr(): the masked network, or the bare address for a host route. */
export function cidr(s: Subnet): string {
  if ((s.family === 4 && s.bits === 32) || (s.family === 6 && s.bits === 128)) return s.addr;
  return `${applyMask(s.addr, s.bits)}/${s.bits}`;
}

/** Parses `addr` or `addr/bits` (fw4's parse_subnet without ranges and non-contiguous masks). */
export function parseSubnet(value: string): Subnet | undefined {
  const [addr, bitsText] = value.split("/", 2);
  const bytes = ipToBytes(addr);
  if (!bytes) return undefined;
  const family = bytes.length === 16 ? 6 : 4;
  const max = family === 6 ? 128 : 32;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return undefined;
  return { family, addr: bytesToIp(bytes), bits };
}
