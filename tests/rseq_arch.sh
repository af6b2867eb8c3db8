#!/bin/sh
# rseq_arch.sh CLANG SRCDIR
# Assemble the restartable sequence of every architecture (tests/
# rseq_arch.c) with clang's cross targets and check the result: three
# descriptors of 32 bytes in __za_rseq_cs, three abort stubs in
# __za_rseq_abort, each stub after the 4-byte signature.
set -u
CLANG=$1 SRC=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# Size in bytes of section $2 of object $1 (readelf: Name Type Addr Off Size).
section_size() {
    h=$(readelf -SW "$1" | sed -n "s/.* $2  *[A-Z_]*  *[0-9a-f]*  *[0-9a-f]*  *\([0-9a-f]*\) .*/\1/p")
    [ -n "$h" ] && printf '%d\n' "0x$h"
}
for t in x86_64-linux-gnu aarch64-linux-gnu; do
    o=$tmp/$t.o
    if ! "$CLANG" --target=$t -ffreestanding -O2 -c "$SRC/tests/rseq_arch.c" -o "$o"; then
        echo "rseq_arch: the $t sequence does not assemble"
        fail=1
        continue
    fi
    cs=$(section_size "$o" __za_rseq_cs)
    ab=$(section_size "$o" __za_rseq_abort)
    # Three descriptors (32 bytes each); three stubs (signature + a jump).
    if [ "${cs:-0}" != 96 ] || [ "${ab:-0}" -lt 24 ]; then
        echo "rseq_arch: $t: __za_rseq_cs is ${cs:-missing} bytes (want 96), __za_rseq_abort ${ab:-missing}"
        fail=1
        continue
    fi
    echo "rseq_arch: $t: 3 descriptors, abort stubs $ab bytes"
done
exit $fail
