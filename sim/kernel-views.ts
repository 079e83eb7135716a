import { renderConntrack } from "./tools/conntrack";
import type { RouterHandle } from "./types";

/**
 * Writes the kernel's state where router scripts read it: /proc/net/nf_conntrack, /sys/class/net
 * (with lower_* links for bridge ports, as fw4 resolves them) and /sys/module for loaded modules.
 * /proc and /sys are plain directories the simulator owns, not the host's.
 */
export function syncKernelViews(router: RouterHandle): void {
  const { fs, kernel } = router;
  const wan = router.netifd.interfaces().find((i) => i.interface === "wan");
  fs.writeAtomic("/proc/net/nf_conntrack", renderConntrack(kernel.conntrack, { masqueradeAddress: wan?.ipv4[0]?.address }));
  fs.remove("/sys/class/net");
  fs.mkdirp("/sys/class/net");
  for (const device of router.netifd.devices()) {
    fs.mkdirp(`/sys/class/net/${device.name}`);
    fs.writeAtomic(`/sys/class/net/${device.name}/address`, `${device.macaddr}\n`);
    for (const lower of device.lower ?? []) fs.symlink(`../${lower}`, `/sys/class/net/${device.name}/lower_${lower}`);
  }
  fs.remove("/sys/module");
  for (const module of kernel.modules) fs.mkdirp(`/sys/module/${module}`);
}
