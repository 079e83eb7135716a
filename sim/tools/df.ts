import type { Profile, RouterHandle, Tool } from "../types";
import { readInstalled } from "./packages";
import { buildEpoch, releaseMajor } from "./release";

/** Where the router keeps what it writes to flash; their bytes occupy the overlay. */
const FLASH_DIRS = ["/etc", "/root", "/usr/local", "/overlay"];

/** RAM-backed /tmp (half the board's RAM) by target. */
const TMPFS_KIB: Record<string, number> = {
  "ath79/generic": 29_600,
  "ipq40xx/mikrotik": 60_052,
  "x86/64": 248_164,
  "ramips/mt7621": 60_052,
  "mediatek/filogic": 118_116,
};

const BUSYBOX_VERSION: Record<number, string> = { 21: "1.33.2", 22: "1.35.0", 23: "1.36.1", 24: "1.36.1", 25: "1.37.0" };

export interface OverlayUsage {
  totalKiB: number;
  usedKiB: number;
  availKiB: number;
}

/**
 * The writable flash (the overlay; the root filesystem itself on ext4 images): the image's own
 * usage, plus packages installed since, plus every byte written under /etc, /root, /usr/local and
 * /overlay (configs, snapshots, guard state). A full-overlay fault leaves nothing available.
 */
export function overlayUsage(router: Pick<RouterHandle, "fs" | "profile" | "faults">): OverlayUsage {
  const { fs, profile } = router;
  const image = new Set(profile.packages.map((p) => p.name));
  const installedKiB = readInstalled(fs, profile)
    .filter((p) => !image.has(p.name))
    .reduce((sum, p) => sum + p.sizeKiB, 0);
  const writtenKiB = Math.ceil(FLASH_DIRS.reduce((sum, dir) => sum + fs.sizeOf(dir), 0) / 1024);
  const totalKiB = profile.overlay.totalKiB;
  const usedKiB = Math.min(totalKiB, profile.overlay.usedKiB + installedKiB + writtenKiB);
  return { totalKiB, usedKiB, availKiB: router.faults.overlayFull ? 0 : totalKiB - usedKiB };
}

interface Mount {
  device: string;
  mountpoint: string;
  type: string;
  totalKiB: number;
  usedKiB: number;
  availKiB: number;
}

/** /proc/mounts order, filesystems with blocks only (what df lists). */
function mountsOf(router: Pick<RouterHandle, "fs" | "profile" | "faults">): Mount[] {
  const { fs, profile } = router;
  const flash = overlayUsage(router);
  const tmpTotal = TMPFS_KIB[profile.release.target] ?? 60_052;
  const tmpUsed = Math.min(tmpTotal, Math.ceil(fs.sizeOf("/tmp") / 1024));
  const tmp = { device: "tmpfs", mountpoint: "/tmp", type: "tmpfs", totalKiB: tmpTotal, usedKiB: tmpUsed, availKiB: tmpTotal - tmpUsed };
  const dev = { device: "tmpfs", mountpoint: "/dev", type: "tmpfs", totalKiB: 512, usedKiB: 0, availKiB: 512 };
  if (profile.board.rootfsType === "ext4") {
    return [{ device: profile.overlay.device, mountpoint: "/", type: "ext4", ...flash }, tmp, dev];
  }
  const romKiB = Math.ceil((profile.packages.reduce((sum, p) => sum + p.sizeKiB, 0) * 0.45) / 256) * 256;
  const overlayType = profile.overlay.device.startsWith("/dev/ubi") ? "ubifs" : "jffs2";
  return [
    { device: "/dev/root", mountpoint: "/rom", type: "squashfs", totalKiB: romKiB, usedKiB: romKiB, availKiB: 0 },
    tmp,
    { device: profile.overlay.device, mountpoint: "/overlay", type: overlayType, ...flash },
    { device: "overlayfs:/overlay", mountpoint: "/", type: "overlay", ...flash },
    dev,
  ];
}

/** busybox df (OpenWrt's build: -P -k -m -h -T -t). */
export const dfTool: Tool = async (ctx) => {
  const opts = { posix: false, unit: 1024, human: false, fsType: false, only: undefined as string | undefined };
  const paths: string[] = [];
  const args = ctx.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("-") || arg === "-") {
      paths.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const flag = arg[j];
      if (flag === "P") opts.posix = true;
      else if (flag === "k") opts.unit = 1024;
      else if (flag === "m") opts.unit = 1024 * 1024;
      else if (flag === "h") opts.human = true;
      else if (flag === "T") opts.fsType = true;
      else if (flag === "t" && (arg.length > j + 1 || i + 1 < args.length)) {
        opts.only = arg.length > j + 1 ? arg.slice(j + 1) : args[++i];
        break;
      } else {
        ctx.stderr(flag === "t" ? "df: option requires an argument: t\n" : `df: unrecognized option: ${flag}\n`);
        ctx.stderr(usage(ctx.router.profile));
        return 1;
      }
    }
  }

  const unitsHeader = opts.human ? "     Size" : opts.posix ? `${opts.unit}-blocks` : `${opts.unit === 1024 ? "1K" : "1M"}-blocks`;
  let out = `Filesystem           ${opts.fsType ? "Type       " : ""}${unitsHeader.padEnd(15)}Used Available ${opts.posix ? "Capacity" : "Use%"} Mounted on\n`;
  const mounts = mountsOf(ctx.router);
  let status = 0;
  let selected: Mount[];
  if (paths.length === 0) {
    selected = mounts.filter((m) => opts.only === undefined || m.type === opts.only);
  } else {
    selected = [];
    for (const p of paths) {
      const absolute = p.startsWith("/") ? p : `${ctx.cwd.replace(/\/$/, "")}/${p}`;
      const mount = ctx.fs.exists(absolute) ? mountFor(mounts, absolute) : undefined;
      if (mount) selected.push(mount);
      else {
        ctx.stderr(`df: ${p}: can't find mount point\n`);
        status = 1;
      }
    }
  }
  for (const m of selected) {
    const size = (kib: number) => (opts.human ? human(kib) : String(Math.floor((kib * 1024 + opts.unit / 2) / opts.unit)));
    const denominator = m.usedKiB + m.availKiB;
    const percent = denominator === 0 ? 0 : Math.floor((m.usedKiB * 100 + Math.floor(denominator / 2)) / denominator);
    let row = m.device.padEnd(20);
    if (m.device.length > 20 && !opts.posix) row += `\n${"".padEnd(20)}`;
    if (opts.fsType) row += ` ${m.type.padEnd(10)}`;
    row += ` ${size(m.totalKiB).padStart(9)} ${size(m.usedKiB).padStart(9)} ${size(m.availKiB).padStart(9)} ${String(percent).padStart(3)}% ${m.mountpoint}\n`;
    out += row;
  }
  ctx.stdout(out);
  return status;
};

/** The mount a path lives on: the longest mount point that contains it. */
function mountFor(mounts: Mount[], absolute: string): Mount | undefined {
  const normalized = absolute.replace(/\/+/g, "/").replace(/(.)\/$/, "$1");
  return mounts
    .filter((m) => m.mountpoint === "/" || normalized === m.mountpoint || normalized.startsWith(`${m.mountpoint}/`))
    .sort((a, b) => b.mountpoint.length - a.mountpoint.length)[0];
}

/** busybox make_human_readable_str with a 1 KiB block size: one decimal and a unit letter. */
function human(kib: number): string {
  if (kib === 0) return "0";
  let value = kib * 1024;
  let frac = 0;
  let unit = 0;
  while (value >= 1024) {
    frac = Math.floor(((value % 1024) * 10 + 512) / 1024);
    value = Math.floor(value / 1024);
    unit++;
  }
  if (frac >= 10) {
    value++;
    frac = 0;
  }
  return unit === 0 ? String(value) : `${value}.${frac}${"KMGTPE"[unit - 1]}`;
}

function usage(profile: Profile): string {
  const built = new Date(buildEpoch(profile) * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  return (
    `BusyBox v${BUSYBOX_VERSION[releaseMajor(profile)]} (${built}) multi-call binary.\n\n` +
    "Usage: df [-PkmhT] [-t TYPE] [FILESYSTEM]...\n\n" +
    "Print filesystem usage statistics\n\n" +
    "\t-P\tPOSIX output format\n" +
    "\t-k\t1024-byte blocks (default)\n" +
    "\t-m\t1M-byte blocks\n" +
    "\t-h\tHuman readable (e.g. 1K 243M 2G)\n" +
    "\t-T\tPrint filesystem type\n" +
    "\t-t TYPE\tPrint only mounts of this type\n"
  );
}
