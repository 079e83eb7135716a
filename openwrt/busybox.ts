/**
 * What a stock OpenWrt router's shell offers (23.05, 24.10): the busybox applets openwrt/openwrt
 * package/utils/busybox/Config-defaults.in enables by default, the programs a default image has from
 * other packages, and the option forms that work on Debian's busybox but fail there because OpenWrt
 * leaves their config off. One source for the simulator (which builds exactly this busybox) and for
 * the client (which checks its own shell text, and users' health checks, against it).
 */

/** The applets of a stock OpenWrt busybox (119). `lock` and `netmsg` come from OpenWrt's own patches. */
export const OPENWRT_APPLETS: readonly string[] = [
  "[", "[[", "ash", "awk", "basename", "brctl", "cat", "chgrp", "chmod", "chown", "chroot", "clear", "cmp", "cp",
  "crond", "crontab", "cut", "date", "dd", "df", "dhcprelay", "dirname", "dmesg", "du", "echo", "egrep", "env",
  "expr", "false", "fgrep", "find", "flock", "free", "fsync", "grep", "gunzip", "gzip", "halt", "head", "hexdump",
  "hwclock", "id", "ifconfig", "ip", "kill", "killall", "less", "ln", "lock", "logger", "login", "ls", "md5sum",
  "mkdir", "mkfifo", "mknod", "mkswap", "mktemp", "mount", "mv", "nc", "netmsg", "netstat", "nice", "nslookup",
  "ntpd", "passwd", "pgrep", "pidof", "ping", "ping6", "pivot_root", "poweroff", "printf", "ps", "pwd", "readlink",
  "reboot", "reset", "resize", "rm", "rmdir", "route", "sed", "seq", "sh", "sha256sum", "sleep", "sort",
  "start-stop-daemon", "strings", "swapoff", "swapon", "switch_root", "sync", "sysctl", "tail", "tar", "taskset",
  "tee", "test", "time", "top", "touch", "tr", "traceroute", "traceroute6", "true", "udhcpc", "umount", "uname",
  "uniq", "uptime", "vi", "wc", "which", "xargs", "yes", "zcat",
];

/** OpenWrt's applets that upstream busybox lacks (OpenWrt patches). */
export const OPENWRT_PATCH_APPLETS = ["lock", "netmsg"] as const;

/**
 * Programs of a default image that are not busybox: ubox (logread, kmodloader), uclient-fetch (wget),
 * uci, ubus, jsonfilter/jshn, firewall4 (fw4, nft), the package manager (opkg, or apk from 25.12), and
 * on 21.02 firewall3 (fw3, iptables).
 */
export const OPENWRT_PROGRAMS: readonly string[] = [
  "uci", "ubus", "jsonfilter", "jshn", "logread", "insmod", "rmmod", "lsmod", "modprobe", "modinfo", "wget",
  "fw4", "fw3", "nft", "iptables", "opkg", "apk",
];

/** Programs from packages a router may lack: a script must check for them (`command -v`) before relying on them. */
export const OPTIONAL_PROGRAMS: readonly string[] = ["ethtool", "tc"];

/** An option form that Debian's busybox accepts and a stock OpenWrt busybox refuses (its config is off). */
export interface RefusedForm {
  applet: string;
  /** Given the applet's literal arguments, whether they use the form. */
  matches(args: string[]): boolean;
  /** What fails and why, for the message. */
  why: string;
}

const anyArg = (test: (a: string) => boolean) => (args: string[]) => args.some(test);
/** A short option among `letters`, alone or grouped, its value attached or not (`-k`, `-nk2`). */
const shortFlag = (letters: string) => anyArg((a) => [...(/^-([A-Za-z]+)/.exec(a)?.[1] ?? "")].some((l) => letters.includes(l)));

export const REFUSED_FORMS: readonly RefusedForm[] = [
  { applet: "sleep", matches: anyArg((a) => /^\d*\.\d+/.test(a)), why: "fractional seconds (FLOAT_DURATION is off)" },
  { applet: "sort", matches: shortFlag("ktsgMcoz"), why: "only -n -r -u (SORT_BIG is off)" },
  { applet: "ps", matches: shortFlag("oTeA"), why: "only `ps` and `ps w` (DESKTOP is off)" },
  { applet: "tr", matches: anyArg((a) => /\[:[a-z]+:\]/.test(a)), why: "character classes are taken literally (FEATURE_TR_CLASSES is off)" },
  { applet: "cat", matches: shortFlag("nvAbetu"), why: "no options (FEATURE_CATN and FEATURE_CATV are off)" },
  { applet: "date", matches: anyArg((a) => a.includes("%N")), why: "no %N (FEATURE_DATE_NANO is off)" },
  { applet: "xargs", matches: anyArg((a) => /^-[IP]/.test(a)), why: "no -I or -P (XARGS_SUPPORT_REPL_STR and _PARALLEL are off)" },
  {
    applet: "find",
    matches: (args) => args.some((a) => ["-delete", "-empty", "-quit"].includes(a)) || args.join(" ").includes("{} +"),
    why: "no -delete, -empty, -quit or -exec {} + (FEATURE_FIND_* are off)",
  },
  { applet: "pidof", matches: shortFlag("so"), why: "no -s or -o (FEATURE_PIDOF_* are off)" },
  { applet: "dd", matches: anyArg((a) => a.startsWith("status=")), why: "no status= (FEATURE_DD_STATUS is off)" },
  { applet: "nc", matches: shortFlag("lzw"), why: "no -l, -z or -w (NC_SERVER and NC_EXTRA are off)" },
  { applet: "cp", matches: anyArg((a) => a.startsWith("--")), why: "no long options (FEATURE_CP_LONG_OPTIONS is off)" },
  {
    applet: "read",
    matches: (args) => args.some((a, i) => (a === "-t" && /\./.test(args[i + 1] ?? "")) || /^-t\d*\.\d/.test(a)),
    why: "no fractional -t (FEATURE_SH_READ_FRAC is off)",
  },
  {
    applet: "start-stop-daemon",
    // Up to `--`, after which the words are the daemon's own.
    matches: (args) => args.slice(0, args.includes("--") ? args.indexOf("--") : args.length).some((a) => a.startsWith("--") || /^-[oNRv]$/.test(a)),
    why: "only the short options -S -K -b -m -p -x -q -t -n -s -u -a -c",
  },
];
