#!/bin/sh
# arm64-packages.sh [PKG...] - install, on an x86-64 Debian machine, what
# building zonealloc for aarch64 needs (the cross compiler, the arm64 C
# library and the arm64 -dev packages of liblzma, zlib and libnuma, through
# multiarch), plus the packages named. Adds arm64 as a dpkg architecture
# first. Installs only what is missing; sudo when not root. Used by
# cross-test.sh (qemu-user) and aarch64-vm-test.sh (qemu-system-arm).
#
# SPDX-License-Identifier: MIT
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	$SUDO dpkg --add-architecture arm64
	$SUDO apt-get update -q
fi
missing=""
for p in gcc-aarch64-linux-gnu libc6-dev-arm64-cross libc6:arm64 \
	liblzma-dev:arm64 zlib1g-dev:arm64 libnuma-dev:arm64 "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "arm64-packages: installing$missing"
	$SUDO apt-get update -q
	# shellcheck disable=SC2086 # one word a package
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi
