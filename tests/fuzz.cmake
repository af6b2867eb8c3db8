# fuzz.cmake - the API fuzzer's tests (tests/fuzz/, docs/VERIFICATION.md):
#   fuzz_corpus   replays every input of tests/fuzz/corpus/ (the seeds and
#                 the regression inputs of crashes found) through the
#                 harness, built with the project's compiler and flags:
#                 runs in every build, sanitizer builds included;
#   fuzz_short    builds the libFuzzer binary with clang (tests/fuzz/run.sh)
#                 and fuzzes for 60 seconds from the corpus; skipped (77)
#                 without clang's libFuzzer, and not registered in the
#                 sanitizer builds (the fuzzer brings its own ASan+UBSan);
#   fuzz_regress_*  one small test per library bug the fuzzer found.

za_add_test(NAME fuzz_corpus
            SOURCES fuzz/fuzz_api.c fuzz/replay_main.c
            ARGS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus
            LABELS fuzz TIMEOUT 600)

if(ZA_SANITIZE STREQUAL "")
  find_program(ZA_CLANG NAMES clang clang-16 clang-15 clang-14)
  add_test(NAME fuzz_short
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run.sh -t 60
                   -w ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work)
  set_tests_properties(fuzz_short PROPERTIES
    TIMEOUT 400
    SKIP_RETURN_CODE 77
    LABELS "fuzz"
    ENVIRONMENT "CLANG=$<IF:$<BOOL:${ZA_CLANG}>,${ZA_CLANG},clang>")
endif()

file(GLOB _za_fuzz_regress CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_SOURCE_DIR}/test_fuzz_regress_*.c)
foreach(_src ${_za_fuzz_regress})
  get_filename_component(_name ${_src} NAME_WE)
  string(REPLACE "test_" "" _name ${_name})
  za_add_test(NAME ${_name} SOURCES ${_src} LABELS fuzz TIMEOUT 120)
endforeach()
