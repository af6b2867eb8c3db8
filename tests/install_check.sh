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
# The license goes with the copy (MIT: the notice in all copies).
cmp -s "$src/LICENSE" "$prefix/share/doc/zonealloc/LICENSE" ||
	{ echo "no LICENSE installed in share/doc/zonealloc"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$(pkg-config --cflags zonealloc)
libs=$(pkg-config --libs zonealloc)
libdir=$(pkg-config --variable=libdir zonealloc)
"$cc" $cflags "$src/examples/hello.c" -o "$prefix/hello" $libs -pthread
LD_LIBRARY_PATH=$libdir "$prefix/hello" | grep -q "hello from pfn"
# The SONAME a program records: before 1.0, major and minor (a minor
# release may change the ABI, as the CMake package's version file says);
# from 1.0, the major.
version=$(pkg-config --modversion zonealloc)
major=${version%%.*}
minor=$(echo "$version" | cut -d. -f2)
soname=libzonealloc.so.$major
[ "$major" = 0 ] && soname=$soname.$minor
readelf -d "$prefix/hello" | grep -q "NEEDED.*\[$soname\]" || {
	readelf -d "$prefix/hello" | grep NEEDED
	echo "hello does not need $soname (version $version)"; exit 1; }
[ -e "$libdir/$soname" ] || { echo "no $libdir/$soname installed"; exit 1; }
# Static: the archive plus what it needs (pkg-config --static adds it).
static_libs=$(pkg-config --libs --static zonealloc | sed 's/-lzonealloc//')
"$cc" $cflags "$src/examples/hello.c" -o "$prefix/hello-static" \
	"$libdir/libzonealloc.a" $static_libs
"$prefix/hello-static" | grep -q "hello from pfn"
# A plugin linking the archive, with what pkg-config --static adds (its
# -z nodelete: the tree's shared_dlclose test loads it, runs restartable
# sequences, closes it and must survive the kernel's next look).
cp "$src/tests/install_plugin.c" "$prefix/plugin.c"
"$cc" $cflags -shared -fPIC "$prefix/plugin.c" -o "$prefix/plugin.so" \
	"$libdir/libzonealloc.a" $static_libs
"$build/tests/shared_dlclose" "$prefix/plugin.so" >"$prefix/log" 2>&1 ||
	{ cat "$prefix/log"; echo "a plugin linking libzonealloc.a does not survive dlclose"; exit 1; }
# The command, unless the build left it out (ZA_BUILD_TOOLS=OFF: ctest
# sets ZA_INSTALL_TOOL=0).
if [ "${ZA_INSTALL_TOOL:-1}" = 1 ]; then
	[ -x "$prefix/bin/zonealloc" ] || { echo "no zonealloc tool installed"; exit 1; }
	"$prefix/bin/zonealloc" --version >/dev/null
elif [ -e "$prefix/bin/zonealloc" ]; then
	echo "a zonealloc tool installed by a build without it"; exit 1
fi
echo "install: header, libraries, pkg-config file and tool work, a plugin of the archive survives dlclose; 1 passed, 0 failed"
