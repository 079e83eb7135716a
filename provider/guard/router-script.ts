/**
 * What the guard installs on a router: one POSIX sh script and a boot hook. Everything lives under
 * /etc/offload-guard (flash, so it survives a reboot); the pending marker is a directory, so creating
 * it is the atomic "one guard window per router" lock.
 *
 * A change is armed before it is applied: if nobody confirms it in time — the link died, the router
 * rebooted, the client crashed — the router restores the snapshot by itself (timer) or at boot (hook,
 * before the firewall starts).
 */
export const GUARD_DIR = "/etc/offload-guard";
export const GUARD_SCRIPT_PATH = `${GUARD_DIR}/guard.sh`;
export const GUARD_INIT_PATH = "/etc/init.d/offload-guard";
export const GUARD_INIT_LINK = "/etc/rc.d/S11offload-guard";

/** The boot hook: before the firewall (START=19) and before DeviceOffload's hw-tc-offload (18). */
export const GUARD_INIT_SCRIPT = `#!/bin/sh /etc/rc.common
# pulumi-openwrt-offload guard: an unconfirmed change is restored at boot, before the firewall starts.
START=11

boot() {
	sh ${GUARD_SCRIPT_PATH} boot
}
`;

export const GUARD_SCRIPT = `#!/bin/sh
# offload-guard (pulumi-openwrt-offload): puts back a change that was not confirmed in time.
#   arm TXID SECONDS     take the window (fails with exit 75 if another one is open), start the timer
#   confirm TXID         keep the change: close the window, stop the timer
#   restore TXID REASON  put the snapshot back and reload the firewall (REASON boot: no reload)
#   timer TXID SECONDS   restore after SECONDS unless confirmed (run detached by arm)
#   boot                 at boot, restore an unconfirmed change before the firewall starts
#   list                 the kept transactions, newest first
G=${GUARD_DIR}
P=$G/pending
HOOK=${GUARD_INIT_LINK}

# The boot hook exists only while a change waits for confirmation.
unhook() {
	rm -f $HOOK ${GUARD_INIT_PATH}
}

log() {
	logger -t offload-guard "$*" 2>/dev/null
	echo "$(date +%s) $*" >> $G/log
}

restore() {
	d=$G/tx/$1
	[ -f "$d/manifest" ] || { echo "no snapshot for $1"; return 1; }
	while read -r kind path arg; do
		case "$kind" in
		f) mkdir -p "\${path%/*}" && cp -p "$d/files$path" "$path.guard-tmp" && mv -f "$path.guard-tmp" "$path" ;;
		a) rm -f "$path" ;;
		l) mkdir -p "\${path%/*}" && ln -sf "$arg" "$path" ;;
		h) command -v ethtool >/dev/null && ethtool -K "$path" hw-tc-offload "$arg" ;;
		p) if command -v apk >/dev/null; then apk del "$path" >/dev/null 2>&1; else opkg remove "$path" >/dev/null 2>&1; fi ;;
		esac
	done < "$d/manifest"
	bad=0
	while read -r kind path arg; do
		case "$kind" in
		f) cmp -s "$d/files$path" "$path" || { echo "differs after restore: $path"; bad=1; } ;;
		a) [ -e "$path" ] && { echo "still present after restore: $path"; bad=1; } ;;
		esac
	done < "$d/manifest"
	echo "restored $2 $(date +%s)" > "$d/result"
	[ "$(cat $P/txid 2>/dev/null)" = "$1" ] && rm -rf "$P" && unhook
	[ "$2" = boot ] || /etc/init.d/firewall reload >/dev/null 2>&1
	log "restored $1 ($2)"
	[ $bad = 0 ] && echo "restored $1"
	return $bad
}

case "$1" in
arm)
	mkdir -p $G/tx
	if ! mkdir "$P" 2>/dev/null; then
		echo "busy $(cat $P/txid 2>/dev/null) $(cat $P/deadline 2>/dev/null)"
		exit 75
	fi
	echo "$2" > $P/txid
	echo $(( $(date +%s) + $3 )) > $P/deadline
	cat > ${GUARD_INIT_PATH} <<'HOOK_EOF'
${GUARD_INIT_SCRIPT}HOOK_EOF
	chmod 0755 ${GUARD_INIT_PATH}
	ln -sf ../init.d/offload-guard $HOOK
	setsid sh $G/guard.sh timer "$2" "$3" </dev/null >/dev/null 2>&1 &
	echo $! > $P/timer.pid
	log "armed $2 for $3 s"
	echo "armed $2"
	;;
confirm)
	[ "$(cat $P/txid 2>/dev/null)" = "$2" ] || { echo "not pending: $2"; exit 3; }
	kill "$(cat $P/timer.pid 2>/dev/null)" 2>/dev/null
	echo "confirmed $(date +%s)" > $G/tx/$2/result
	rm -rf "$P"
	unhook
	n=$(ls $G/tx | wc -l)
	[ "$n" -gt "$3" ] && for old in $(ls $G/tx | sort | head -n $((n - $3))); do rm -rf "$G/tx/$old"; done
	log "confirmed $2"
	echo "confirmed $2"
	;;
restore)
	restore "$2" "\${3:-now}"
	;;
timer)
	sleep "$3"
	[ "$(cat $P/txid 2>/dev/null)" = "$2" ] && restore "$2" timeout >/dev/null
	;;
boot)
	[ -d "$P" ] && restore "$(cat $P/txid)" boot >/dev/null
	exit 0
	;;
list)
	for t in $(ls $G/tx 2>/dev/null | sort -r); do
		echo "$t|$(cat $G/tx/$t/meta 2>/dev/null)|$(cat $G/tx/$t/result 2>/dev/null)|$([ "$(cat $P/txid 2>/dev/null)" = "$t" ] && cat $P/deadline)"
	done
	;;
*)
	echo "usage: $0 arm|confirm|restore|timer|boot|list" >&2
	exit 2
	;;
esac
`;

