# The README's example program builds and runs.
za_add_test(NAME example_hello SOURCES ${PROJECT_SOURCE_DIR}/examples/hello.c LABELS core)
set_tests_properties(example_hello PROPERTIES PASS_REGULAR_EXPRESSION "hello from pfn [0-9]+")
# hello --hugepages maps its memory with examples/hugemem.h, as the
# balloon and the tool do: no reserved huge pages here (a meminfo file of
# ours), so transparent ones, or base pages where the kernel has none. The
# check is tool.cmake's: exit status and output. Anything else is a usage
# error (exit 2).
foreach(_t hugepages usage)
  if(_t STREQUAL "hugepages")
    set(_args --hugepages)
    set(_rc 0)
    set(_re "# backing: (transparent huge pages [(]madvise[)]|base pages), 128 MiB[^\n]*0 reserved huge pages free[^\n]*\nhello from pfn [0-9]+\n")
  else()
    set(_args --bogus)
    set(_rc 2)
    set(_re "usage: hello [[]--hugepages[]]")
  endif()
  add_test(NAME example_hello_${_t}
           COMMAND ${CMAKE_COMMAND} "-DEXE=$<TARGET_FILE:example_hello>"
                   "-DARGS=${_args}" -DRC=${_rc} "-DREGEX=${_re}"
                   -P ${CMAKE_CURRENT_LIST_DIR}/tool.cmake)
  set_tests_properties(example_hello_${_t} PROPERTIES LABELS core TIMEOUT 60)
endforeach()
set_property(TEST example_hello_hugepages APPEND PROPERTY ENVIRONMENT
             HUGEMEM_MEMINFO=${CMAKE_CURRENT_SOURCE_DIR}/data/meminfo_no_hugetlb
             HUGEMEM_THP_ENABLED=${CMAKE_CURRENT_SOURCE_DIR}/data/thp_madvise)

# Installing gives a user what they need: header, libraries, pkg-config
# file and the tool (built first: the test installs the whole build).
find_program(ZA_PKG_CONFIG pkg-config)
if(ZA_PKG_CONFIG AND NOT ZA_SANITIZE)
  add_test(NAME install_pkgconfig
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/install_check.sh
                   ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties(install_pkgconfig PROPERTIES LABELS core)
endif()
# Both build their consumer with this build's compiler (and toolchain file,
# when cross-compiling: scripts/cross-test.sh).
set(ZA_INSTALL_TEST_ENV CC=${CMAKE_C_COMPILER})
if(CMAKE_TOOLCHAIN_FILE)
  list(APPEND ZA_INSTALL_TEST_ENV ZA_TOOLCHAIN_FILE=${CMAKE_TOOLCHAIN_FILE})
endif()
# The same for a CMake user: find_package(zonealloc) after an install.
if(NOT ZA_SANITIZE)
  add_test(NAME install_cmake_package
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/install_cmake_check.sh
                   ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties(install_cmake_package PROPERTIES LABELS core
                       ENVIRONMENT "${ZA_INSTALL_TEST_ENV}")
endif()
# ... and for one that builds zonealloc inside its own (add_subdirectory).
if(NOT ZA_SANITIZE)
  add_test(NAME subproject
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/subproject_check.sh
                   ${PROJECT_SOURCE_DIR})
  set_tests_properties(subproject PROPERTIES LABELS core TIMEOUT 600
                       ENVIRONMENT "${ZA_INSTALL_TEST_ENV}")
endif()
if(TEST install_pkgconfig)
  # The command is installed when it is built (ZA_BUILD_TOOLS).
  if(TARGET zonealloc_tool)
    set(_za_tool 1)
  else()
    set(_za_tool 0)
  endif()
  set_tests_properties(install_pkgconfig PROPERTIES
                       ENVIRONMENT "${ZA_INSTALL_TEST_ENV};ZA_INSTALL_TOOL=${_za_tool}")
endif()

# examples/balloon.c: free page reporting gives freed guest RAM back to the
# host (the resident size falls after a wave of frees), and without
# reporting it does not. --hugepages falls back as hugemem.h says: the
# machine's /proc/meminfo and THP switch are replaced by files of ours, so
# that the fallback paths run on any machine.
za_add_test(NAME example_balloon SOURCES ${PROJECT_SOURCE_DIR}/examples/balloon.c
            ARGS --check --mem 128 --waves 2 --delay 20 LABELS reporting TIMEOUT 120)
add_test(NAME example_balloon_no_reporting
         COMMAND example_balloon --no-reporting --check --mem 128 --waves 2 --delay 20)
add_test(NAME example_balloon_hugepages_thp
         COMMAND example_balloon --hugepages --check --mem 128 --waves 2 --delay 20)
add_test(NAME example_balloon_hugepages_off
         COMMAND example_balloon --hugepages --check --mem 128 --waves 1 --delay 20)
set_tests_properties(example_balloon_no_reporting example_balloon_hugepages_thp
                     example_balloon_hugepages_off PROPERTIES LABELS reporting TIMEOUT 120)
set_property(TEST example_balloon_hugepages_thp example_balloon_hugepages_off APPEND
             PROPERTY ENVIRONMENT HUGEMEM_MEMINFO=${CMAKE_CURRENT_SOURCE_DIR}/data/meminfo_no_hugetlb)
set_property(TEST example_balloon_hugepages_thp APPEND
             PROPERTY ENVIRONMENT HUGEMEM_THP_ENABLED=${CMAKE_CURRENT_SOURCE_DIR}/data/thp_madvise)
set_property(TEST example_balloon_hugepages_off APPEND
             PROPERTY ENVIRONMENT HUGEMEM_THP_ENABLED=${CMAKE_CURRENT_SOURCE_DIR}/data/thp_never)
# No reserved huge pages: transparent ones (or, where the kernel has none,
# madvise says so); THP off: base pages. Either way the waves pass --check.
set_tests_properties(example_balloon_hugepages_thp PROPERTIES
  PASS_REGULAR_EXPRESSION "backing: (transparent huge pages \\(madvise\\)|base pages)[^\n]*0 reserved huge pages free"
  FAIL_REGULAR_EXPRESSION "did not|za_check")
set_tests_properties(example_balloon_hugepages_off PROPERTIES
  PASS_REGULAR_EXPRESSION "backing: base pages[^\n]*transparent huge pages are off"
  FAIL_REGULAR_EXPRESSION "did not|za_check")
