import * as fs from "fs";
import * as path from "path";
import { parseConnectionOptions, type ConnectionOptions } from "../../provider/transport";
import type { SimulatedRouter } from "../../sim";

/** Connection options for a simulated router, host key pinned. */
export function optionsFor(router: SimulatedRouter, overrides: Record<string, unknown> = {}): ConnectionOptions {
  return parseConnectionOptions({
    host: router.host,
    port: router.port,
    user: router.username,
    privateKey: router.privateKey,
    hostKey: router.hostKeyFingerprint,
    connectTimeoutMs: 5000,
    execTimeoutMs: 20000,
    ...overrides,
  });
}

const WATCHED = ["etc/config", "tmp/.uci", "etc/nftables.d", "etc/init.d", "etc/rc.d", "etc/rc.local"];

/**
 * Every file a change could touch, by router path, so a test can say "exactly as it was". An empty
 * delta file in /tmp/.uci means "nothing staged" (uci revert and commit truncate rather than delete
 * it), so it counts as absent.
 */
export function snapshotFiles(router: SimulatedRouter): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = path.join(router.rootDir, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch {
      return;
    }
    if (st.isSymbolicLink()) files[`/${rel}`] = `-> ${fs.readlinkSync(abs)}`;
    else if (st.isDirectory()) for (const e of fs.readdirSync(abs).sort()) walk(path.join(rel, e));
    else if (!(rel.startsWith("tmp/.uci/") && st.size === 0)) files[`/${rel}`] = fs.readFileSync(abs, "utf8");
  };
  WATCHED.forEach(walk);
  return files;
}
