# hostile.cmake - hostile input and careless callers (issue 12): every
# entry point survives, says what was wrong, and loses nothing. One ctest
# test per defect: each source file holds several cases, and each case is
# registered on its own (run by name) from one executable. Label: hostile.
#
# Run as a script (cmake -P tests/hostile.cmake) it is the check of one
# tool case: EXE runs with ARGS ('|'-separated) and must exit with RC, its
# stdout+stderr matching REGEX; with STDOUT, standard output goes to that
# file (/dev/full: a write error); with SIGINT_AFTER (seconds), the run gets
# a SIGINT that long after it starts; TRACE names a file written first with
# the lines of TRACE_LINES ('|'-separated).
if(CMAKE_SCRIPT_MODE_FILE)
  string(REPLACE "|" ";" _args "${ARGS}")
  if(DEFINED TRACE)
    string(REPLACE "|" "\n" _t "${TRACE_LINES}")
    file(WRITE "${TRACE}" "${_t}\n")
  endif()
  if(DEFINED SIGINT_AFTER)
    # exec: the shell's pid is the tool's (no job-control SIGINT ignore).
    set(_q "")
    foreach(_a ${_args})
      string(APPEND _q " '${_a}'")
    endforeach()
    execute_process(COMMAND sh -c
      "'${EXE}'${_q} & p=$!; sleep ${SIGINT_AFTER}; kill -INT $p; wait $p"
      RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  elseif(DEFINED STDOUT)
    execute_process(COMMAND ${EXE} ${_args} OUTPUT_FILE "${STDOUT}"
                    RESULT_VARIABLE _rc ERROR_VARIABLE _err)
    set(_out "")
  else()
    execute_process(COMMAND ${EXE} ${_args}
                    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  endif()
  set(_all "${_out}${_err}")
  message("${_all}")
  if(NOT "${_rc}" STREQUAL "${RC}")
    message(FATAL_ERROR "zonealloc ${_args}: exit status ${_rc}, expected ${RC}")
  endif()
  if(NOT _all MATCHES "${REGEX}")
    message(FATAL_ERROR "zonealloc ${_args}: output does not match '${REGEX}'")
  endif()
  if(DEFINED NOT_REGEX AND _all MATCHES "${NOT_REGEX}")
    message(FATAL_ERROR "zonealloc ${_args}: output matches '${NOT_REGEX}'")
  endif()
  return()
endif()

# za_hostile_cases(EXE source.c CASES a b c [TIMEOUT s])
function(za_hostile_cases exe src)
  cmake_parse_arguments(H "" "TIMEOUT" "CASES" ${ARGN})
  if(NOT H_TIMEOUT)
    set(H_TIMEOUT 120)
  endif()
  list(POP_FRONT H_CASES _first)
  za_add_test(NAME ${exe}_${_first} SOURCES ${src} ARGS ${_first}
              LABELS hostile TIMEOUT ${H_TIMEOUT})
  foreach(_case ${H_CASES})
    add_test(NAME ${exe}_${_case} COMMAND ${exe}_${_first} ${_case})
    set_tests_properties(${exe}_${_case} PROPERTIES TIMEOUT ${H_TIMEOUT}
                         LABELS hostile SKIP_RETURN_CODE 77)
    if(ZA_TEST_ENV)
      set_tests_properties(${exe}_${_case} PROPERTIES ENVIRONMENT "${ZA_TEST_ENV}")
    endif()
  endforeach()
  set_tests_properties(${exe}_${_first} PROPERTIES SKIP_RETURN_CODE 77)
endfunction()

za_hostile_cases(hostile_api test_hostile_api.c
  CASES contig_huge oom_liar page_shift_big pcp_fixed min_free_huge sizes
        null_za page_to_pfn bad_nid offline_2zones report_full)

za_hostile_cases(hostile_callbacks test_hostile_callbacks.c
  CASES migrate_reenter nested_reenter shrinker_self shrinker_liar
        shrinker_liar_nodes
        error_recursion)

za_hostile_cases(hostile_offline_race test_hostile_offline_race.c
  CASES meta_readable race)

# --- the tool ----------------------------------------------------------------
if(NOT TARGET zonealloc_tool)
  return()
endif()

# za_hostile_tool(NAME RC REGEX [TIMEOUT s] [VARS -DX=... ...] ARGS ...)
function(za_hostile_tool name rc regex)
  cmake_parse_arguments(H "" "TIMEOUT" "VARS;ARGS" ${ARGN})
  if(NOT H_TIMEOUT)
    set(H_TIMEOUT 60)
  endif()
  string(REPLACE ";" "|" _args "${H_ARGS}")
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} "-DEXE=$<TARGET_FILE:zonealloc_tool>"
                   "-DARGS=${_args}" "-DRC=${rc}" "-DREGEX=${regex}" ${H_VARS}
                   -P ${CMAKE_CURRENT_FUNCTION_LIST_FILE})
  set_tests_properties(${name} PROPERTIES TIMEOUT ${H_TIMEOUT} LABELS "hostile;tool")
endfunction()

# 8. Output that cannot be written is a failure, with a message.
if(EXISTS /dev/full)
  za_hostile_tool(hostile_tool_info_full 1 "writing|Input/output|No space"
                  VARS -DSTDOUT=/dev/full ARGS info --mem 64M --report buddyinfo)
  # 'help' alone too (review 20, finding 5: it exited 0).
  za_hostile_tool(hostile_tool_help_full 1 "writing standard output failed"
                  VARS -DSTDOUT=/dev/full ARGS help)
  za_hostile_tool(hostile_tool_stress_json_full 1 "writing standard output"
                  VARS -DSTDOUT=/dev/full
                  ARGS stress --seconds 1 --mem 64M --quiet --json)
  set(_tr "${CMAKE_CURRENT_BINARY_DIR}/hostile-small.trace")
  za_hostile_tool(hostile_tool_replay_json_full 1 "writing standard output"
                  VARS -DSTDOUT=/dev/full "-DTRACE=${_tr}"
                  "-DTRACE_LINES=  a-1 [000] ..... 1.000001: mm_page_alloc: pfn=0x100 order=0 migratetype=0 gfp_flags=GFP_KERNEL|  a-1 [000] ..... 1.000002: mm_page_free: pfn=0x100 order=0"
                  ARGS replay --json ${_tr})
endif()

# 9. A trace whose pfn is too large for any memory size says so, and the
# size never wraps (to 0, or to 16 MiB with 8 KiB pages). The replay then
# builds the 64 GiB cap: seconds in release builds, minutes under TSan.
set(_tr "${CMAKE_CURRENT_BINARY_DIR}/hostile-hugepfn.trace")
za_hostile_tool(hostile_tool_replay_huge_pfn 0
                "highest pfn 0xffffffffff000 means more than 16 EiB"
                TIMEOUT 400 VARS "-DTRACE=${_tr}" "-DNOT_REGEX=--mem 0 B"
                "-DTRACE_LINES=  a-1 [000] ..... 1.000001: mm_page_alloc: pfn=0xffffffffff000 order=0 migratetype=0 gfp_flags=GFP_KERNEL|  a-1 [000] ..... 1.000002: mm_page_free: pfn=0xffffffffff000 order=0"
                ARGS replay --quiet ${_tr})
set(_tr "${CMAKE_CURRENT_BINARY_DIR}/hostile-hugepfn13.trace")
za_hostile_tool(hostile_tool_replay_huge_pfn_shift13 0
                "highest pfn 0x8000000000001 means more than 16 EiB"
                TIMEOUT 400 VARS "-DTRACE=${_tr}"
                "-DTRACE_LINES=  a-1 [000] ..... 1.000001: mm_page_alloc: pfn=0x8000000000001 order=0 migratetype=0 gfp_flags=GFP_KERNEL|  a-1 [000] ..... 1.000002: mm_page_free: pfn=0x8000000000001 order=0"
                ARGS replay --quiet --page-shift 13 ${_tr})

# 10. A one-page memory block is a usage error naming --block.
za_hostile_tool(hostile_tool_one_page_block 2 "--block 4 MiB holds a single page"
                ARGS info --page-shift 22 --block 4M --mem 4M)
# 4. page_shift 28..30 in the tool as in the library.
za_hostile_tool(hostile_tool_page_shift_28 0 "za_check: ok"
                ARGS info --page-shift 28 --block 512M --mem 512M --frames-only)
za_hostile_tool(hostile_tool_page_shift_30 0 "za_check: ok"
                ARGS info --page-shift 30 --block 2G --mem 4G --frames-only)

# 11. --inject corrupt must be able to fail the run: refused where it
# cannot.
za_hostile_tool(hostile_tool_inject_frames_only 2
                "--inject corrupt needs page contents.*--frames-only"
                ARGS stress --seconds 1 --mem 64M --quiet --inject corrupt
                     --frames-only)
za_hostile_tool(hostile_tool_inject_verify_off 2
                "--inject corrupt.*--verify off"
                ARGS stress --seconds 1 --mem 64M --quiet --inject corrupt
                     --verify off)

# 12. SIGINT ends a stress run early: the checks still run, and it says
# so and exits 130.
za_hostile_tool(hostile_tool_stress_sigint 130
                "INTERRUPTED.*interrupted [(]SIGINT[)]"
                VARS -DSIGINT_AFTER=2
                ARGS stress --seconds 60 --mem 64M --threads 2)

# ... the fragment scenario too: its result line says INTERRUPTED, its
# JSON "interrupted" (review 20, finding 4: it said PASS).
za_hostile_tool(hostile_tool_fragment_sigint 130
                "result +INTERRUPTED [(]stopped early; checks held[)].*interrupted [(]SIGINT[)]"
                VARS -DSIGINT_AFTER=2
                ARGS stress --scenario fragment --seconds 60 --mem 64M --threads 2)
za_hostile_tool(hostile_tool_fragment_sigint_json 130
                "\"interrupted\":true,\"result\":\"pass\"}"
                VARS -DSIGINT_AFTER=2
                ARGS stress --scenario fragment --seconds 60 --mem 64M --threads 2
                     --json --quiet)

# 13. --zones without movable: no ZONE_MOVABLE, whatever the scenario.
za_hostile_tool(hostile_tool_zones_no_movable 0 "result +PASS"
                VARS "-DNOT_REGEX=with movable"
                ARGS stress --scenario hotplug --seconds 1 --mem 64M --quiet
                     --zones dma32,normal)
