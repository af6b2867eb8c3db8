#!/bin/sh
# cross-test.sh - build zonealloc for 64-bit Arm (aarch64) on an x86-64
# Debian 12 machine and run its whole test suite under QEMU's user-mode
# emulator: the check that the library, the tool and the tests build and
# behave on the second architecture the restartable page sets are written
# for (src/rseq-aarch64.h), short of real Arm hardware.
#
#   scripts/cross-test.sh              # install, build in build-aarch64/, ctest
#   scripts/cross-test.sh -R core_     # arguments after the script go to ctest
#                                      # (default: -LE model, below)
#
# What it does, each step safe to repeat:
#  1. installs Debian's cross compiler (gcc-aarch64-linux-gnu), QEMU's user
#     mode (qemu-user) and the arm64 -dev packages of the optional
#     libraries (liblzma, zlib, libnuma), after adding arm64 as a dpkg
#     architecture (multiarch): scripts/arm64-packages.sh;
#  2. lets the kernel run aarch64 programs through qemu-aarch64
#     (binfmt_misc), for the tests that run a built program from a shell
#     or CMake script; ctest itself runs test binaries through the
#     emulator (CMAKE_CROSSCOMPILING_EMULATOR in the toolchain file);
#  3. configures build-aarch64/ with cmake/aarch64-linux-gnu.cmake
#     (Release code with the level-1 assertions and test hooks, ZA_DEBUG=1,
#     so that the rules, assertions and lock-order tests run too; no
#     benchmarks), builds it and runs ctest.
#
# Under QEMU's user mode there is no rseq system call, so the page sets
# run locked and every restartable run (the *_rseq tests, pcp_rseq) says
# it is skipped: what they check needs real Arm CPUs. Memory ordering is
# the host's too. So this catches what does not build, link or behave on
# aarch64 (types, alignment, the platform layer), not weak-ordering races.
# Needs root for steps 1 and 2 (sudo is used when not root). About five
# minutes on 2 cores from scratch, installs and build included. On an
# aarch64 machine it does nothing: `make test` there is the real thing.
#
# SPDX-License-Identifier: MIT
set -eu
cd "$(dirname "$0")/.."
case $(uname -m) in
aarch64 | arm64)
	echo "cross-test: this machine is aarch64: its own test suite (make test) covers it"
	exit 0
	;;
x86_64) ;;
*)
	echo "cross-test: written for an x86-64 Debian machine, not $(uname -m)" >&2
	exit 1
	;;
esac
BUILD=${BUILD:-build-aarch64}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

# 1. Packages.
./scripts/arm64-packages.sh qemu-user

# 2. binfmt_misc: aarch64 ELF programs (executables and PIEs) run through
# qemu-aarch64. They load the arm64 C library of multiarch (libc6:arm64,
# /lib/aarch64-linux-gnu), as on an Arm machine; not the cross
# toolchain's copy under /usr/aarch64-linux-gnu (QEMU_LD_PREFIX), whose
# loader with multiarch's library hangs in pthread_create.
BINFMT=/proc/sys/fs/binfmt_misc
if [ ! -e "$BINFMT/register" ]; then
	$SUDO mount -t binfmt_misc binfmt_misc "$BINFMT" || {
		echo "cross-test: cannot mount binfmt_misc: the tests that run a" \
			"built program from a script cannot run" >&2
		exit 1
	}
fi
if [ ! -e "$BINFMT/qemu-aarch64" ]; then
	# Magic: ELF, 64-bit, little-endian, version 1, type EXEC or DYN
	# (the mask's 0xfe), machine 0xb7 (AArch64).
	printf '%s' ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64:' |
		$SUDO tee "$BINFMT/register" >/dev/null
fi
unset QEMU_LD_PREFIX
if ! /lib/ld-linux-aarch64.so.1 --version >/dev/null 2>&1; then
	echo "cross-test: an aarch64 program does not run here (binfmt_misc)" >&2
	exit 1
fi

# 3. Build and test.
cmake -S . -B "$BUILD" -DCMAKE_TOOLCHAIN_FILE="$(pwd)/cmake/aarch64-linux-gnu.cmake" \
	-DCMAKE_BUILD_TYPE=Release -DZA_DEBUG=1 -DZA_BUILD_BENCH=OFF
cmake --build "$BUILD" -j"$JOBS"
# By default all but the spin models (label model): they verify the
# protocol, not the code, and their verifier gives the same answer on any
# architecture, at a third of this run's time under the emulator.
if [ $# -eq 0 ]; then
	set -- -LE '^model$'
fi
ctest --test-dir "$BUILD" --output-on-failure -j"$JOBS" "$@"
