# tools/zatrace.cmake - the trace reader (tools/trace.h) as one static
# library, `zatrace`, built once for the zonealloc command, the trace_*
# unit tests and the benchmark's replay workload. Included by the
# top-level CMakeLists.txt whatever is built, so tests and benchmarks have
# it without the command.
#
# zlib and liblzma are optional and found here, once: with them the reader
# opens .gz and .xz traces (ZA_HAVE_ZLIB, ZA_HAVE_LZMA), and everything
# that links zatrace gets the libraries and the definitions with it
# (`zonealloc record` writes .xz, the tests write both).

find_package(ZLIB QUIET)
find_package(LibLZMA QUIET)
message(STATUS "zonealloc trace reader: zlib ${ZLIB_FOUND}, liblzma ${LIBLZMA_FOUND}")

# The three layers trace.h names: one line, a file, pairing frees.
add_library(zatrace STATIC
  ${CMAKE_CURRENT_LIST_DIR}/trace_parse.c
  ${CMAKE_CURRENT_LIST_DIR}/trace_reader.c
  ${CMAKE_CURRENT_LIST_DIR}/trace_match.c)
# It needs the public header's gfp constants, nothing of the library.
target_include_directories(zatrace PUBLIC ${CMAKE_CURRENT_LIST_DIR}
                           ${ZA_PUBLIC_INCLUDE_DIRS})
if(ZLIB_FOUND)
  target_link_libraries(zatrace PUBLIC ZLIB::ZLIB)
  target_compile_definitions(zatrace PUBLIC ZA_HAVE_ZLIB=1)
endif()
if(LIBLZMA_FOUND)
  target_link_libraries(zatrace PUBLIC LibLZMA::LibLZMA)
  target_compile_definitions(zatrace PUBLIC ZA_HAVE_LZMA=1)
endif()
