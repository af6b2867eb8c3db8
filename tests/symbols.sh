#!/bin/sh
# symbols.sh NM STATIC_LIB SHARED_LIB HEADER
#
# The private namespace (docs/ARCHITECTURE.md): every global symbol the
# static library defines starts with za_ (public API) or _za_ (private),
# and the shared library exports the public API and nothing else - every
# exported name is declared in the public header. Names a kernel or
# unikernel that embeds the library would define itself
# (get_page_from_freelist, free_one_page, ...) must never leak out.
set -u
NM=$1 STATIC=$2 SHARED=$3 HEADER=$4
fail=0

# Defined globals of the archive: text, data, read-only, bss, weak. The
# sanitizers' own instrumentation symbols (__odr_asan.<name>, ...) are
# the compiler's, not names of ours.
bad=$("$NM" -g --defined-only "$STATIC" |
      awk 'NF == 3 && $3 !~ /^_?za_/ && $3 !~ /^__(odr_asan|asan|tsan|ubsan|sanitizer|sancov)/ { print $3 }' |
      sort -u)
if [ -n "$bad" ]; then
    echo "symbols: $STATIC defines global symbols outside the za_/_za_ namespace:"
    for s in $bad; do
        printf '  %-32s add to src/namespace.h:  #define %s _za_%s\n' "$s" "$s" "$s"
    done
    fail=1
fi
n_static=$("$NM" -g --defined-only "$STATIC" | awk 'NF == 3' | wc -l)

# Dynamic exports: only names the public header declares.
exports=$("$NM" -D --defined-only "$SHARED" | awk 'NF == 3 { print $3 }' | sort -u)
n_exports=0
for s in $exports; do
    n_exports=$((n_exports + 1))
    case $s in
    za_*) grep -Eq "\\b$s\\(" "$HEADER" && continue ;;
    esac
    echo "symbols: $SHARED exports $s, which include/zonealloc.h does not declare"
    fail=1
done
# And the public API is really there (a hidden-visibility slip would drop it).
for s in za_create za_destroy za_alloc_pages za_free_pages za_check za_report; do
    echo "$exports" | grep -qx "$s" || { echo "symbols: $SHARED does not export $s"; fail=1; }
done

if [ $fail -eq 0 ]; then
    echo "symbols: $n_static global symbols in the archive, all za_/_za_; $n_exports exports, all public API"
fi
exit $fail
