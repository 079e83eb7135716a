import { deviceOffloadProvider } from "./device-offload";
import { firewallDefaultsProvider } from "./firewall-defaults";
import { flowtableProvider } from "./flowtable";
import { offloadPackagesProvider } from "./offload-packages";
import { routerProvider } from "./router";
import { fleetVerdictProvider, waveGateProvider } from "./wave-gate";

/**
 * Every resource's implementation, by the kind the SDK's thin shim names. The shim stored in Pulumi
 * state calls `require("pulumi-openwrt-offload/provider").providers[kind]`, so refresh and destroy
 * always run the installed code.
 */
export const providers = {
  router: routerProvider,
  firewallDefaults: firewallDefaultsProvider,
  flowtable: flowtableProvider,
  offloadPackages: offloadPackagesProvider,
  deviceOffload: deviceOffloadProvider,
  waveGate: waveGateProvider,
  fleetVerdict: fleetVerdictProvider,
};

export type ResourceKind = keyof typeof providers;
