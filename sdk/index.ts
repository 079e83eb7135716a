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
export { OffloadFleet, type OffloadFleetArgs, type RouterSummary } from "./fleet";
export { loadInventory, parseInventory, type Inventory, type InventoryRouter } from "../provider/fleet/inventory";
export { decideMode, type Policy, type PolicyFacts, type Mode, type FleetSqmPolicy } from "../provider/fleet/policy";
export type { WavePlan } from "../provider/fleet/waves";
export type { HealthCheck } from "../provider/guard";
