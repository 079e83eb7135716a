#!/bin/sh
# OpenWrt's `netmsg` applet (an OpenWrt patch to busybox: a UDP broadcast of a message), emulated
# for the simulated router. The router's network namespace has only loopback, so the message
# reaches nobody: the call is checked and accepted as the applet would, and nothing is sent.
if [ $# -ne 2 ]; then
	echo "usage: netmsg <ip> \"<message>\"" >&2
	exit 1
fi
