import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { debianSources } from "./debian-sources";
import { onPath } from "./host-tools";

/** One file apt would download, as `--print-uris` names it. */
export interface AptArtefact {
  file: string;
  sha256: string;
}

/**
 * apt with a configuration of its own under the cache dir: its own sources (the system's Debian
 * archives, with deb-src), package lists and download cache. The system's apt state is only read
 * (keyrings, apt.conf for proxies), never written, so any user can run it.
 */
export class PrivateApt {
  private readonly dir: string;
  private updated = false;

  constructor(cacheDir: string) {
    this.dir = path.join(cacheDir, "apt");
  }

  /**
   * The files `apt-get ARGS --print-uris` would fetch. The answer is kept with the lists it came
   * from, so a warm cache needs neither apt nor the network; remove the cache's apt/ to pick up a
   * newer Debian upload.
   */
  resolve(name: string, args: string[], offline: boolean): AptArtefact[] | undefined {
    const record = path.join(this.dir, "resolved", name);
    if (!fs.existsSync(record)) {
      if (offline) return undefined;
      this.update();
      const out = this.run(["--print-uris", ...args]);
      const lines = out.split("\n").filter((l) => l.startsWith("'"));
      if (lines.length === 0) throw new Error(`apt-get --print-uris ${args.join(" ")} names no file:\n${out}`);
      fs.mkdirSync(path.dirname(record), { recursive: true });
      fs.writeFileSync(record, `${lines.join("\n")}\n`);
    }
    return fs
      .readFileSync(record, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [, file, , checksum] = line.split(" ");
        return { file, sha256: checksum.replace(/^SHA256:/, "") };
      });
  }

  /**
   * Runs `apt-get ARGS` (source --download-only, download) with `intoDir` as the download
   * directory, from the lists `resolve` used, so that it fetches what was resolved.
   */
  fetch(args: string[], intoDir: string): void {
    if (!this.hasLists()) this.update();
    fs.mkdirSync(intoDir, { recursive: true });
    this.run(args, intoDir);
  }

  private hasLists(): boolean {
    try {
      return fs.readdirSync(path.join(this.dir, "lists")).some((f) => /_(Sources|Packages)$/.test(f));
    } catch {
      return false;
    }
  }

  private update(): void {
    if (this.updated) return;
    if (!onPath("apt-get")) {
      throw new Error(
        "the simulated routers' busybox is fetched from Debian's archive with apt-get, which this system lacks. " +
          "Run on a Debian-based system, or set OPENWRT_SIM_BUSYBOX to a busybox binary (see sim/busybox/openwrt.config).",
      );
    }
    for (const sub of ["lists/partial", "cache/archives/partial", "sources.list.d"]) fs.mkdirSync(path.join(this.dir, sub), { recursive: true });
    fs.writeFileSync(path.join(this.dir, "sources.list.d", "debian.sources"), debianSources());
    this.run(["update"]);
    this.updated = true;
  }

  private run(args: string[], cwd = this.dir): string {
    const options = [
      `Dir::Etc::SourceList=/dev/null`,
      `Dir::Etc::SourceParts=${path.join(this.dir, "sources.list.d")}`,
      `Dir::State::Lists=${path.join(this.dir, "lists")}`,
      `Dir::Cache=${path.join(this.dir, "cache")}`,
    ].flatMap((o) => ["-o", o]);
    try {
      return execFileSync("apt-get", ["-q", ...options, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      const detail = `${e.stdout ?? ""}${e.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n") || e.message;
      throw new Error(
        `apt-get ${args.join(" ")} failed (private apt configuration in ${this.dir}):\n${detail}\n` +
          "The simulated routers' busybox comes from Debian's archive: make it reachable, or set OPENWRT_SIM_BUSYBOX to a busybox binary.",
      );
    }
  }
}
