/**
 * OpenWrt targets whose SoC has a flow engine that nftables flowtables can drive (`flags offload`),
 * per openwrt-behaviour.md §4.3. MT7620 and Qualcomm PPE support is not merged upstream; others are
 * software-only.
 */
const HW_FLOW_TARGETS: { pattern: RegExp; engine: string }[] = [
  { pattern: /^ramips\/mt7621$/, engine: "MediaTek PPE v1 (mtk_eth_soc)" },
  { pattern: /^mediatek\/mt7622$/, engine: "MediaTek PPE v2" },
  { pattern: /^mediatek\/mt7623$/, engine: "MediaTek PPE v1" },
  { pattern: /^mediatek\/filogic$/, engine: "MediaTek PPE v2/v3 (MT798x)" },
  { pattern: /^airoha\//, engine: "Airoha PPE (airoha_eth)" },
];

export interface HwCapability {
  capable: boolean;
  reason: string;
}

export function hwOffloadCapability(target: string, devicesWithHwTc: string[]): HwCapability {
  const known = HW_FLOW_TARGETS.find((t) => t.pattern.test(target));
  if (!known) return { capable: false, reason: `target ${target} has no flow engine usable by nftables (software offload only)` };
  if (devicesWithHwTc.length === 0) {
    return { capable: false, reason: `target ${target} has a ${known.engine}, but no device reports hw-tc-offload` };
  }
  return { capable: true, reason: `${known.engine}; hw-tc-offload on ${devicesWithHwTc.join(", ")}` };
}

/** Kernels before 5.4 lack a stable nft flowtable offload path (openwrt-behaviour.md §7). */
export function kernelAtLeast(kernel: string, major: number, minor: number): boolean {
  const m = kernel.match(/^(\d+)\.(\d+)/);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}
