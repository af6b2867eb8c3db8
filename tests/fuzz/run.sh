#!/bin/sh
# run.sh - build the API fuzzer (tests/fuzz/fuzz_api.c) with clang's
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer straight from
# the library sources, and run it.
#
# usage: run.sh [-t SECONDS] [-j JOBS] [-w WORKDIR] [-b] [-- LIBFUZZER-ARGS]
#   -t SECONDS  stop after this long (default 60); 0: run until a crash
#   -j JOBS     parallel fuzzing processes (default 1)
#   -w WORKDIR  where the binary, the growing corpus and crash files go
#               (default build-fuzz/ at the top of the tree)
#   -b          build only
# New inputs the fuzzer finds go to WORKDIR/corpus (the seed corpus in
# tests/fuzz/corpus is read, never written); a crash is written to
# WORKDIR/crash-* and its reproduction printed. See docs/VERIFICATION.md.
# Environment: CLANG (default clang), CFLAGS_EXTRA (more compiler flags,
# e.g. -DZA_FUZZ_NO_SHIFT9).
# Exit status: 0 no crash, 1 a crash or a build failure, 77 when clang or
# its libFuzzer runtime is missing (ctest SKIP_RETURN_CODE).
#
# SPDX-License-Identifier: MIT
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=60
jobs=1
work=$top/build-fuzz
build_only=0
while getopts t:j:w:b opt; do
	case $opt in
	t) secs=$OPTARG ;;
	j) jobs=$OPTARG ;;
	w) work=$OPTARG ;;
	b) build_only=1 ;;
	*) echo "usage: $0 [-t SECONDS] [-j JOBS] [-w WORKDIR] [-b] [-- ARGS]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
clang=${CLANG:-clang}

command -v "$clang" >/dev/null 2>&1 || { echo "run.sh: $clang not found: SKIP"; exit 77; }
mkdir -p "$work/corpus" || exit 1

# Is libFuzzer there? (Debian: libclang-rt-NN-dev, pulled in by clang.)
probe=$work/probe.c
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$probe"
if ! "$clang" -fsanitize=fuzzer "$probe" -o "$work/probe" >"$work/probe.log" 2>&1; then
	echo "run.sh: $clang -fsanitize=fuzzer does not link (install libclang-rt-dev): SKIP"
	cat "$work/probe.log"
	exit 77
fi

# zonealloc.h includes the generated zonealloc_version.h: made here from
# the version in CMakeLists.txt, as the CMake build makes it.
mkdir -p "$work/include" || exit 1
v=$(sed -n 's/^project(zonealloc VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")
vmaj=${v%%.*} vrest=${v#*.}
vmin=${vrest%%.*} vpat=${vrest#*.}
sed -e "s/@PROJECT_VERSION_MAJOR@/$vmaj/" -e "s/@PROJECT_VERSION_MINOR@/$vmin/" \
	-e "s/@PROJECT_VERSION_PATCH@/$vpat/" "$top/include/zonealloc_version.h.in" \
	> "$work/include/zonealloc_version.h" || exit 1

bin=$work/fuzz_api
echo "== building $bin"
# za_check runs after every operation and walks every page: comparison
# tracing there costs most of the time and guides nothing.
printf '# coverage: leave out the whole-state validator\nsrc:*check.c\n' \
	> "$work/coverage-ignore.txt"
# shellcheck disable=SC2086
"$clang" -g -O1 -fsanitize=fuzzer,address,undefined \
	-fsanitize-coverage-ignorelist="$work/coverage-ignore.txt" \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	-std=gnu11 -D_GNU_SOURCE -DZA_DEBUG=1 -DZA_HAVE_NUMA=0 -DZA_BUILDING=1 \
	${CFLAGS_EXTRA:-} -I"$top/include" -I"$work/include" -I"$top/src" \
	"$here/fuzz_api.c" "$top"/src/*.c "$top"/src/platform/*.c \
	-lpthread -o "$bin" || exit 1
[ "$build_only" = 1 ] && exit 0

# Each execution must stay fast: a slow unit or a leak is a finding too.
set -- -max_len=4096 -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-artifact_prefix="$work/" "$@"
[ "$secs" != 0 ] && set -- -max_total_time="$secs" "$@"
[ "$jobs" -gt 1 ] && set -- -jobs="$jobs" -workers="$jobs" "$@"

echo "== fuzzing for ${secs}s (0: until a crash), corpus $work/corpus + $here/corpus"
cd "$work" || exit 1
"$bin" "$@" "$work/corpus" "$here/corpus"
rc=$?
if [ $rc -ne 0 ]; then
	echo "== the fuzzer stopped with status $rc; crash inputs:"
	ls -l "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null
	echo "reproduce: ZA_FUZZ_TRACE=1 $bin <file>   (or build/tests/fuzz_corpus <file>)"
	echo "keep it:   cp <file> $here/corpus/regress-<what>.bin"
	exit 1
fi
echo "== no crash"
exit 0
