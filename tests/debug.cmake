# tests/debug.cmake - the debugging aids (docs/DEBUGGING.md): page owner,
# poisoning and init-on-alloc, page-allocation fault injection.
za_add_test(NAME debug_owner SOURCES test_debug_owner.c LABELS core debug TIMEOUT 60)
# dladdr names the test's own functions only when it exports them.
set_target_properties(debug_owner PROPERTIES ENABLE_EXPORTS ON)
za_add_test(NAME debug_poison SOURCES test_debug_poison.c LABELS core debug TIMEOUT 60)
za_add_test(NAME debug_fault SOURCES test_debug_fault.c LABELS core debug TIMEOUT 120)
# Its threads again on real CPUs, the page sets restartable.
za_add_rseq_run(NAME debug_fault)

# Every stress scenario of the tool with page-allocation faults injected
# into every kind of request (5% of them): each must end with every page
# back and za_check clean (the tool fails the run otherwise).
if(TARGET zonealloc_tool)
  set(_fail_args stress --scenario all --seconds 2 --mem 128M --quiet
      --sysctl fail_page_alloc.probability=5 --sysctl fail_page_alloc.times=-1
      --sysctl fail_page_alloc.min-order=0 --sysctl fail_page_alloc.ignore-gfp-wait=0
      --sysctl fail_page_alloc.ignore-gfp-atomic=0 --sysctl fail_page_alloc.verbose=0)
  string(REPLACE ";" "|" _fail_args "${_fail_args}")
  add_test(NAME tool_stress_fail_page_alloc
           COMMAND ${CMAKE_COMMAND} "-DEXE=$<TARGET_FILE:zonealloc_tool>"
                   "-DARGS=${_fail_args}" "-DRC=0"
                   "-DREGEX=fails\\)\n.*result +PASS.*result +PASS.*result +PASS.*result +PASS"
                   -P ${CMAKE_CURRENT_LIST_DIR}/tool.cmake)
  set_tests_properties(tool_stress_fail_page_alloc PROPERTIES TIMEOUT 180
                       LABELS "tool;debug")
  add_test(NAME tool_sysctl_fail_range
           COMMAND ${CMAKE_COMMAND} "-DEXE=$<TARGET_FILE:zonealloc_tool>"
                   "-DARGS=info|--sysctl|fail_page_alloc.probability=101" "-DRC=2"
                   "-DREGEX=value out of range for fail_page_alloc.probability"
                   -P ${CMAKE_CURRENT_LIST_DIR}/tool.cmake)
  set_tests_properties(tool_sysctl_fail_range PROPERTIES TIMEOUT 30
                       LABELS "tool;debug")
endif()
