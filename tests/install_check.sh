#!/bin/sh
# install_check.sh BUILD_DIR SOURCE_DIR - install zonealloc into a scratch
# prefix and build the README example against it with pkg-config, the way
# a user would, statically and dynamically. CC: the compiler (default cc;
# the build's own, from ctest).
set -eu
cc=${CC:-cc}
build=$1
src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name zonealloc.pc | head -n1)
[ -n "$pc" ] || { echo "no zonealloc.pc installed"; exit 1; }
[ -f "$prefix/include/zonealloc.h" ] || { echo "no header installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$(pkg-config --cflags zonealloc)
libs=$(pkg-config --libs zonealloc)
libdir=$(pkg-config --variable=libdir zonealloc)
"$cc" $cflags "$src/examples/hello.c" -o "$prefix/hello" $libs -pthread
LD_LIBRARY_PATH=$libdir "$prefix/hello" | grep -q "hello from pfn"
# Static: the archive plus what it needs (pkg-config --static adds it).
static_libs=$(pkg-config --libs --static zonealloc | sed 's/-lzonealloc//')
"$cc" $cflags "$src/examples/hello.c" -o "$prefix/hello-static" \
	"$libdir/libzonealloc.a" $static_libs
"$prefix/hello-static" | grep -q "hello from pfn"
[ -x "$prefix/bin/zonealloc" ] || { echo "no zonealloc tool installed"; exit 1; }
"$prefix/bin/zonealloc" --version >/dev/null
echo "install: header, libraries, pkg-config file and tool work; 1 passed, 0 failed"
