#!/bin/sh
# deps.sh - install what zonealloc's build, tests and tool need on Debian 12.
# Uses sudo when not run as root. Safe to run again.
set -eu
PKGS="build-essential cmake pkg-config zlib1g-dev liblzma-dev libnuma-dev \
xz-utils spin clang libclang-rt-14-dev"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: everything is installed"
	exit 0
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
