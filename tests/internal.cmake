# Tests that reach the library's internals: za_check against deliberately
# broken states, the lock-order witness and the debug assertions.
za_add_test(NAME check_broken SOURCES test_check_broken.c LABELS core)
za_add_test(NAME lock_order SOURCES test_lock_order.c LABELS core)
set_tests_properties(lock_order PROPERTIES SKIP_RETURN_CODE 77)
# Lock-held and page-state assertions fire on broken states (death tests).
za_add_test(NAME assertions SOURCES test_assertions.c LABELS core)
set_tests_properties(assertions PROPERTIES SKIP_RETURN_CODE 77)
za_add_test(NAME faults SOURCES test_faults.c LABELS core)

# The shared library: its exports are enough for a real program.
add_executable(shared_lib test_shared_lib.c)
target_link_libraries(shared_lib PRIVATE zonealloc_shared)
add_test(NAME shared_lib COMMAND shared_lib)
set_tests_properties(shared_lib PROPERTIES LABELS core)
# ... loaded with dlopen, used and closed: dlclose leaves it mapped, as
# the restartable sequences' descriptors must stay (-z nodelete).
add_executable(shared_dlclose test_shared_dlclose.c)
target_include_directories(shared_dlclose PRIVATE ${ZA_PUBLIC_INCLUDE_DIRS} ${PROJECT_SOURCE_DIR}/src
                           ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(shared_dlclose PRIVATE ZA_DEBUG=${ZA_DEBUG} _GNU_SOURCE)
target_link_libraries(shared_dlclose PRIVATE ${CMAKE_DL_LIBS})
add_dependencies(shared_dlclose zonealloc_shared)
add_test(NAME shared_dlclose COMMAND shared_dlclose $<TARGET_FILE:zonealloc_shared>)
set_tests_properties(shared_dlclose PROPERTIES LABELS core TIMEOUT 60)

# The private namespace: nm over both libraries (tests/symbols.sh).
add_test(NAME symbols
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/symbols.sh ${CMAKE_NM}
                 $<TARGET_FILE:zonealloc_static> $<TARGET_FILE:zonealloc_shared>
                 ${PROJECT_SOURCE_DIR}/include/zonealloc.h)
set_tests_properties(symbols PROPERTIES LABELS core)

# The restartable sequence of every architecture assembles (clang's cross
# targets), whatever machine runs the tests (tests/rseq_arch.sh).
find_program(ZA_CLANG_CROSS NAMES clang clang-16 clang-15 clang-14)
if(ZA_CLANG_CROSS)
  add_test(NAME rseq_arch
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/rseq_arch.sh ${ZA_CLANG_CROSS}
                   ${PROJECT_SOURCE_DIR})
  set_tests_properties(rseq_arch PROPERTIES LABELS core)
  # The library compiles without a warning under clang too, with this
  # build's definitions and -Werror (tests/clang_check.sh).
  add_test(NAME clang_warnings
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/clang_check.sh ${ZA_CLANG_CROSS}
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}
                   ZA_DEBUG=${ZA_DEBUG} ZA_BUILDING=1 ZA_HAVE_NUMA=${ZA_HAVE_NUMA}
                   _GNU_SOURCE ZA_HAVE_RSEQ_SEQ=${ZA_HAVE_RSEQ_SEQ})
  set_tests_properties(clang_warnings PROPERTIES LABELS core TIMEOUT 300)
endif()
