# aarch64-linux-gnu.cmake - a CMake toolchain file for building zonealloc
# for 64-bit Arm Linux on an x86-64 Debian machine, with Debian's cross
# compiler (gcc-aarch64-linux-gnu) and the arm64 -dev packages installed
# beside the native ones (multiarch: /usr/lib/aarch64-linux-gnu). The tests
# run under QEMU's user-mode emulator; scripts/cross-test.sh sets it all up:
#
#   scripts/cross-test.sh            # install, build in build-aarch64/, ctest
#
# QEMU's user mode has no rseq system call: under it the page sets run
# locked, and the restartable runs of the tests are skipped (they need
# real Arm CPUs, which CI does not have). The sequence itself is
# assembled for both architectures by the rseq_arch test.
#
# SPDX-License-Identifier: MIT
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
# Libraries from /usr/lib/aarch64-linux-gnu (Debian multiarch), headers
# from /usr/include, which the architectures share.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# ctest runs each test binary through the emulator; test scripts that run
# a built program themselves rely on binfmt_misc (scripts/cross-test.sh).
# The programs load the multiarch arm64 C library (libc6:arm64, which the
# -dev packages bring), from /lib/aarch64-linux-gnu as on an Arm machine:
# no -L prefix, which would pair the cross toolchain's loader with that
# library and hang the first pthread_create.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
