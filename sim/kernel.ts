import type { RouterFs } from "./fs";
import { NftKernel } from "./tools/nft/kernel";
import { installedPackageNames, modulesForPackages } from "./tools/packages";
import type { ConntrackEntry, KernelState, Profile } from "./types";

/** The router's kernel: RAM-only state that a reboot resets and the firmware rebuilds at boot. */
export class SimKernel implements KernelState {
  readonly hwTcOffload = new Map<string, boolean>();
  conntrack: ConntrackEntry[] = [];
  readonly modules = new Set<string>();
  readonly nft = new NftKernel();
  readonly iptables = new Map<string, string[]>();

  constructor(private readonly profile: Profile) {}

  /** Power-on state: drivers' default features, modules of the installed kmod packages, empty tables. */
  powerOn(fs: RouterFs): void {
    this.hwTcOffload.clear();
    for (const device of this.profile.devices) this.hwTcOffload.set(device.name, device.hwTcOffload === true);
    this.conntrack = [];
    this.modules.clear();
    for (const module of modulesForPackages(installedPackageNames(fs, this.profile))) this.modules.add(module);
    this.nft.reset();
    this.iptables.clear();
  }

  acceptsHwOffload(devices: string[]): boolean {
    if (devices.length === 0) return false;
    if (!this.profile.hwFlowEngine) return false;
    const capable = (d: string) => this.hwTcOffload.get(d) === true;
    // OpenWrt's pending "ignore EOPNOTSUPP on flowtable devices" patch lets a flowtable mix devices
    // with and without offload support; without it every device must support it.
    return this.profile.mixedOffloadPatch ? devices.some(capable) : devices.every(capable);
  }
}
