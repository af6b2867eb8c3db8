#!/bin/sh
# format.sh - lay out the C sources the way .clang-format says.
#
# Usage: scripts/format.sh [--check] [DIR|FILE...]
#   (default)  rewrite every .c and .h file under the directories given
#              (default: the ones kept formatted, FORMATTED below) in place
#   --check    change nothing: list the files whose layout differs, exit 1
#              if there is one
# Environment: CLANG_FORMAT (default clang-format).
#
# Exit 0 when done (or, with --check, when every file is formatted), 1
# when a file differs, 2 on a usage error, 77 when no clang-format 14 is
# installed (ctest's test `format` reports that as skipped). Other
# versions lay out a few constructs differently, so only 14 is trusted to
# check; scripts/deps.sh installs it (Debian 12's clang-format).
set -u
cd "$(dirname "$0")/.."

# The directories the `format` test checks: every C file of the project.
FORMATTED="src include tools tests bench examples"

CF=${CLANG_FORMAT:-clang-format}
check=0
if [ "${1:-}" = "--check" ]; then
	check=1
	shift
fi
case "${1:-}" in
-h | --help)
	sed -n '2,16s/^# \{0,1\}//p' "$0"
	exit 0
	;;
-*)
	echo "format.sh: unknown option '$1' (expected --check)" >&2
	exit 2
	;;
esac

if ! command -v "$CF" >/dev/null 2>&1; then
	echo "format.sh: $CF not found (scripts/deps.sh installs it)" >&2
	exit 77
fi
major=$("$CF" --version | sed -n 's/.*clang-format version \([0-9]*\).*/\1/p')
if [ "$major" != 14 ]; then
	echo "format.sh: $CF is version ${major:-unknown}, the layout is" \
		"checked with 14" >&2
	exit 77
fi

[ $# -gt 0 ] || set -- $FORMATTED
for a in "$@"; do
	if [ ! -e "$a" ]; then
		echo "format.sh: no such file or directory: $a" >&2
		exit 2
	fi
done

files=$(find "$@" -type f \( -name '*.c' -o -name '*.h' \) | sort)
differ=0
for f in $files; do
	if [ $check = 1 ]; then
		if ! "$CF" --style=file "$f" | cmp -s - "$f"; then
			echo "$f"
			differ=1
		fi
	else
		"$CF" --style=file -i "$f" || exit 1
	fi
done
if [ $check = 1 ] && [ $differ = 1 ]; then
	echo "format.sh: the files above differ from .clang-format's layout" \
		"(scripts/format.sh FILE... rewrites them)" >&2
	exit 1
fi
exit 0
