# Checks of the source tree itself (label `source`); they need no build.
#
# format: the C files of the directories scripts/format.sh keeps formatted
# are laid out as .clang-format says (skipped without clang-format 14).
find_program(ZA_CLANG_FORMAT NAMES clang-format-14 clang-format)
if(ZA_CLANG_FORMAT)
  set(_za_cf ${ZA_CLANG_FORMAT})
else()
  set(_za_cf clang-format)
endif()
add_test(NAME format
         COMMAND ${CMAKE_COMMAND} -E env CLANG_FORMAT=${_za_cf}
                 sh ${PROJECT_SOURCE_DIR}/scripts/format.sh --check)
set_tests_properties(format PROPERTIES LABELS source TIMEOUT 120
                     SKIP_RETURN_CODE 77)

# api_names: every public name of include/zonealloc.h is in docs/API.md.
add_test(NAME api_names
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/api_names.sh
                 ${PROJECT_SOURCE_DIR}/include/zonealloc.h
                 ${PROJECT_SOURCE_DIR}/include/zonealloc_version.h.in
                 ${PROJECT_SOURCE_DIR}/docs/API.md)
set_tests_properties(api_names PROPERTIES LABELS source TIMEOUT 60)

# header: include/zonealloc.h compiles in a user's program as C11, C17,
# C2x, freestanding and C++ (when there is a C++ compiler), with
# -pedantic -Werror and stricter warnings (tests/header_check.sh).
include(CheckLanguage)
check_language(CXX)
add_test(NAME header
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/header_check.sh
                 ${CMAKE_C_COMPILER} "${CMAKE_CXX_COMPILER}" ${ZA_PUBLIC_INCLUDE_DIRS})
set_tests_properties(header PROPERTIES LABELS source TIMEOUT 120
                     ENVIRONMENT NM=${CMAKE_NM})
