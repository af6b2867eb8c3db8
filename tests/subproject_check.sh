#!/bin/sh
# subproject_check.sh SOURCE_DIR - build zonealloc inside another project,
# the way a user who vendors it does (add_subdirectory; FetchContent's
# FetchContent_MakeAvailable does the same). The parent links the names an
# install gives (zonealloc::zonealloc, zonealloc::zonealloc_static) and
# gets the libraries only: no test, benchmark or command of zonealloc's
# among its targets or in its ctest, and none of zonealloc's compile
# options or C standard on its own targets. Its choice of zonealloc's
# options holds (ZA_USE_NUMA=OFF: no libnuma). CC and ZA_TOOLCHAIN_FILE (both
# optional, set by ctest): the build's compiler and toolchain file.
set -eu
cc=${CC:-cc}
toolchain=""
[ -n "${ZA_TOOLCHAIN_FILE:-}" ] && toolchain="-DCMAKE_TOOLCHAIN_FILE=$ZA_TOOLCHAIN_FILE"
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir "$work/parent"
cp "$src/examples/hello.c" "$src/examples/hugemem.h" "$work/parent/"
cat >"$work/parent/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(parent C)
enable_testing()
# The parent chooses zonealloc's options with plain variables (CMP0077):
# here a build without libnuma, even where it is installed.
set(ZA_USE_NUMA OFF)
add_subdirectory(${ZA_SRC} zonealloc)
add_executable(hello_shared hello.c)
target_link_libraries(hello_shared PRIVATE zonealloc::zonealloc)
add_executable(hello_static hello.c)
target_link_libraries(hello_static PRIVATE zonealloc::zonealloc_static)
foreach(t zonealloc_tool zatrace freestanding_core faults example_hello bench_hotline)
  if(TARGET ${t})
    message(FATAL_ERROR "zonealloc's target ${t} is built in its parent")
  endif()
endforeach()
get_target_property(opts hello_static COMPILE_OPTIONS)
if(opts)
  message(FATAL_ERROR "zonealloc's compile options reach its parent: ${opts}")
endif()
if(DEFINED CMAKE_C_STANDARD)
  message(FATAL_ERROR "zonealloc sets its parent's C standard")
endif()
CMAKE
# shellcheck disable=SC2086 # $toolchain: empty or one word
if ! cmake -S "$work/parent" -B "$work/b" -DZA_SRC="$src" \
	-DCMAKE_C_COMPILER="$cc" $toolchain >"$work/log" 2>&1; then
	cat "$work/log"
	echo "subproject: the parent project does not configure"
	exit 1
fi
if ! ctest --test-dir "$work/b" -N | grep -q "Total Tests: 0"; then
	ctest --test-dir "$work/b" -N | tail -n 3
	echo "subproject: zonealloc's tests run in its parent's ctest"
	exit 1
fi
cmake --build "$work/b" >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
if readelf -d "$(find "$work/b/zonealloc" -name 'libzonealloc.so' | head -n1)" |
	grep -q "NEEDED.*libnuma"; then
	echo "subproject: ZA_USE_NUMA=OFF built a library that needs libnuma"
	exit 1
fi
"$work/b/hello_shared" | grep -q "hello from pfn"
"$work/b/hello_static" | grep -q "hello from pfn"
echo "subproject: add_subdirectory gives zonealloc::zonealloc and zonealloc::zonealloc_static, the libraries only, without libnuma when asked; 1 passed, 0 failed"
