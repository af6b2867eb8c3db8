# The README's example program builds and runs.
za_add_test(NAME example_hello SOURCES ${PROJECT_SOURCE_DIR}/examples/hello.c LABELS core)
set_tests_properties(example_hello PROPERTIES PASS_REGULAR_EXPRESSION "hello from pfn [0-9]+")

# Installing gives a user what they need: header, libraries, pkg-config
# file and the tool (built first: the test installs the whole build).
find_program(ZA_PKG_CONFIG pkg-config)
if(ZA_PKG_CONFIG AND NOT ZA_SANITIZE)
  add_test(NAME install_pkgconfig
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/install_check.sh
                   ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties(install_pkgconfig PROPERTIES LABELS core)
endif()
# The same for a CMake user: find_package(zonealloc) after an install.
if(NOT ZA_SANITIZE)
  add_test(NAME install_cmake_package
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/install_cmake_check.sh
                   ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties(install_cmake_package PROPERTIES LABELS core)
endif()
