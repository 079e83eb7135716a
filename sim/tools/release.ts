import type { Profile } from "../types";

/**
 * SOURCE_DATE_EPOCH of each release build the profiles use: the image's build date
 * (OPENWRT_BUILD_DATE from 24.10 on) and the Installed-Time of the packages baked into it.
 */
export const RELEASE_BUILD_EPOCH: Record<string, number> = {
  "21.02.7": 1681338523,
  "22.03.5": 1682282036,
  "23.05.4": 1719306185,
  "24.10.0": 1738624177,
  "25.12.0": 1768474921,
};

export function releaseMajor(profile: Profile): number {
  return Number(profile.release.version.split(".")[0]);
}

export function buildEpoch(profile: Profile): number {
  const epoch = RELEASE_BUILD_EPOCH[profile.release.version];
  if (epoch === undefined) throw new Error(`no build date known for OpenWrt ${profile.release.version}`);
  return epoch;
}

/** /etc/openwrt_release, /etc/openwrt_version and /usr/lib/os-release as base-files writes them. */
export function releaseFiles(profile: Profile): Record<string, string> {
  const { distribution, version, revision, target, arch } = profile.release;
  const description = `${distribution} ${version} ${revision}`;
  const openwrtRelease = [
    `DISTRIB_ID='${distribution}'`,
    `DISTRIB_RELEASE='${version}'`,
    `DISTRIB_REVISION='${revision}'`,
    `DISTRIB_TARGET='${target}'`,
    `DISTRIB_ARCH='${arch}'`,
    `DISTRIB_DESCRIPTION='${description}'`,
    "DISTRIB_TAINTS=''",
  ];
  const osRelease = [
    `NAME="${distribution}"`,
    `VERSION="${version}"`,
    'ID="openwrt"',
    'ID_LIKE="lede openwrt"',
    `PRETTY_NAME="${distribution} ${version}"`,
    `VERSION_ID="${version}"`,
    'HOME_URL="https://openwrt.org/"',
    'BUG_URL="https://bugs.openwrt.org/"',
    'SUPPORT_URL="https://forum.openwrt.org/"',
    `BUILD_ID="${revision}"`,
    `OPENWRT_BOARD="${target}"`,
    `OPENWRT_ARCH="${arch}"`,
    'OPENWRT_TAINTS=""',
    'OPENWRT_DEVICE_MANUFACTURER="OpenWrt"',
    'OPENWRT_DEVICE_MANUFACTURER_URL="https://openwrt.org/"',
    'OPENWRT_DEVICE_PRODUCT="Generic"',
    'OPENWRT_DEVICE_REVISION="v0"',
    `OPENWRT_RELEASE="${description}"`,
  ];
  if (releaseMajor(profile) >= 24) osRelease.push(`OPENWRT_BUILD_DATE="${buildEpoch(profile)}"`);
  if (releaseMajor(profile) >= 25) osRelease.push('FIRMWARE_URL="https://downloads.openwrt.org/"');
  return {
    "/etc/openwrt_release": `${openwrtRelease.join("\n")}\n`,
    "/etc/openwrt_version": `${revision}\n`,
    "/usr/lib/os-release": `${osRelease.join("\n")}\n`,
  };
}
