# The core compiles freestanding: every file of src/ but the hosted front
# ends (src/stdio.c) and the OS layer (src/platform/), with -ffreestanding
# and no C library headers but the compiler's own and the stubs of
# tests/freestanding/include/, against the stub platform of
# tests/freestanding/platform_stub.c. And it links: the core, the stub
# platform and tests/freestanding/libc_stub.c (the C library functions
# docs/ARCHITECTURE.md lists, nothing else) with -nostdlib and libgcc,
# never run. Both are part of every build, so a libc or OS dependency
# creeping into the core, or a platform function the core calls that the
# stub platform lacks, breaks the build (docs/ARCHITECTURE.md,
# "Embedding").
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
  # GCC on AArch64 makes atomics calls into libgcc (-moutline-atomics),
  # whose CPU-feature probe needs the C library's getauxval; a kernel
  # compiles without them, and so does this check.
  # (Asked of AArch64 compilers only: clang takes the flag for x86-64
  # too, and says at every file that it ignores it.)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    include(CheckCCompilerFlag)
    check_c_compiler_flag(-mno-outline-atomics ZA_CC_NO_OUTLINE_ATOMICS)
    if(ZA_CC_NO_OUTLINE_ATOMICS)
      target_compile_options(freestanding_core PRIVATE -mno-outline-atomics)
    endif()
  endif()
  # The link: only what is named here, whatever the build links other
  # programs with (the sanitizers' runtimes are the C library's users).
  add_executable(freestanding_link ${CMAKE_CURRENT_SOURCE_DIR}/freestanding/libc_stub.c)
  target_link_libraries(freestanding_link PRIVATE freestanding_core gcc)
  get_target_property(_fs_opts freestanding_core COMPILE_OPTIONS)
  target_compile_options(freestanding_link PRIVATE ${_fs_opts})
  set_property(TARGET freestanding_link PROPERTY LINK_OPTIONS -nostdlib -static)
else()
  message(STATUS "zonealloc: no freestanding build check (compiler headers not found)")
endif()
