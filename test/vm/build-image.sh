#!/usr/bin/env bash
# Builds the router VM for the real-kernel tests (test/vm/real-kernel.test.ts) from Debian packages only:
# the cloud kernel and busybox-static are unpacked from their .debs (never installed on this host, so no
# /boot or initramfs side effects), nft, ip, kmod, dash, dropbear and iperf3 are the host's own binaries
# with their libraries. Everything lands in .cache/router-vm/ (git-ignored).
#
#   build-image.sh fetch   download the two .debs (needs apt's package lists; .ci/run runs apt-get update)
#   build-image.sh build   assemble vmlinux + initramfs + keys from the cached .debs; no network
#   build-image.sh         both
#
# A build whose inputs (this script, the .debs, the host packages) did not change is skipped.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=$ROOT/.cache/router-vm
DEBS=$CACHE/debs
OUT=$CACHE/out
# Host binaries that go into the guest at the same paths, and their packages (whose versions are part of the
# cache key).
HOST_BINARIES=(/usr/bin/dash /usr/sbin/nft /usr/bin/ip /usr/bin/kmod /usr/sbin/dropbear /usr/bin/iperf3)
HOST_PACKAGES=(dash nftables iproute2 kmod dropbear-bin iperf3 libc6)

log() { printf 'router-vm: %s\n' "$*" >&2; }

kernel_package() {
  apt-cache depends --no-recommends --no-suggests linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

fetch() {
  mkdir -p "$DEBS"
  local kpkg
  kpkg=$(kernel_package)
  [ -n "$kpkg" ] || { log "apt knows no linux-image-cloud-amd64 (run apt-get update)"; exit 1; }
  local missing=() current=() pkg version file deb
  for pkg in "$kpkg" busybox-static; do
    version=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2 }')
    # apt-get download names files with the epoch's colon escaped as %3a.
    file=$(compgen -G "$DEBS/${pkg}_${version/:/%3a}_*.deb" || true)
    if [ -n "$file" ]; then current+=("$file"); else missing+=("$pkg"); fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "downloading ${missing[*]}"
    # Root downloads directly: the _apt sandbox user cannot write into the cache folder.
    (cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root "${missing[@]}")
    for pkg in "${missing[@]}"; do current+=("$(compgen -G "$DEBS/${pkg}_*.deb" | xargs ls -t | head -1)"); done
  fi
  # Older versions (a kernel with a new ABI has a new package name) would leave the build two to choose from.
  for deb in "$DEBS"/*.deb; do
    [[ " ${current[*]} " == *" $deb "* ]] || rm -f "$deb"
  done
}

one_deb() {
  local matches=("$DEBS"/$1_*.deb)
  [ ${#matches[@]} -eq 1 ] && [ -f "${matches[0]}" ] || { log "expected one $1 .deb in $DEBS (run: $0 fetch)"; exit 1; }
  printf '%s\n' "${matches[0]}"
}

# Copies a host binary and every library ldd names into the image, keeping their paths.
copy_with_libs() {
  local bin=$1 lib
  [ "$(head -c 4 "$bin" | od -An -c | tr -d ' ')" = '177ELF' ] || { log "$bin is not an ELF binary"; exit 1; }
  install -D -m 0755 "$bin" "$IMG$bin"
  for lib in $(ldd "$bin" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
    [ -e "$IMG$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$IMG$lib"
  done
}

build() {
  local kdeb bbdeb stamp
  kdeb=$(one_deb 'linux-image-*-cloud-amd64')
  bbdeb=$(one_deb busybox-static)
  stamp=$({
    sha256sum "$0"
    basename "$kdeb"
    basename "$bbdeb"
    dpkg-query -W "${HOST_PACKAGES[@]}"
  } | sha256sum | cut -d' ' -f1)
  if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ]; then
    log "image up to date in $OUT"
    return
  fi
  local work=$CACHE/work
  rm -rf "$work" "$OUT"
  mkdir -p "$work" "$OUT"
  IMG=$work/root

  dpkg-deb -x "$kdeb" "$work/kernel"
  dpkg-deb -x "$bbdeb" "$work/busybox"
  local kver
  kver=$(basename "$(ls -d "$work"/kernel/lib/modules/*)")

  # QEMU boots the uncompressed ELF through its PVH note, skipping the decompressor (about 1 s under TCG).
  # The bzImage carries it as an LZ4 legacy frame; lz4 stops at the trailing data with an error, so the
  # result is checked by its ELF magic instead of lz4's status.
  local bz=$work/kernel/boot/vmlinuz-$kver offset
  offset=$(grep -obUaP '\x02\x21\x4c\x18' "$bz" | head -1 | cut -d: -f1)
  tail -c +$((offset + 1)) "$bz" | lz4 -dc >"$OUT/vmlinux" 2>/dev/null || true
  [ "$(head -c 4 "$OUT/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] || { log "no vmlinux found in $bz"; exit 1; }

  # usr-merged layout, as on the host, so ldd's library paths are valid inside the image.
  mkdir -p "$IMG"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc,proc,sys,dev,run,tmp,root/.ssh,var}
  ln -s usr/bin "$IMG/bin"
  ln -s usr/sbin "$IMG/sbin"
  ln -s usr/lib "$IMG/lib"
  ln -s usr/lib64 "$IMG/lib64"
  ln -s ../run "$IMG/var/run"
  chmod 1777 "$IMG/tmp"
  chmod 0700 "$IMG/root" "$IMG/root/.ssh"

  install -m 0755 "$work/busybox/bin/busybox" "$IMG/usr/bin/busybox"
  local bin
  for bin in "${HOST_BINARIES[@]}"; do copy_with_libs "$bin"; done
  # /bin/sh is dash: Debian's busybox ash runs its own `ip` applet before any ip in PATH, and busybox ip
  # knows neither netns nor veth.
  ln -s dash "$IMG/usr/bin/sh"
  local tool
  for tool in modprobe lsmod insmod rmmod modinfo depmod; do ln -s ../bin/kmod "$IMG/usr/sbin/$tool"; done
  local applet
  for applet in $("$IMG/usr/bin/busybox" --list); do
    [ -e "$IMG/usr/bin/$applet" ] || [ -e "$IMG/usr/sbin/$applet" ] || ln -s busybox "$IMG/usr/bin/$applet"
  done
  ln -s usr/bin/busybox "$IMG/init"
  cp /etc/protocols /etc/services "$IMG/etc/"

  # All of netfilter (so nft's module autoload finds whatever a ruleset uses), bridge, veth and dummy for
  # the test topologies, virtio for the management NIC, and what those depend on.
  local kroot=$work/kernel/lib/modules/$kver/kernel wanted
  depmod -b "$work/kernel" "$kver"
  wanted=$(cd "$kroot" && find net/netfilter net/ipv4/netfilter net/ipv6/netfilter net/bridge -name '*.ko' -printf '%f\n' | sed 's/\.ko$//'
    printf '%s\n' veth dummy virtio_net virtio_pci)
  # shellcheck disable=SC2086 # one module name per word
  modprobe -d "$work/kernel" -S "$kver" -a --show-depends $wanted | awk '$1 == "insmod" { print $2 }' | sort -u | while read -r ko; do
    install -D -m 0644 "$ko" "$IMG/lib/modules/$kver/${ko#"$work/kernel/lib/modules/$kver/"}"
  done
  cp "$work/kernel/lib/modules/$kver"/modules.{builtin,builtin.modinfo,order} "$IMG/lib/modules/$kver/"
  depmod -b "$IMG" "$kver"

  # Keys made per build: the tests pin the host key and log in with the client key.
  mkdir -p "$IMG/etc/dropbear"
  dropbearkey -t ed25519 -f "$IMG/etc/dropbear/dropbear_ed25519_host_key" >/dev/null 2>&1
  dropbearkey -y -f "$IMG/etc/dropbear/dropbear_ed25519_host_key" | awk '/^ssh-ed25519 / { print $1, $2 }' >"$OUT/host_key.pub"
  dropbearkey -t ed25519 -f "$work/client.dropbear" >/dev/null 2>&1
  dropbearconvert dropbear openssh "$work/client.dropbear" "$OUT/id_ed25519" >/dev/null 2>&1
  dropbearkey -y -f "$work/client.dropbear" | awk '/^ssh-ed25519 / { print $1, $2, "router-vm-tests" }' >"$IMG/root/.ssh/authorized_keys"
  chmod 0600 "$OUT/id_ed25519" "$IMG/root/.ssh/authorized_keys"

  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$IMG/etc/passwd"
  printf 'root:x:0:\n' >"$IMG/etc/group"
  printf 'router-vm\n' >"$IMG/etc/hostname"
  cat >"$IMG/etc/inittab" <<'EOF'
::sysinit:/etc/rc.sysinit
::respawn:/usr/sbin/dropbear -F -E -s -p 22 -r /etc/dropbear/dropbear_ed25519_host_key
EOF
  cat >"$IMG/etc/rc.sysinit" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
hostname -F /etc/hostname
# Without udev nothing loads the NIC driver.
modprobe virtio_pci
modprobe virtio_net
ip link set lo up
# QEMU's user network (restrict=on) only carries the forwarded SSH port: no gateway, no default route.
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
EOF
  chmod 0755 "$IMG/etc/rc.sysinit"

  (cd "$IMG" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | lz4 -l -q -c >"$OUT/initramfs.cpio.lz4"
  printf '%s\n' "$kver" >"$OUT/kernel-release"
  rm -rf "$work"
  printf '%s\n' "$stamp" >"$OUT/stamp"
  log "built $OUT ($(du -sh "$OUT" | cut -f1), kernel $kver)"
}

case ${1:-all} in
  fetch) fetch ;;
  build) build ;;
  all) fetch && build ;;
  *) log "usage: $0 [fetch|build|all]"; exit 2 ;;
esac
