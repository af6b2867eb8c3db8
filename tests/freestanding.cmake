# The core compiles freestanding: every file of src/ but the hosted front
# ends (src/stdio.c) and the OS layer (src/platform/), with -ffreestanding
# and no C library headers but the compiler's own and the stubs of
# tests/freestanding/include/, against the stub platform of
# tests/freestanding/platform_stub.c. Compiled, never linked: an object
# library that is part of every build, so a libc or OS dependency creeping
# into the core breaks the build (docs/ARCHITECTURE.md, "Embedding").
if(CMAKE_C_COMPILER_ID MATCHES "GNU")
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
                  OUTPUT_VARIABLE ZA_CC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE)
elseif(CMAKE_C_COMPILER_ID MATCHES "Clang")
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-resource-dir
                  OUTPUT_VARIABLE ZA_CC_RESOURCE OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(ZA_CC_INCLUDE ${ZA_CC_RESOURCE}/include)
endif()
if(ZA_CC_INCLUDE AND EXISTS ${ZA_CC_INCLUDE}/stddef.h)
  set(ZA_CORE_SOURCES ${ZA_SOURCES})
  list(FILTER ZA_CORE_SOURCES EXCLUDE REGEX "/src/(stdio\\.c|platform/)")
  add_library(freestanding_core OBJECT ${ZA_CORE_SOURCES}
              ${CMAKE_CURRENT_SOURCE_DIR}/freestanding/platform_stub.c)
  target_include_directories(freestanding_core PRIVATE
                             ${PROJECT_SOURCE_DIR}/src ${ZA_PUBLIC_INCLUDE_DIRS})
  # The stubs come before the compiler's headers (its limits.h would look
  # for the C library's).
  target_compile_options(freestanding_core PRIVATE -ffreestanding -nostdinc
    "SHELL:-isystem ${CMAKE_CURRENT_SOURCE_DIR}/freestanding/include"
    "SHELL:-isystem ${ZA_CC_INCLUDE}" -fno-sanitize=all)
  target_compile_definitions(freestanding_core PRIVATE ZA_DEBUG=${ZA_DEBUG})
else()
  message(STATUS "zonealloc: no freestanding build check (compiler headers not found)")
endif()
