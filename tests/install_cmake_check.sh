#!/bin/sh
# install_cmake_check.sh BUILD_DIR SOURCE_DIR - install zonealloc into a
# scratch prefix and build the README example against it the way a CMake
# user would: find_package(zonealloc) and the imported targets
# zonealloc::zonealloc (shared) and zonealloc::zonealloc_static. The
# version file must accept this version and refuse another minor one.
# CC and ZA_TOOLCHAIN_FILE (both optional, set by ctest): the build's
# compiler and, when cross-compiling, its toolchain file.
set -eu
cc=${CC:-cc}
toolchain=""
[ -n "${ZA_TOOLCHAIN_FILE:-}" ] && toolchain="-DCMAKE_TOOLCHAIN_FILE=$ZA_TOOLCHAIN_FILE"
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
# Installed in one place and used from another: the package finds itself
# relative to its files (a copied or staged tree, DESTDIR).
cmake --install "$build" --prefix "$work/staged" >/dev/null
mv "$work/staged" "$prefix"
cfg=$(find "$prefix" -name zonealloc-config.cmake | head -n1)
[ -n "$cfg" ] || { echo "no zonealloc-config.cmake installed"; exit 1; }
# The imported targets name what they link by target or by library name,
# never by a file of the build machine: an absolute path (the build's
# libnuma.so, say) is a file the user's machine may not have there.
if grep -h "INTERFACE_LINK_LIBRARIES" "$(dirname "$cfg")"/zonealloc-targets*.cmake |
	grep -Eq '("|;|:)/'; then
	grep -h "INTERFACE_LINK_LIBRARIES" "$(dirname "$cfg")"/zonealloc-targets*.cmake
	echo "the installed targets link a file of the build machine by its absolute path"
	exit 1
fi
[ -f "$(dirname "$cfg")/zonealloc-config-version.cmake" ] ||
	{ echo "no zonealloc-config-version.cmake installed"; exit 1; }
[ -f "$prefix/include/zonealloc_version.h" ] ||
	{ echo "no zonealloc_version.h installed"; exit 1; }
version=$(sed -n 's/^project(zonealloc VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[ -n "$version" ] || { echo "no version in $src/CMakeLists.txt"; exit 1; }

# A consumer project outside the source tree.
mkdir "$work/consumer"
cp "$src/examples/hello.c" "$src/examples/hugemem.h" "$work/consumer/"
cat >"$work/consumer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(consumer C)
find_package(zonealloc \${WANT} REQUIRED)
if(NOT zonealloc_VERSION STREQUAL "$version")
  message(FATAL_ERROR "found zonealloc \${zonealloc_VERSION}, built $version")
endif()
add_executable(hello_shared hello.c)
target_link_libraries(hello_shared PRIVATE zonealloc::zonealloc)
add_executable(hello_static hello.c)
target_link_libraries(hello_static PRIVATE zonealloc::zonealloc_static)
add_library(plugin MODULE plugin.c)
target_link_libraries(plugin PRIVATE zonealloc::zonealloc_static)
set_target_properties(plugin PROPERTIES PREFIX "")
CMAKE
# A plugin that links the archive and hands its caller the API (the
# tree's shared_dlclose test loads it like libzonealloc.so).
cp "$src/tests/install_plugin.c" "$work/consumer/plugin.c"
want=$(echo "$version" | cut -d. -f1,2)
# shellcheck disable=SC2086 # $toolchain: empty or one word
if ! cmake -S "$work/consumer" -B "$work/cb" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_C_COMPILER="$cc" $toolchain -DWANT="$want" >"$work/log" 2>&1; then
	cat "$work/log"
	echo "find_package(zonealloc $want) failed"
	exit 1
fi
cmake --build "$work/cb" >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
# The shared one finds its library through the installed path, not the
# build tree's.
LD_LIBRARY_PATH=$(dirname "$(find "$prefix" -name 'libzonealloc.so' | head -n1)") \
	"$work/cb/hello_shared" | grep -q "hello from pfn"
# What each program asks the loader for (readelf, not ldd: it reads the
# file of any architecture): the shared one needs libzonealloc and has no
# search path into the build tree, the static one needs no libzonealloc.
dyn=$(readelf -d "$work/cb/hello_shared")
echo "$dyn" | grep -q "NEEDED.*libzonealloc" ||
	{ echo "hello_shared does not need libzonealloc"; exit 1; }
if echo "$dyn" | grep -E "R(UN)?PATH" | grep -q "$build"; then
	echo "hello_shared links the build tree's library"; exit 1
fi
"$work/cb/hello_static" | grep -q "hello from pfn"
if readelf -d "$work/cb/hello_static" | grep -q "NEEDED.*libzonealloc"; then
	echo "hello_static links the shared library"; exit 1
fi

# The plugin, loaded, used on this thread (restartable page sets where
# the build has them) and closed with dlclose: the thread must survive
# the kernel's next look at its rseq area, so the archive made the
# plugin's link -z nodelete (CMakeLists.txt) as it does the shared one's.
"$build/tests/shared_dlclose" "$work/cb/plugin.so" >"$work/log" 2>&1 ||
	{ cat "$work/log"; echo "a plugin linking zonealloc::zonealloc_static does not survive dlclose"; exit 1; }

# Another minor version, older or newer, is refused by the version file
# (before 1.0 a minor release may change the API).
major=$(echo "$version" | cut -d. -f1)
minor=$(echo "$version" | cut -d. -f2)
others="$major.$((minor + 1))"
[ "$minor" -gt 0 ] && others="$others $major.$((minor - 1))"
for other in $others; do
	# shellcheck disable=SC2086
	if cmake -S "$work/consumer" -B "$work/cb-$other" \
		-DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" $toolchain \
		-DWANT="$other" >"$work/log" 2>&1; then
		echo "find_package(zonealloc $other) accepted version $version"
		exit 1
	fi
done
echo "install: find_package(zonealloc $want) finds $version; shared and static targets build and run, a plugin of the archive survives dlclose; 1 passed, 0 failed"
