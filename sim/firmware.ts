import { BOOT_INIT_SCRIPT, DONE_INIT_SCRIPT, RC_COMMON, RC_LOCAL } from "./init-scripts";
import { FIREWALL_INIT_SCRIPT } from "./tools/fw4";
import { installProfilePackages, releaseFiles } from "./tools/packages";
import type { RouterHandle } from "./types";

/**
 * What a fresh sysupgrade leaves on flash: base files, the default uci configs of the profile,
 * the package database, init scripts enabled in START order, and the authorized SSH key.
 */
export function installFirmware(router: RouterHandle & { readonly identityPublicKey: string }): void {
  const { fs, profile } = router;
  fs.writeAtomic("/etc/passwd", "root:x:0:0:root:/root:/bin/ash\ndaemon:*:1:1:daemon:/var:/bin/false\nnobody:*:65534:65534:nobody:/var:/bin/false\n");
  fs.writeAtomic("/etc/group", "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n");
  fs.writeAtomic("/etc/shells", "/bin/ash\n");
  fs.writeAtomic("/etc/hostname", `${profile.board.hostname}\n`);
  for (const [file, content] of Object.entries(releaseFiles(profile))) fs.writeAtomic(file, content);

  fs.writeAtomic("/etc/config/network", profile.networkConfig);
  fs.writeAtomic("/etc/config/firewall", profile.firewallConfig);
  if (profile.sqmConfig) fs.writeAtomic("/etc/config/sqm", profile.sqmConfig);
  fs.writeAtomic("/etc/dropbear/authorized_keys", `${router.identityPublicKey}\n`, 0o600);

  fs.writeAtomic("/etc/rc.common", RC_COMMON, 0o755);
  fs.writeAtomic("/etc/rc.local", RC_LOCAL, 0o644);
  installInitScript(router, "boot", BOOT_INIT_SCRIPT, 10);
  installInitScript(router, "firewall", FIREWALL_INIT_SCRIPT, 19);
  installInitScript(router, "done", DONE_INIT_SCRIPT, 95);
  installProfilePackages(fs, profile);
}

function installInitScript(router: RouterHandle, name: string, script: string, start: number): void {
  router.fs.writeAtomic(`/etc/init.d/${name}`, script, 0o755);
  router.fs.symlink(`../init.d/${name}`, `/etc/rc.d/S${start}${name}`);
}
