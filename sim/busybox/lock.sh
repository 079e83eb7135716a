#!/bin/sh
# OpenWrt's `lock` applet (an OpenWrt patch to busybox, so not in the source the simulator builds
# from), emulated with busybox flock for the simulated router.
#
#   lock [-s] [-n] FILE   take the lock (shared with -s; fail at once if taken with -n) and return;
#                         a background holder keeps it, its PID written into FILE
#   lock -u FILE          release it: signal the holder named in FILE
#   lock -w FILE          wait until nobody holds it, without taking it
usage() {
	echo "Usage: lock [-suwn] <filename>" >&2
	exit 1
}

kind=-x
wait=""
action=take
while [ $# -gt 1 ]; do
	case "$1" in
	-s) kind=-s ;;
	-n) wait=-n ;;
	-u) action=release ;;
	-w) action=await ;;
	*) usage ;;
	esac
	shift
done
[ $# -eq 1 ] || usage
case "$1" in -*) usage ;; esac
file=$1

case $action in
release)
	pid=$(cat "$file" 2>/dev/null) || exit 0
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	exit 0
	;;
await)
	exec flock $wait $kind "$file" true
	;;
esac

# The holder reports its PID once it has the lock, then drops the pipe so that the command
# substitution returns while the holder (an exec'd sleep, keeping fd 9 open) lives on.
pid=$(
	sh -c '
		exec 9>>"$1" || exit 1
		flock '"$wait $kind"' 9 || exit 1
		echo $$ >"$1"
		echo $$
		exec sleep 2147483647 >/dev/null
	' lock "$file" </dev/null 2>/dev/null &
)
if [ -z "$pid" ]; then
	echo "Can't lock $file" >&2
	exit 1
fi
