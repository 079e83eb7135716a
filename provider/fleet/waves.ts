/** How a fleet rolls out: a canary wave first, then waves of a fixed size or a share of the fleet. */
export interface WavePlan {
  /** Routers in the first wave (default 1). */
  canary?: number;
  /** Later waves: a number of routers, or a percentage of the fleet such as "25%". */
  size?: number | `${number}%`;
}

/** Splits routers (in inventory order) into waves; every router is in exactly one. */
export function planWaves<T>(routers: T[], plan: WavePlan = {}): T[][] {
  if (routers.length === 0) return [];
  const canary = Math.max(1, Math.min(plan.canary ?? 1, routers.length));
  const size = waveSize(plan.size ?? "25%", routers.length);
  const waves: T[][] = [routers.slice(0, canary)];
  for (let i = canary; i < routers.length; i += size) waves.push(routers.slice(i, i + size));
  return waves;
}

function waveSize(size: number | string, total: number): number {
  if (typeof size === "number") {
    if (!Number.isInteger(size) || size < 1) throw new Error(`waves.size must be a whole number ≥ 1 or a percentage like "25%", got ${size}`);
    return size;
  }
  const m = size.match(/^(\d+(?:\.\d+)?)%$/);
  if (!m || Number(m[1]) <= 0 || Number(m[1]) > 100) throw new Error(`waves.size must be a whole number ≥ 1 or a percentage like "25%", got "${size}"`);
  return Math.max(1, Math.ceil((Number(m[1]) / 100) * total));
}
