#!/bin/sh
# header_check.sh CC CXX INCLUDE_DIR... - the public header as a user's
# compiler sees it: include/zonealloc.h alone in a translation unit that
# calls it, as C11, C17 and C2x, freestanding (no FILE front ends), and as
# C++11, C++17 and C++20 (extern "C": the object asks for za_create, not
# a mangled name; CXX may be empty: skipped), each
# with -Wall -Wextra -pedantic -Werror and a few stricter warnings a
# consumer may use. Compiled only. Not -Wshadow in C++: g++ says a
# function that shares its struct's name (za_zone_info, za_pcp_info, as
# POSIX's stat) hides the struct's constructor.
set -u
cc=$1 cxx=$2
shift 2
inc=""
for d in "$@"; do inc="$inc -I$d"; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/use.c" <<'C'
#include <zonealloc.h>
int main(void)
{
	struct za *za = za_create(NULL);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_ZERO, 0);
	if (p)
		za_free_pages(za, p, 0);
	za_destroy(za);
	return ZA_VERSION_MAJOR > 99;
}
C
sed 's/(void)/()/; s/NULL/nullptr/' "$work/use.c" >"$work/use.cpp"
strict="-Wall -Wextra -pedantic -Werror -Wundef -Wcast-qual -Wconversion -Wsign-conversion"
fail=0 n=0
try() {
	n=$((n + 1))
	# shellcheck disable=SC2086 # flags: words
	if ! "$@" >"$work/log" 2>&1; then
		echo "header_check: failed: $*"
		cat "$work/log"
		fail=$((fail + 1))
	fi
}
for std in c11 c17 c2x; do
	# shellcheck disable=SC2086
	try "$cc" -std=$std $strict -Wshadow -Wstrict-prototypes -Wc++-compat $inc -c "$work/use.c" -o "$work/use.o"
done
# shellcheck disable=SC2086
try "$cc" -std=c11 $strict -ffreestanding $inc -fsyntax-only "$work/use.c"
if [ -n "$cxx" ]; then
	for std in c++11 c++17 c++20; do
		# shellcheck disable=SC2086
		try "$cxx" -std=$std $strict -Wold-style-cast -Wzero-as-null-pointer-constant $inc -c "$work/use.cpp" -o "$work/use.o"
	done
	# extern "C": the C++ program asks for the library's names, not
	# mangled ones (NM: nm, or the build's).
	n=$((n + 1))
	if ! "${NM:-nm}" "$work/use.o" | grep -q ' U za_create$'; then
		echo "header_check: C++ calls of the API are not extern \"C\":"
		"${NM:-nm}" "$work/use.o" | grep za_create
		fail=$((fail + 1))
	fi
fi
note=""
[ -n "$cxx" ] || note=" (no C++ compiler: C++ skipped)"
echo "header_check: $((n - fail)) passed, $fail failed$note"
[ $fail -eq 0 ]
