#!/bin/sh
# api_names.sh HEADER VERSION_HEADER_IN API_DOC
#
# Every public name of the header is documented: each function declared
# ZA_API, each macro, each struct, enum and typedef, and each enumerator
# written out in an enum (those an X-macro list makes are documented with
# their list) must appear in docs/API.md in backquotes (`name`). Prints
# the names missing and exits 1 when there is one.
set -u
HEADER=$1 VERSION=$2 DOC=$3
for f in "$HEADER" "$VERSION" "$DOC"; do
	[ -r "$f" ] || { echo "api_names: cannot read $f"; exit 2; }
done

names=$(
	{
		# Macros, but the include guards.
		sed -n 's/^#[ \t]*define[ \t]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' \
			"$HEADER" "$VERSION"
		# ZA_API declarations, joined up to their ';': the identifier
		# before the first '('.
		awk '
			/^#/ { next }
			/ZA_API/ { d = ""; on = 1 }
			on { d = d " " $0 }
			on && /;/ {
				on = 0
				sub(/\(.*/, "", d)
				n = split(d, w, /[^A-Za-z0-9_]+/)
				for (i = n; i > 0 && w[i] == ""; i--)
					;
				print w[i]
			}' "$HEADER"
		# struct and enum tags, typedef names.
		sed -n 's/^[ \t]*\(struct\|enum\)[ \t]\{1,\}\(za[a-z0-9_]*\)[ \t]*[{;].*/\2/p' \
			"$HEADER"
		sed -n 's/^typedef.*(\*\(za_[a-z0-9_]*\)).*/\1/p; s/^typedef[^(]*[ \t*]\(za_[a-z0-9_]*\);.*/\1/p' \
			"$HEADER"
		# Enumerators written out: in an enum's body, the ZA_ names
		# that open a line, and on a one-line enum those not followed
		# by '(' (the X-macro lists are not enumerators).
		awk '
			/^enum za[a-z0-9_]* \{.*\};/ {
				s = $0
				sub(/^[^{]*\{/, "", s)
				while (match(s, /ZA_[A-Z0-9_]+[ \t]*\(?/)) {
					t = substr(s, RSTART, RLENGTH)
					if (t !~ /\($/) {
						sub(/[ \t]+$/, "", t)
						print t
					}
					s = substr(s, RSTART + RLENGTH)
				}
				next
			}
			/^enum za[a-z0-9_]* \{/ { on = 1; next }
			on && /^\};/ { on = 0 }
			on && match($0, /^[ \t]*ZA_[A-Z0-9_]+/) {
				t = substr($0, RSTART, RLENGTH)
				gsub(/[ \t]/, "", t)
				print t
			}' "$HEADER"
	} | grep -v -x -e 'ZONEALLOC_H' -e 'ZONEALLOC_VERSION_H' | sort -u
)

n=0
missing=0
for name in $names; do
	n=$((n + 1))
	if ! grep -qF "\`$name\`" "$DOC"; then
		echo "api_names: $name is public (include/zonealloc.h) but docs/API.md does not name it"
		missing=$((missing + 1))
	fi
done
if [ "$n" -lt 100 ]; then
	echo "api_names: only $n public names found: the extraction is broken"
	exit 1
fi
if [ $missing -gt 0 ]; then
	echo "api_names: $missing of $n public names undocumented: add each to docs/API.md (with meaning, errors and version under \"Additions to the API contract\")"
	exit 1
fi
echo "api_names: all $n public names are in docs/API.md"
exit 0
