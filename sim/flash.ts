import * as fs from "fs";
import * as path from "path";

/**
 * What a power cut keeps of the router's flash. Real flash (ubifs/jffs2 overlays, ext4) is written
 * lazily: a change reaches the medium when something syncs it, so a crash loses whatever was written
 * since. The simulator keeps a second tree, the durable image, that only `sync` (and `fsync` of one
 * file) brings up to date; a crash puts the router's root back to it.
 *
 * The model is the harsh end of what a real router does: nothing is written back in the background
 * (Linux would flush dirty pages after ~30 s), and `uci commit`'s fsync covers its temp file but not
 * the rename over the config (uci never syncs the directory), so only the orphaned temp file survives.
 */
export type PowerLoss = "unsynced" | "some-unsynced";

/** Paths under the root that are not flash: RAM (tmp), kernel views, device nodes, simulator plumbing, mount points. */
const VOLATILE = new Set(["tmp", "var", "proc", "sys", "dev", "lib/sim", "bin/busybox"]);

type Entry = { kind: "file"; data: Buffer; mode: number } | { kind: "link"; target: string } | { kind: "dir" };

export class Flash {
  private readonly volatile: Set<string>;

  constructor(
    private readonly rootDir: string,
    private readonly durableDir: string,
    mountPoints: string[] = [],
  ) {
    this.volatile = new Set([...VOLATILE, ...mountPoints.map((m) => m.replace(/^\/+/, ""))]);
  }

  /** A durable image exists (this state dir has been powered before). */
  get initialized(): boolean {
    return fs.existsSync(this.durableDir);
  }

  /** `sync`: every change so far is on flash. */
  sync(): void {
    fs.mkdirSync(this.durableDir, { recursive: true });
    this.mirror(this.rootDir, this.durableDir, "", () => true);
  }

  /** `fsync FILE`: that file's content and name are on flash; nothing else is. */
  fsync(routerPath: string): void {
    const rel = this.relative(routerPath);
    if (rel === undefined) return;
    const entry = read(path.join(this.rootDir, rel));
    if (!entry || entry.kind === "dir") return;
    fs.mkdirSync(path.dirname(path.join(this.durableDir, rel)), { recursive: true });
    write(path.join(this.durableDir, rel), entry);
  }

  /** Content that was fsynced under another name than the one it now has (a temp file renamed without a directory sync). */
  persistAs(routerPath: string, data: string | Buffer): void {
    const rel = this.relative(routerPath);
    if (rel === undefined) return;
    const target = path.join(this.durableDir, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    write(target, { kind: "file", data: Buffer.from(data), mode: 0o644 });
  }

  /**
   * Power is lost: the root goes back to the durable image. "some-unsynced" keeps each unsynced
   * change or loses it independently (`random` decides), as a journal that committed part of its
   * work would; "unsynced" loses them all.
   */
  powerLoss(mode: PowerLoss, random: () => number = Math.random): void {
    if (!this.initialized) return;
    const keepsRam = mode === "unsynced" ? () => false : () => random() < 0.5;
    this.mirror(this.durableDir, this.rootDir, "", () => !keepsRam());
  }

  private relative(routerPath: string): string | undefined {
    const rel = path.posix.normalize(routerPath).replace(/^\/+/, "");
    return this.isVolatile(rel) ? undefined : rel;
  }

  private isVolatile(rel: string): boolean {
    for (let p = rel; p && p !== "."; p = path.posix.dirname(p)) if (this.volatile.has(p)) return true;
    return false;
  }

  /** Makes `to` equal `from` under `rel`, for the entries `apply` accepts (both sides walked once). */
  private mirror(from: string, to: string, rel: string, apply: (rel: string) => boolean): void {
    const names = new Set([...list(path.join(from, rel)), ...list(path.join(to, rel))]);
    for (const name of [...names].sort()) {
      const child = rel ? `${rel}/${name}` : name;
      if (this.isVolatile(child)) continue;
      const src = read(path.join(from, child));
      const dst = read(path.join(to, child));
      if (src?.kind === "dir" && dst?.kind === "dir") {
        this.mirror(from, to, child, apply);
        continue;
      }
      if (same(src, dst) || !apply(child)) continue;
      fs.rmSync(path.join(to, child), { recursive: true, force: true });
      if (!src) continue;
      if (src.kind === "dir") {
        fs.mkdirSync(path.join(to, child));
        this.mirror(from, to, child, () => true);
      } else {
        write(path.join(to, child), src);
      }
    }
  }
}

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function read(p: string): Entry | undefined {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return undefined;
  }
  if (st.isSymbolicLink()) return { kind: "link", target: fs.readlinkSync(p) };
  if (st.isDirectory()) return { kind: "dir" };
  // FIFOs and sockets are not flash content.
  if (!st.isFile()) return undefined;
  return { kind: "file", data: fs.readFileSync(p), mode: st.mode & 0o7777 };
}

function write(p: string, entry: Entry): void {
  fs.rmSync(p, { recursive: true, force: true });
  if (entry.kind === "link") fs.symlinkSync(entry.target, p);
  else if (entry.kind === "dir") fs.mkdirSync(p, { recursive: true });
  else {
    fs.writeFileSync(p, entry.data);
    fs.chmodSync(p, entry.mode);
  }
}

function same(a: Entry | undefined, b: Entry | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.kind !== b.kind) return false;
  if (a.kind === "link") return a.target === (b as typeof a).target;
  if (a.kind === "file") return a.mode === (b as typeof a).mode && a.data.equals((b as typeof a).data);
  return true;
}
