#!/bin/sh
# Builds busybox with exactly the settings of a settings file (openwrt.config) from an upstream
# source tarball. Every setting not listed stays off: the .config starts from allnoconfig.
#
#   build.sh SOURCE_TARBALL SETTINGS OUT_DIR
#
# OUT_DIR gets busybox, busybox.links (applet paths, one a line) and config (the .config used).
# The caller hashes this script into the cache key, so any change here rebuilds.
set -eu

tarball=$1
settings=$2
mkdir -p "$3"
out=$(cd "$3" && pwd)
work="$out/src"

rm -rf "$work"
mkdir -p "$work"
# GNU tar needs the bzip2 program for Debian's .orig.tar.bz2, which a fresh machine may lack; python3's
# tarfile reads it on its own.
if command -v bzip2 >/dev/null 2>&1; then
	tar -xf "$tarball" -C "$work" --strip-components=1
else
	python3 - "$tarball" "$work" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as tar:
    members = []
    for m in tar.getmembers():
        parts = m.name.split("/", 1)
        if len(parts) == 2 and parts[1]:
            m.name = parts[1]
            members.append(m)
    # Python 3.12+ asks for a filter; "tar" keeps the archive's own links and modes.
    extra = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}
    tar.extractall(sys.argv[2], members=members, **extra)
PY
fi
grep -E '^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set$)' "$settings" >"$work/.settings"
cd "$work"

make -s allnoconfig >/dev/null

# Our settings replace allnoconfig's line for the same symbol ("CONFIG_X=..." or "# CONFIG_X is not set").
awk '
	function symbol(line) {
		if (line ~ /^# CONFIG_[A-Za-z0-9_]+ is not set$/) { sub(/^# /, "", line); sub(/ is not set$/, "", line) }
		else sub(/=.*/, "", line)
		return line
	}
	FNR == NR { want[symbol($0)] = $0; next }
	{ sym = symbol($0); if (sym in want) { print want[sym]; done[sym] = 1 } else print }
	END { for (sym in want) if (!(sym in done)) print want[sym] }
' .settings .config >.config.new
mv .config.new .config

# New symbols (there should be none) take their defaults; nothing may prompt.
yes "" | make -s oldconfig >/dev/null

# oldconfig silently drops a setting whose dependencies are off: that would be a wrong image.
dropped=$(grep -Fxv -f .config .settings || true)
if [ -n "$dropped" ]; then
	echo "busybox build: make oldconfig did not keep these settings (a dependency is off, or this busybox lacks them):" >&2
	echo "$dropped" >&2
	exit 1
fi

jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
make -s -j"$jobs" busybox busybox.links >build.log 2>&1 || {
	tail -n 40 build.log >&2
	exit 1
}

cp busybox "$out/busybox"
sed 's|^/||' busybox.links >"$out/busybox.links"
cp .config "$out/config"
cd "$out"
rm -rf "$work"
