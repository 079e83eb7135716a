import type { Profile } from "../types";
import { mt7621_23_05 } from "./mt7621-23.05";

/** The R6220 profile with a flow-engine driver that accepts hardware offload and then crashes under load. */
export const mt7621_unstable_hw: Profile = {
  ...mt7621_23_05,
  id: "mt7621-unstable-hw",
  summary: "Netgear R6220 (ramips/mt7621), OpenWrt 23.05.4, with a driver that reboots the router under hardware offload",
  crashesUnderHwOffload: true,
};
