#!/bin/sh
# deps.sh - install what zonealloc's build, tests and tool need on Debian 12.
# Uses sudo when not run as root. Safe to run again.
#
# clang-format (14, Debian 12's) is for the `format` test (scripts/format.sh).
#
# prometheus-node-exporter and curl are for one test
# (tests/client_node_exporter.sh), which starts the exporter itself on a
# loopback port and stops it again. The package would start it as a
# service on install and enable it for every boot: this script forbids
# the start during the install (policy-rc.d) and disables the service.
set -eu
PKGS="build-essential cmake pkg-config zlib1g-dev liblzma-dev libnuma-dev \
xz-utils spin clang libclang-rt-14-dev clang-format prometheus-node-exporter curl"
SERVICE=prometheus-node-exporter
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

# Never leave the exporter running or enabled as a service. Run every
# time: a machine may have had the package before this script.
no_exporter_service() {
	dpkg-query -W -f='${Status}' "$SERVICE" 2>/dev/null |
		grep -q "install ok installed" || return 0
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		$SUDO systemctl disable --now "$SERVICE" >/dev/null 2>&1 || true
	else
		# Without systemd: the SysV script, if it runs, and its links.
		if [ -x "/etc/init.d/$SERVICE" ] &&
			[ -s "/run/prometheus/$SERVICE.pid" ]; then
			$SUDO "/etc/init.d/$SERVICE" stop >/dev/null 2>&1 || true
		fi
		if command -v update-rc.d >/dev/null 2>&1; then
			$SUDO update-rc.d "$SERVICE" disable >/dev/null 2>&1 || true
		fi
		# The package enables the systemd unit by a link even when
		# systemd is not running: remove it, for a later boot.
		$SUDO rm -f "/etc/systemd/system/multi-user.target.wants/$SERVICE.service"
	fi
}

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	no_exporter_service
	echo "deps: everything is installed"
	exit 0
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# No service may start during the install (exit 101: "action forbidden",
# see invoke-rc.d(8)); a policy already in place is kept as it is.
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	policy=/usr/sbin/policy-rc.d
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
fi
status=0
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing || status=$?
if [ -n "$policy" ]; then
	$SUDO rm -f "$policy"
fi
[ "$status" -eq 0 ] || exit "$status"
no_exporter_service
