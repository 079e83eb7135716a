/** Address arithmetic the emulated programs need (prefix assignment, conntrack's IPv6 notation). */

export function isIpv6(address: string): boolean {
  return address.includes(":");
}

export function parseIpv6(address: string): bigint {
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  if (tail === undefined ? headGroups.length !== 8 : missing < 1) throw new Error(`not an IPv6 address: ${address}`);
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...tailGroups];
  return groups.reduce((acc, g) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new Error(`not an IPv6 address: ${address}`);
    return (acc << 16n) | BigInt(parseInt(g, 16));
  }, 0n);
}

function groupsOf(value: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(16 * (7 - i))) & 0xffffn));
}

/** RFC 5952 text, as netifd prints prefixes (`fd5d:3563:874c::`). */
export function formatIpv6(value: bigint): string {
  const groups = groupsOf(value);
  let best = { start: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i > 1) best = { start: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(":");
  return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.len).join(":")}`;
}

/** The kernel's `%pI6`: eight zero-padded groups, no compression. */
export function formatIpv6Full(address: string): string {
  return groupsOf(parseIpv6(address))
    .map((g) => g.toString(16).padStart(4, "0"))
    .join(":");
}

/** 255.255.255.0 -> 24 */
export function netmaskToPrefix(netmask: string): number {
  return netmask
    .split(".")
    .map((octet) => Number(octet).toString(2).replace(/0/g, "").length)
    .reduce((a, b) => a + b, 0);
}
