import { renderConntrack } from "./tools/conntrack";
import type { RouterHandle } from "./types";

/**
 * Writes the kernel's state where router scripts read it: /proc/net/nf_conntrack, the kernel's
 * release in /proc/sys/kernel/osrelease, /sys/class/net (with lower_* links for bridge ports, as
 * fw4 resolves them) and /sys/module for loaded modules.
 * /proc and /sys are plain directories the simulator owns, not the host's. Each view is rewritten
 * only when it changed, so syncing after every emulated program stays cheap.
 */
export class KernelViews {
  private written = { conntrack: "", devices: "", modules: "" };

  constructor(private readonly router: RouterHandle) {}

  /** Forget what was written (a reboot wipes nothing here, but the kernel state starts over). */
  invalidate(): void {
    this.written = { conntrack: "", devices: "", modules: "" };
  }

  sync(): void {
    const { fs, kernel, netifd } = this.router;
    if (!fs.exists("/proc/sys/kernel/osrelease")) fs.writeAtomic("/proc/sys/kernel/osrelease", `${this.router.profile.kernel}\n`);
    const wan = netifd.interfaces().find((i) => i.interface === "wan");
    const conntrack = renderConntrack(kernel.conntrack, { masqueradeAddress: wan?.ipv4[0]?.address });
    if (conntrack !== this.written.conntrack || !fs.exists("/proc/net/nf_conntrack")) {
      fs.writeAtomic("/proc/net/nf_conntrack", conntrack);
      this.written.conntrack = conntrack;
    }
    const devices = netifd.devices();
    const deviceKey = JSON.stringify(devices.map((d) => [d.name, d.macaddr, d.lower ?? []]));
    if (deviceKey !== this.written.devices) {
      fs.remove("/sys/class/net");
      fs.mkdirp("/sys/class/net");
      for (const device of devices) {
        fs.mkdirp(`/sys/class/net/${device.name}`);
        fs.writeAtomic(`/sys/class/net/${device.name}/address`, `${device.macaddr}\n`);
        for (const lower of device.lower ?? []) fs.symlink(`../${lower}`, `/sys/class/net/${device.name}/lower_${lower}`);
      }
      this.written.devices = deviceKey;
    }
    const modules = [...kernel.modules].sort();
    if (modules.join(" ") !== this.written.modules) {
      fs.remove("/sys/module");
      fs.mkdirp("/sys/module");
      for (const module of modules) fs.mkdirp(`/sys/module/${module}`);
      this.written.modules = modules.join(" ");
    }
  }
}
