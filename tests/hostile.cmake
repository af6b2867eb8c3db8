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
        error_recursion)

za_hostile_cases(hostile_offline_race test_hostile_offline_race.c
  CASES meta_readable race)
