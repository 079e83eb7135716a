import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import type { Mode } from "../provider/fleet/policy";
import type { SimulatedRouter } from "../sim";

export interface SimInventoryEntry {
  name: string;
  router: SimulatedRouter;
  mode?: Mode;
}

/**
 * An inventory of simulated routers that `audit` and `drift` take as it is: host keys pinned, each
 * router's login key in a file of its own (keys/NAME beside the inventory, readable only by its
 * owner) rather than inline, as an operator's inventory would hold it.
 */
export function writeSimInventory(file: string, entries: SimInventoryEntry[], comment: string): void {
  const keys = path.join(path.dirname(file), "keys");
  fs.mkdirSync(keys, { recursive: true, mode: 0o700 });
  const routers = entries.map(({ name, router, mode }) => {
    fs.writeFileSync(path.join(keys, name), router.privateKey, { mode: 0o600 });
    return {
      name,
      host: router.host,
      port: router.port,
      hostKey: router.hostKeyFingerprint,
      identityFile: `keys/${name}`,
      labels: { profile: router.profile.id },
      ...(mode ? { mode } : {}),
    };
  });
  fs.writeFileSync(file, `# ${comment}\n${stringify({ defaults: { user: "root" }, routers })}`);
}
