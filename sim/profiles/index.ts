import type { Profile } from "../types";
import { ath79_21_02 } from "./ath79-21.02";
import { filogic_25_12 } from "./filogic-25.12";
import { ipq40xx_22_03 } from "./ipq40xx-22.03";
import { mt7621_23_05 } from "./mt7621-23.05";
import { mt7621_24_10 } from "./mt7621-24.10";
import { mt7621_unstable_hw } from "./mt7621-unstable-hw";
import { x86_64_23_05 } from "./x86-64-23.05";

/** Every simulated router model, by id. */
export const PROFILES: Record<string, Profile> = Object.fromEntries(
  [ath79_21_02, ipq40xx_22_03, x86_64_23_05, mt7621_23_05, mt7621_24_10, filogic_25_12, mt7621_unstable_hw].map((p) => [p.id, p]),
);

export function getProfile(id: string): Profile {
  const profile = PROFILES[id];
  if (!profile) throw new Error(`unknown router profile "${id}"; valid profiles: ${Object.keys(PROFILES).join(", ")}`);
  return profile;
}
