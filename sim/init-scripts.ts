/**
 * The boot-time scripts of a simulated router. They are real busybox-ash scripts run inside the
 * router, so init scripts, rc.local and hooks installed by users (or by this project's guard) run
 * exactly as they are written.
 */

/** OpenWrt's rc.common, reduced to what non-procd init scripts use. */
export const RC_COMMON = `#!/bin/sh
# Copyright (C) 2006-2012 OpenWrt.org

initscript=$1
action=\${2:-help}
shift 2

start() {
	return 0
}

stop() {
	return 0
}

reload() {
	restart "$@"
}

restart() {
	trap '' TERM
	stop "$@"
	trap - TERM
	start "$@"
}

boot() {
	start "$@"
}

enable() {
	local name="$(basename "\${initscript}")"
	disable
	[ -n "$START" ] && ln -sf "../init.d/$name" "$IPKG_INSTROOT/etc/rc.d/S\${START}$name"
	[ -n "$STOP" ] && ln -sf "../init.d/$name" "$IPKG_INSTROOT/etc/rc.d/K\${STOP}$name"
	return 0
}

disable() {
	local name="$(basename "\${initscript}")"
	rm -f "$IPKG_INSTROOT"/etc/rc.d/S??$name
	rm -f "$IPKG_INSTROOT"/etc/rc.d/K??$name
}

enabled() {
	local name="$(basename "\${initscript}")"
	[ -x "$IPKG_INSTROOT/etc/rc.d/S\${START}$name" ]
}

help() {
	cat <<EOF
Syntax: $initscript [command]

Available commands:
	start	Start the service
	stop	Stop the service
	restart	Restart the service
	reload	Reload configuration files (or restart if service does not implement reload)
	enable	Enable service autostart
	disable	Disable service autostart
	enabled	Check if service is started on boot
EOF
}

. "$initscript"

ALL_COMMANDS="boot start stop restart reload enable disable enabled help \${EXTRA_COMMANDS}"
case " $ALL_COMMANDS " in
	*" $action "*) ;;
	*) action=help ;;
esac
$action "$@"
`;

/** /etc/init.d/boot, reduced to what later scripts rely on: the RAM directories under /var (/var -> /tmp). */
export const BOOT_INIT_SCRIPT = `#!/bin/sh /etc/rc.common
# Copyright (C) 2006-2011 OpenWrt.org

START=10

boot() {
	mkdir -p /var/lock /var/log /var/run /var/state /var/tmp /tmp/.uci
	chmod 1777 /var/lock
	chmod 0700 /tmp/.uci
}
`;

/** /etc/init.d/done: runs rc.local last, as OpenWrt does. */
export const DONE_INIT_SCRIPT = `#!/bin/sh /etc/rc.common
# Copyright (C) 2006 OpenWrt.org

START=95
boot() {
	[ -f /etc/rc.local ] && {
		sh /etc/rc.local
	}
}
`;

export const RC_LOCAL = `# Put your custom commands here that should be executed once
# the system init finished. By default this file does nothing.

exit 0
`;

/** The simulator's rcS: enabled init scripts in START order, each with "boot". */
export const BOOT_SEQUENCE = `#!/bin/sh
for script in /etc/rc.d/S??*; do
	[ -x "$script" ] || continue
	"$script" boot 2>&1
done
`;
