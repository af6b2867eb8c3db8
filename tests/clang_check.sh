#!/bin/sh
# clang_check.sh CLANG SOURCE_DIR BINARY_DIR DEFINES... - the library's
# sources as a clang build compiles them (the project's warnings, the
# build's definitions), with -Werror: a user who builds zonealloc with
# clang, or inside a project that adds -Werror, sees no warning. Syntax
# only (-fsyntax-only): no objects.
set -u
clang=$1 src=$2 bin=$3
shift 3
defs=""
for d in "$@"; do defs="$defs -D$d"; done
fail=0 n=0
for f in $(sed -n 's|^  src/\(.*\.c\))\{0,1\}$|src/\1|p' "$src/CMakeLists.txt"); do
	n=$((n + 1))
	# shellcheck disable=SC2086 # $defs: words
	if ! "$clang" -std=gnu11 -fsyntax-only -Werror -Wall -Wextra \
		-Wno-unused-parameter -Wshadow -Wstrict-prototypes \
		-fvisibility=hidden $defs -I"$src/include" -I"$bin/include" \
		-I"$src/src" "$src/$f"; then
		echo "clang_check: $f has warnings"
		fail=$((fail + 1))
	fi
done
[ "$n" -gt 20 ] || { echo "clang_check: found only $n sources in $src/CMakeLists.txt"; exit 1; }
echo "clang_check: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
