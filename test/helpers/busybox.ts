import { execFileSync } from "child_process";
import { baseImage } from "../../sim/base-image";

/**
 * The busybox the simulated routers run: OpenWrt's, built from source into `.cache/busybox/` (once per
 * cache, by test/global-setup.ts before any worker starts; see sim/busybox/). Tests that run a script
 * "the way the router does" use it and never a busybox from the host's PATH: a fresh machine has
 * none, and Debian's has applets and options a router lacks.
 */
export function routerBusybox(): string {
  return baseImage().busybox;
}

/** Runs a command line the way the router's sshd does: busybox `ash -c`, with `input` (default none) on stdin. */
export function routerAsh(command: string, input = ""): string {
  return execFileSync(routerBusybox(), ["ash", "-c", command], { encoding: "utf8", input });
}
