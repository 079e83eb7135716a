export { Router, type RouterArgs } from "./router";
export {
  FirewallDefaults,
  Flowtable,
  OffloadPackages,
  DeviceOffload,
  type FirewallDefaultsArgs,
  type FlowtableArgs,
  type OffloadPackagesArgs,
  type DeviceOffloadArgs,
} from "./resources";
export type { RouterConnection, RouterRef, Drift, Inputs } from "./types";
export * as schemas from "./schemas";
