import * as fs from "fs";
import * as path from "path";

const MAX_SYMLINK_HOPS = 40;

/**
 * File access inside one router's root, with chroot semantics: absolute paths and absolute
 * symlink targets resolve against the router's root, never the host's. The emulated tools run
 * in the simulator process (not inside the chroot), so every path they touch goes through here.
 */
export class RouterFs {
  constructor(readonly rootDir: string) {}

  /** Host path for a router path, following symlinks the way the router's kernel would. */
  resolve(routerPath: string, followLast = true): string {
    const parts = splitPath(routerPath);
    let resolved: string[] = [];
    let hops = 0;
    while (parts.length > 0) {
      const part = parts.shift()!;
      if (part === ".") continue;
      if (part === "..") {
        resolved.pop();
        continue;
      }
      const candidate = path.join(this.rootDir, ...resolved, part);
      const isLast = parts.length === 0;
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(candidate);
      } catch {
        st = undefined;
      }
      if (st?.isSymbolicLink() && (!isLast || followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) throw Object.assign(new Error(`ELOOP: ${routerPath}`), { code: "ELOOP" });
        const target = fs.readlinkSync(candidate);
        if (target.startsWith("/")) resolved = [];
        parts.unshift(...splitPath(target));
        continue;
      }
      resolved.push(part);
    }
    return path.join(this.rootDir, ...resolved);
  }

  exists(p: string): boolean {
    return fs.existsSync(this.resolve(p));
  }

  isDir(p: string): boolean {
    try {
      return fs.statSync(this.resolve(p)).isDirectory();
    } catch {
      return false;
    }
  }

  isExecutable(p: string): boolean {
    try {
      fs.accessSync(this.resolve(p), fs.constants.X_OK);
      return fs.statSync(this.resolve(p)).isFile();
    } catch {
      return false;
    }
  }

  readText(p: string): string {
    return fs.readFileSync(this.resolve(p), "utf8");
  }

  readBytes(p: string): Buffer {
    return fs.readFileSync(this.resolve(p));
  }

  /** undefined when the file does not exist. */
  tryReadText(p: string): string | undefined {
    try {
      return this.readText(p);
    } catch {
      return undefined;
    }
  }

  tryReadBytes(p: string): Buffer | undefined {
    try {
      return this.readBytes(p);
    } catch {
      return undefined;
    }
  }

  /** Writes through a temp file and rename, as uci does, so concurrent readers never see half a file. */
  writeAtomic(p: string, data: string | Buffer, mode?: number): void {
    const target = this.resolve(p);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.sim-${process.pid}-${Math.random().toString(36).slice(2)}`);
    fs.writeFileSync(tmp, data, mode === undefined ? undefined : { mode });
    fs.renameSync(tmp, target);
  }

  append(p: string, data: string | Buffer): void {
    const target = this.resolve(p);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.appendFileSync(target, data);
  }

  mkdirp(p: string, mode?: number): void {
    fs.mkdirSync(this.resolve(p), { recursive: true, mode });
  }

  /** Entries of a directory, sorted; [] when it does not exist. */
  list(p: string): string[] {
    try {
      return fs.readdirSync(this.resolve(p)).sort();
    } catch {
      return [];
    }
  }

  remove(p: string): void {
    fs.rmSync(this.resolve(p, false), { recursive: true, force: true });
  }

  rename(from: string, to: string): void {
    fs.renameSync(this.resolve(from, false), this.resolve(to, false));
  }

  symlink(target: string, p: string): void {
    const at = this.resolve(p, false);
    fs.mkdirSync(path.dirname(at), { recursive: true });
    fs.rmSync(at, { force: true });
    fs.symlinkSync(target, at);
  }

  chmod(p: string, mode: number): void {
    fs.chmodSync(this.resolve(p), mode);
  }

  /** Size in bytes of a file or, recursively, a directory (0 when absent). */
  sizeOf(p: string): number {
    return sizeOfHost(this.resolve(p, false));
  }
}

function sizeOfHost(hostPath: string): number {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(hostPath);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  return fs.readdirSync(hostPath).reduce((sum, name) => sum + sizeOfHost(path.join(hostPath, name)), 0);
}

function splitPath(p: string): string[] {
  return p.split("/").filter((s) => s.length > 0);
}
