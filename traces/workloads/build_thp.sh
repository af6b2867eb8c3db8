#!/bin/sh
# build_thp.sh - a workload for recording the whole machine with
# `zonealloc record` (traces/build-thp.md): a C build on both CPUs while
# thp_touch maps and touches transparent huge pages on both.
#
# Usage: build_thp.sh BUILD_DIR THP_TOUCH [SECONDS]
#   BUILD_DIR  a configured, clean CMake build of zonealloc (the build
#              runs `cmake --build BUILD_DIR -j2 --target zonealloc_static`)
#   THP_TOUCH  the built traces/workloads/thp_touch.c
#   SECONDS    how long thp_touch runs (default 4); it starts a second
#              after the build, and the script ends when both have
#
# SPDX-License-Identifier: MIT
set -eu
if [ $# -lt 2 ]; then
	echo "usage: build_thp.sh BUILD_DIR THP_TOUCH [SECONDS]" >&2
	exit 2
fi
build=$1
thp=$2
secs=${3:-4}
cmake --build "$build" -j2 --target zonealloc_static >"$build/build_thp.log" 2>&1 &
sleep 1
"$thp" --seconds "$secs"
wait
