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

# The aids through the tool (docs/TOOL.md): --page-owner, --poison and
# --init-on-alloc on the commands that build an allocator. Each run must
# fail if the option did not reach za_create: the page owner's summary
# names the tool's allocation sites (exported functions), a write after
# free is reported by poisoning only, and with init-on-alloc the stress
# workload checks that every block it gets is zero.
if(TARGET zonealloc_tool)
  # za_debug_tool_test(NAME RC REGEX ARGS...): tool.cmake's check.
  function(za_debug_tool_test name rc regex)
    string(REPLACE ";" "|" _args "${ARGN}")
    add_test(NAME ${name}
             COMMAND ${CMAKE_COMMAND} "-DEXE=$<TARGET_FILE:zonealloc_tool>"
                     "-DARGS=${_args}" "-DRC=${rc}" "-DREGEX=${regex}"
                     -P ${CMAKE_CURRENT_LIST_DIR}/tool.cmake)
    set_tests_properties(${name} PROPERTIES TIMEOUT 60 LABELS "tool;debug")
  endfunction()

  za_debug_tool_test(tool_stress_page_owner 0
    "result +PASS\n\n== page owner [(]mixed[)]: blocks held when the workers stopped, by allocation site ==\n[0-9]+ times, [0-9]+ pages:\n stress_(alloc_one|bulk_alloc)[+]0x"
    stress --seconds 1 --mem 64M --quiet --page-owner)
  # The per-block report, written to the standard output as FILE; the
  # offline scenario's moved blocks are in it too.
  za_debug_tool_test(tool_stress_page_owner_report 0
    "# scenario offline: blocks held when the workers stopped\nPage allocated via order [0-9]+, mask 0x[0-9a-f]+[(][^)]+[)], pid [0-9]+, tgid [0-9]+ [(]zonealloc[)], ts [0-9]+ ns, cpu [0-9]+\nPFN 0x[0-9a-f]+ type [A-Za-z]+ Block [0-9]+ type [A-Za-z]+ Flags (0x[0-9a-f]+|0)[(]node=0[|]zone=[0-9][)]\n .*stress_alloc_one[+]0x.*result +PASS"
    stress --scenario offline --seconds 1 --mem 64M --quiet --page-owner
    --page-owner-report /dev/stdout)
  za_debug_tool_test(tool_stress_page_owner_json 0
    "\"page_owner_summary\":\"[0-9]+ times, [0-9]+ pages:\\\\n stress_"
    stress --seconds 1 --mem 64M --quiet --json --page-owner)
  # A write after free: one thread, so that the page comes back to the
  # injecting worker at once; the report names its allocation and free.
  # (The check sees stdout, the table, before stderr, the messages.)
  za_debug_tool_test(tool_stress_use_after_free 1
    "misuse reports 1,.*result +FAIL.*injected: pfn 0x[0-9a-f]+ written at offset 64 after its free\n.*poison mismatch [(]write after free[)] in pfn 0x[0-9a-f]+ at offset 64: 0x5a, expected 0xaa [[]page owner: block pfn 0x[0-9a-f]+ order 0 allocated by stress_inject_use_after_free[+][^;]+; last freed by stress_inject_use_after_free[+]"
    stress --seconds 1 --mem 64M --quiet --threads 1 --poison --page-owner
    --inject use-after-free)
  za_debug_tool_test(tool_stress_init_on_alloc 0
    "check failures +verify 0, zero 0, .*result +PASS"
    stress --seconds 1 --mem 64M --quiet --init-on-alloc --poison)
  za_debug_tool_test(tool_info_debug_aids 0
    "# debugging aids: page owner, poisoning [(]0xaa[)], init-on-alloc\n.*==> page_owner_summary <==\n\nza_check: ok"
    info --mem 64M --page-owner --poison --init-on-alloc
    --report buddyinfo --report page_owner_summary)
  za_debug_tool_test(tool_info_page_owner_empty 0 "^$"
    info --mem 64M --page-owner --report page_owner)

  # What cannot work is a usage error that says why.
  za_debug_tool_test(tool_poison_frames_only 2
    "--poison fills freed pages with a pattern and needs backing memory: not with --frames-only"
    stress --seconds 1 --frames-only --poison)
  za_debug_tool_test(tool_init_on_alloc_frames_only 2
    "--init-on-alloc zeroes the memory of each allocation and needs backing memory: not with --frames-only"
    info --frames-only --init-on-alloc)
  za_debug_tool_test(tool_report_page_owner_off 2
    "--report page_owner and page_owner_summary need --page-owner"
    info --report page_owner_summary)
  za_debug_tool_test(tool_page_owner_report_off 2
    "--page-owner-report needs --page-owner"
    stress --seconds 1 --page-owner-report /dev/null)
  za_debug_tool_test(tool_inject_uaf_needs_poison 2
    "--inject use-after-free is caught by the allocator's poisoning: it needs --poison"
    stress --seconds 1 --inject use-after-free)
  za_debug_tool_test(tool_replay_poison 2
    "--poison works on page contents, and a replay has frame numbers only"
    replay --poison ${CMAKE_CURRENT_LIST_DIR}/data/formats.trace)
  za_debug_tool_test(tool_page_owner_flag_value 2
    "option '--page-owner' takes no value" info --page-owner=1)
endif()
