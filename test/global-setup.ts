import { prepareBaseImage } from "../sim/base-image";
import { ensureNodeLts, ensurePulumiCli, pulumiCliAvailability } from "../tools/pulumi/index.cjs";

/**
 * Once, before workers race to do it: builds (or finds in the cache) the routers' busybox, and, where a Pulumi CLI can
 * be had, the CLI (a cold build takes minutes; the demo test's timeout would not cover waiting for it) and the
 * Node.js 24 LTS the real-CLI tests also run on.
 */
export default async function globalSetup(): Promise<void> {
  prepareBaseImage();
  if (pulumiCliAvailability().ok) {
    const log = (line: string) => process.stderr.write(`${line}\n`);
    await ensurePulumiCli({ log });
    ensureNodeLts({ log });
  }
}
