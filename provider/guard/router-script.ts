import { createHash } from "crypto";
import { GUARD_DIR, GUARD_HOOK } from "./records";

/**
 * The router's side of the guard: one POSIX sh script (stock busybox: no setsid, no fractional
 * sleep, no stat) under /etc/offload-guard on flash, and a boot hook.
 *
 * The lock and the boot hook are one file: the symlink /etc/rc.d/S11offload-guard, pointing at the
 * owning transaction's hook script. Creating it (symlink(2) fails when it exists) takes the lock;
 * the boot sequence runs it before the firewall (START=19) and DeviceOffload's init script (18);
 * removing it releases the lock. So a lock without a hook, or a hook without a lock, cannot exist,
 * and `readlink` names the owner.
 *
 * Each transaction lives in tx/TXID: meta (what it changes), restores (what its snapshot holds),
 * subject (what it is about, e.g. "firewallDefaults", "flowtable:NAME"; a rollback is "rollback SUBJECT"),
 * sets (what it puts in place, in words),
 * deadline, phase (locked → applying), manifest + files (the snapshot), result (confirmed, restored,
 * aborted). Every step leaves a state the router resolves by itself:
 *   - the lock is taken only once its transaction's files (and this script) are on flash, so a hook
 *     never survives a power cut without what it runs;
 *   - nothing is applied before the snapshot, the lock and phase=applying are synced to flash and a
 *     timer has proven it runs;
 *   - a crash before that leaves at most a lock whose transaction applied nothing: the boot hook
 *     (or `break`) releases it;
 *   - a crash or a lost link after it leaves an applying transaction: the boot hook restores the
 *     files before the firewall starts, or the timer restores files and kernel at the deadline;
 *   - confirm and restore write their result and sync before they release the lock, so a crash in
 *     between only repeats an idempotent step.
 * State changes take an flock on /var/run/offload-guard.lock, so a timer firing at the deadline
 * and a late confirm (or an apply still running) never interleave.
 */
export { GUARD_DIR, GUARD_HOOK };
export const GUARD_SCRIPT_PATH = `${GUARD_DIR}/guard.sh`;
export const GUARD_FLOCK = "/var/run/offload-guard.lock";

/** Exit status of `lock`/`break` when another transaction holds the router. */
export const BUSY = 75;

const SCRIPT_BODY = `G=${GUARD_DIR}
HOOK=${GUARD_HOOK}
RUN=/var/run
trap '' HUP PIPE

now() { date +%s; }
# The transaction holding the lock: the hook's target is tx/TXID/hook.
owner() { t=$(readlink $HOOK 2>/dev/null) || return 1; t=\${t%/hook}; echo "\${t##*/}"; }
result() { cat "$G/tx/$1/result" 2>/dev/null; }
phase() { cat "$G/tx/$1/phase" 2>/dev/null; }
# Small state files are replaced whole (rename), never seen half written.
put() { printf '%s\\n' "$2" > "$1.tmp" && mv -f "$1.tmp" "$1"; }
log() { echo "$(now) $*" >> $G/log; logger -t offload-guard "$*" 2>/dev/null; }
# Serializes state changes (timer, confirm, restore, boot) with a running apply, whose shell holds the flock.
serialize() { [ -n "$GUARD_LOCKED" ] && return 0; mkdir -p $RUN; exec 9>${GUARD_FLOCK}; flock 9; GUARD_LOCKED=1; }
flowtables() { nft list flowtables 2>/dev/null | awk '$1=="table"{t=$2" "$3} $1=="flowtable"&&t=="inet fw4"{print $2}'; }
release() {
	[ "$(owner)" = "$1" ] && rm -f $HOOK
	# Stop the timer, unless the timer is who releases.
	pid=$(cat $RUN/offload-guard.$1.pid 2>/dev/null)
	[ -n "$pid" ] && [ "$pid" != "$$" ] && kill "$pid" 2>/dev/null
	rm -f $RUN/offload-guard.$1.pid $RUN/offload-guard.$1.ack
	rm -rf $RUN/offload-guard.$1.uci
}
busy() {
	o=$(owner)
	echo "busy \${o:-unknown} $(cat $G/tx/$o/deadline 2>/dev/null || echo -) $(cat $G/tx/$o/meta 2>/dev/null)"
	exit ${BUSY}
}
remove_package() {
	if command -v apk >/dev/null; then apk del "$1" >/dev/null 2>&1; else opkg remove "$1" >/dev/null 2>&1; fi
}
# Puts the snapshot's files back and removes packages its change installed (p) — or, for a change that
# removes packages (r), finishes removing them: a half-removed package cannot be put back without its feed
# (and at boot there is no network), so such a change only ever rolls forward. With "kernel", also what
# the kernel runs from the files: the firewall reloaded and flowtables the snapshot lacked deleted.
put_back() {
	local d=$G/tx/$1 bad=0 kind p arg
	while read -r kind p arg; do
		case "$kind" in
		f) mkdir -p "\${p%/*}" && cp -p "$d/files$p" "$p.guard-tmp" && mv -f "$p.guard-tmp" "$p"
			# uci's temp file of a commit whose rename a crash lost: it belongs to the change undone here.
			rm -f "\${p%/*}/.\${p##*/}.uci-"* ;;
		a) rm -f "$p" ;;
		l) mkdir -p "\${p%/*}" && rm -f "$p" && ln -s "$arg" "$p" ;;
		h) [ -n "$arg" ] && ethtool -K "$p" hw-tc-offload "$arg" >/dev/null 2>&1 ;;
		p | r) remove_package "$p" ;;
		esac
	done < $d/manifest
	while read -r kind p arg; do
		case "$kind" in
		f) cmp -s "$d/files$p" "$p" || { echo "differs after restore: $p"; bad=1; } ;;
		a) [ -e "$p" ] && { echo "still present after restore: $p"; bad=1; } ;;
		esac
	done < $d/manifest
	[ "$2" = kernel ] || return $bad
	put_kernel "$1" || bad=1
	return $bad
}
put_kernel() {
	local bad=0 ft out
	# fw4's reload exits 0 even when nft rejects the ruleset, so first ask whether it would load. A flowtable
	# whose flags changed cannot be redefined in place (nor passed by a restart's check): the forward chain lets
	# go of every flowtable, they go, and the reload builds the ones the files declare.
	if command -v fw4 >/dev/null && ! fw4 -q check; then
		nft flush chain inet fw4 forward >/dev/null 2>&1
		for ft in $(flowtables); do nft delete flowtable inet fw4 "$ft" >/dev/null 2>&1; done
	fi
	/etc/init.d/firewall reload >/dev/null 2>&1 || /etc/init.d/firewall restart >/dev/null 2>&1 ||
		{ echo "the firewall did not start from the restored config"; bad=1; }
	# nft's own words say which file and line it rejects; the restore's report is read one line at a time.
	if command -v fw4 >/dev/null && ! out=$(fw4 check 2>&1); then echo "the kernel does not take the restored firewall config: fw4 check says: $(printf '%s' "$out" | tr -s '\n\t' '  ')"; bad=1; fi
	for ft in $(flowtables); do
		grep -qx "t $ft" "$G/tx/$1/manifest" || nft delete flowtable inet fw4 "$ft" || { echo "flowtable $ft stays in the kernel"; bad=1; }
	done
	return $bad
}
# Restores an applying transaction and releases its lock; the files are on flash before the result is.
restore() {
	local bad
	[ -f "$G/tx/$1/manifest" ] || { echo "no snapshot for $1"; return 1; }
	put_back "$1" "$3"; bad=$?
	sync
	if grep -q '^r ' "$G/tx/$1/manifest"; then put "$G/tx/$1/result" "completed $2 $(now)"; else put "$G/tx/$1/result" "restored $2 $(now)"; fi
	release "$1"
	sync
	log "restored $1 ($2)"
	return $bad
}
# Releases a transaction that applied nothing.
abort() {
	put "$G/tx/$1/result" "aborted $2 $(now)"
	release "$1"
	sync
	log "aborted $1 ($2)"
}
# What the deadline (or a stale lock) does to the owner: restore what was applied, or just let go.
expire() {
	[ "$(owner)" = "$1" ] && [ -z "$(result "$1")" ] || return 0
	case "$(phase "$1")" in
	applying) restore "$1" "$2" kernel >/dev/null ;;
	*) abort "$1" "$2" ;;
	esac
}
prune() {
	local o t
	o=$(owner)
	# A transaction that never got the lock (a power cut between its first sync and the lock) is litter once its deadline passed.
	for t in $(ls $G/tx); do
		[ "$t" != "$o" ] && [ -z "$(result "$t")" ] && [ "$(cat "$G/tx/$t/deadline" 2>/dev/null || echo 0)" -lt "$(now)" ] && rm -rf "$G/tx/$t"
	done
	n=$(ls $G/tx | wc -l)
	[ "$n" -gt "$1" ] || return 0
	for t in $(ls $G/tx | sort | head -n $((n - $1))); do
		[ "$t" != "$o" ] && [ -n "$(result "$t")" ] && rm -rf "$G/tx/$t"
	done
}

case "$1" in
lock)
	# lock TXID SECONDS DESCRIPTION RESTORES SUBJECT SETS: prepare the transaction, then take the router.
	tx=$2; d=$G/tx/$tx
	mkdir -p "$d/files" /etc/rc.d || exit 1
	printf '%s\\n' "$4" > "$d/meta"
	printf '%s\\n' "$5" > "$d/restores"
	printf '%s\\n' "$6" > "$d/subject"
	printf '%s\\n' "$7" > "$d/sets"
	echo $(( $(now) + $3 )) > "$d/deadline"
	echo locked > "$d/phase"
	printf '#!/bin/sh\\n# offload-guard boot hook (pulumi-openwrt-offload)\\nexec sh %s boot\\n' "$G/guard.sh" > "$d/hook"
	chmod 0755 "$d/hook"
	# A lock whose transaction is not on flash was left by a power cut before its first sync: it never applied anything.
	[ -L $HOOK ] && [ ! -e $HOOK ] && rm -f $HOOK
	# The hook's target (and this script) reach flash before the hook can: a hook never survives without them.
	sync
	if ! ln -s "../offload-guard/tx/$tx/hook" $HOOK 2>/dev/null; then
		rm -rf "$d"
		busy
	fi
	echo "locked $tx"
	;;
snapshot)
	# snapshot TXID ITEM...: f:PATH (file, link or absence), h:DEVICE (hw-tc-offload), p:PACKAGE (installed by this change),
	# r:PACKAGE (removed by this change)
	tx=$2; d=$G/tx/$tx; shift 2
	: > "$d/manifest.tmp"
	for item in "$@"; do
		p=\${item#*:}
		case "$item" in
		f:*) if [ -L "$p" ]; then echo "l $p $(readlink "$p")"
			elif [ -e "$p" ]; then mkdir -p "$d/files\${p%/*}" && cp -p "$p" "$d/files$p" && echo "f $p"
			else echo "a $p"; fi ;;
		h:*) echo "h $p $(ethtool -k "$p" 2>/dev/null | sed -n 's/^hw-tc-offload: \\([a-z]*\\).*/\\1/p')" ;;
		p:*) echo "p $p" ;;
		r:*) echo "r $p" ;;
		esac >> "$d/manifest.tmp" || exit 1
	done
	flowtables | sed 's/^/t /' >> "$d/manifest.tmp"
	mv -f "$d/manifest.tmp" "$d/manifest"
	;;
arm)
	# arm TXID: start the timer, prove it runs, then make the whole transaction durable before anything is applied.
	tx=$2; d=$G/tx/$tx
	[ "$(owner)" = "$tx" ] || { echo "not the owner: $tx"; exit 3; }
	ack=$RUN/offload-guard.$tx.ack
	mkdir -p $RUN && rm -f "$ack" && mkfifo "$ack" && exec 3<>"$ack"
	# The timer must not inherit the flock (fd 9), the caller's claim to hold it (GUARD_LOCKED) or the ack's reading
	# end (fd 3): it takes the flock itself when its deadline comes, so it waits for an apply still running.
	GUARD_LOCKED= start-stop-daemon -S -b -m -p "$RUN/offload-guard.$tx.pid" -x /bin/sh -- "$G/guard.sh" timer "$tx" 3>&- 9>&-
	if ! read -t 10 alive <&3 || [ "$alive" != "alive $tx" ]; then
		exec 3<&-
		abort "$tx" "timer-did-not-start"
		echo "the guard's timer did not start"
		exit 71
	fi
	exec 3<&-
	put "$d/phase" applying
	sync
	log "armed $tx until $(cat "$d/deadline")"
	echo "armed $tx"
	;;
unguarded)
	# unguarded TXID: the caller applies without a safety net; the lock still keeps other writers out.
	put "$G/tx/$2/phase" unguarded
	;;
timer)
	tx=$2; d=$G/tx/$tx
	echo "alive $tx" > "$RUN/offload-guard.$tx.ack"
	while [ -z "$(result "$tx")" ] && [ "$(owner)" = "$tx" ]; do
		left=$(( $(cat "$d/deadline") - $(now) ))
		[ "$left" -le 0 ] && break
		sleep "$left"
	done
	serialize
	expire "$tx" timeout
	;;
confirm)
	# confirm TXID KEEP: idempotent; says what the router holds when it cannot confirm.
	serialize
	tx=$2
	case "$(result "$tx")" in
	confirmed*) echo "confirmed $tx"; exit 0 ;;
	?*) echo "$(result "$tx")"; exit 3 ;;
	esac
	[ "$(owner)" = "$tx" ] || { echo "unknown $tx"; exit 4; }
	put "$G/tx/$tx/result" "confirmed $(now)"
	sync
	release "$tx"
	prune "$3"
	sync
	log "confirmed $tx"
	echo "confirmed $tx"
	;;
restore)
	# restore TXID REASON [files|kernel]: the owner's change is undone now.
	serialize
	[ "$(owner)" = "$2" ] || { echo "not the owner: $2"; exit 3; }
	restore "$2" "$3" "\${4:-kernel}" && echo "restored $2"
	;;
abort)
	serialize
	[ "$(owner)" = "$2" ] && abort "$2" "$3"
	;;
release)
	# release TXID: an unguarded change is done.
	serialize
	put "$G/tx/$2/result" "unguarded $(now)"
	release "$2"
	sync
	;;
boot)
	serialize
	tx=$(owner) || exit 0
	if [ ! -d "$G/tx/$tx" ]; then rm -f $HOOK; sync; exit 0; fi
	if [ -n "$(result "$tx")" ]; then release "$tx"; sync
	elif [ "$(phase "$tx")" = applying ]; then restore "$tx" boot files >/dev/null
	else abort "$tx" boot; fi
	exit 0
	;;
break)
	# break: resolve a lock whose deadline passed (its timer died) or whose transaction is gone.
	serialize
	o=$(owner) || { echo "free"; exit 0; }
	if [ ! -f "$G/tx/$o/deadline" ]; then rm -f $HOOK; rm -rf "$G/tx/$o"; sync; echo "broke $o (no transaction)"; exit 0; fi
	[ "$(now)" -gt $(( $(cat "$G/tx/$o/deadline") + 5 )) ] || busy
	expire "$o" stale
	echo "broke $o ($(result "$o"))"
	;;
manifest)
	cat "$G/tx/$2/manifest"
	;;
put-back)
	# put-back TXID files|kernel: an operator's rollback, applied as a transaction of its own.
	[ -f "$G/tx/$2/manifest" ] || { echo "no snapshot for $2"; exit 1; }
	if [ "$3" = kernel ]; then put_kernel "$2"; else put_back "$2" files; fi
	;;
*)
	echo "usage: $0 lock|snapshot|arm|unguarded|timer|confirm|restore|abort|release|boot|break|manifest|put-back" >&2
	exit 2
	;;
esac
`;

/** A version line, so a client writes the script only when the router holds another one. */
export const GUARD_SCRIPT_VERSION = createHash("sha256").update(SCRIPT_BODY).digest("hex").slice(0, 16);

export const GUARD_SCRIPT = `#!/bin/sh
# offload-guard (pulumi-openwrt-offload): every change is undone unless confirmed in time; see provider/guard/router-script.ts.
# guard-version: ${GUARD_SCRIPT_VERSION}
${SCRIPT_BODY}`;
