import type { AptArtefact } from "./apt";

/** One way to obtain the router's busybox; `provision` caches what it produces. */
export interface Recipe {
  /** Names the recipe in the cache key and in messages. */
  name: string;
  /** Data files (in sim/busybox/) whose content shapes the result: a change makes a new cache entry. */
  files: string[];
  /** Other inputs that shape the result (the applet list the links are filtered to). */
  key?: string;
  /** The Debian files it starts from, as apt resolves them; undefined when `offline` and not yet resolved. */
  upstream(offline: boolean): AptArtefact[] | undefined;
  /** Writes `busybox` and `busybox.links` (applet paths relative to /) into `dir`; returns what it did, for the log line. */
  produce(dir: string, upstream: AptArtefact[]): string;
}

/** "1.35.0-4+deb12u1" from "busybox_1.35.0-4+deb12u1.dsc", "1:1.35.0-4+deb12u1+b1" from "busybox_1%3a1.35.0-4+deb12u1+b1_amd64.deb". */
export function debianVersion(file: string): string {
  return decodeURIComponent(file.split("_")[1] ?? "?").replace(/\.dsc$/, "");
}
