import * as fs from "fs";
import * as path from "path";
import type { BaseImage } from "./base-image";
import { RouterFs } from "./fs";
import { DEVICE_NODES } from "./namespace";
import { SHIM_PATH } from "./rpc";

const DIRECTORIES = [
  "bin",
  "sbin",
  "usr/bin",
  "usr/sbin",
  "usr/lib",
  "usr/share",
  "lib/sim",
  "etc/config",
  "etc/init.d",
  "etc/rc.d",
  "etc/nftables.d",
  "etc/dropbear",
  "etc/hotplug.d/iface",
  "overlay/upper",
  "root",
  "proc/net",
  "sys/class/net",
  "dev",
  "tmp",
];

/** Where applet links live; a link elsewhere is never taken for one. */
const APPLET_DIRS = ["bin", "sbin", "usr/bin", "usr/sbin"];

/**
 * Lays out an OpenWrt-like root: exactly the image's applets, linked at the paths `busybox
 * --list-full` gives, its scripted applets (lock, netmsg), the emulated programs at their OpenWrt
 * paths (links to the RPC shim), `/var -> tmp`, and the mount points for the busybox binary and
 * libraries. Idempotent: a second call on the same root only refreshes links, so `/etc` and the
 * overlay survive restarts of the simulator; applet links of an earlier, bigger busybox (a state
 * dir first booted with Debian's) are removed.
 */
export function layoutRoot(rootDir: string, image: BaseImage, programPaths: string[]): RouterFs {
  const rfs = new RouterFs(rootDir);
  for (const dir of DIRECTORIES) fs.mkdirSync(path.join(rootDir, dir), { recursive: true });
  fs.chmodSync(path.join(rootDir, "tmp"), 0o1777);
  touch(path.join(rootDir, image.mountPath));
  for (const dir of image.libraryDirs) fs.mkdirSync(path.join(rootDir, dir), { recursive: true });
  for (const node of DEVICE_NODES) touch(path.join(rootDir, "dev", node));
  if (!isSymlink(path.join(rootDir, "var"))) rfs.symlink("tmp", "/var");

  // An emulated program replaces the busybox applet of the same name (df, reboot).
  const emulated = new Set(programPaths.map((p) => path.basename(p)));
  const links = new Set(
    image.applets
      .map((applet) => `/${applet}`)
      .filter((link) => link !== "/bin/busybox" && link !== image.mountPath && !emulated.has(path.basename(link))),
  );
  removeStaleAppletLinks(rootDir, links);
  // Relative, as OpenWrt's own links are (/bin/sh -> busybox, /sbin/reboot -> ../bin/busybox).
  for (const link of links) rfs.symlink(path.relative(path.dirname(link), image.mountPath), link);
  for (const script of image.scripts) {
    rfs.remove(`/${script.path}`);
    rfs.writeAtomic(`/${script.path}`, script.content, 0o755);
  }
  for (const program of programPaths) rfs.symlink(SHIM_PATH, program);
  return rfs;
}

function removeStaleAppletLinks(rootDir: string, keep: Set<string>): void {
  for (const dir of APPLET_DIRS) {
    for (const name of fs.readdirSync(path.join(rootDir, dir))) {
      const link = `/${dir}/${name}`;
      if (keep.has(link) || !isSymlink(path.join(rootDir, link))) continue;
      if (path.basename(fs.readlinkSync(path.join(rootDir, link))) === "busybox") fs.rmSync(path.join(rootDir, link));
    }
  }
}

/** Removes what a reboot loses: everything in the RAM-backed /tmp (and so /var). */
export function wipeVolatile(rootDir: string): void {
  const tmp = path.join(rootDir, "tmp");
  for (const entry of fs.readdirSync(tmp)) fs.rmSync(path.join(tmp, entry), { recursive: true, force: true });
}

function touch(file: string): void {
  if (!fs.existsSync(file)) fs.writeFileSync(file, "");
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
