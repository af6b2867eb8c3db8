# tests/tool.cmake - ctest tests of the `zonealloc` command.
#
# One file, two roles. Included by tests/CMakeLists.txt, it registers the
# tests. Run as a script (cmake -P tests/tool.cmake) with EXE, ARGS
# ('|'-separated), RC and optionally REGEX, it is the check each test
# runs: the command must exit with exactly RC and its stdout+stderr must
# match REGEX. ctest alone can check "exit 0" or "output matches", not
# "exit 2 and says why", which is what a usage error must do.

if(CMAKE_SCRIPT_MODE_FILE)
  string(REPLACE "|" ";" _args "${ARGS}")
  execute_process(COMMAND ${EXE} ${_args}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  set(_all "${_out}${_err}")
  if(NOT "${_rc}" STREQUAL "${RC}")
    message("${_all}")
    message(FATAL_ERROR "zonealloc ${_args}: exit status ${_rc}, expected ${RC}")
  endif()
  if(DEFINED REGEX AND NOT "${REGEX}" STREQUAL "")
    if(NOT _all MATCHES "${REGEX}")
      message("${_all}")
      message(FATAL_ERROR "zonealloc ${_args}: output does not match '${REGEX}'")
    endif()
  endif()
  message("${_all}")
  return()
endif()

if(NOT TARGET zonealloc_tool)
  return()
endif()

# za_tool_test(NAME RC REGEX ARGS...)
function(za_tool_test name rc regex)
  string(REPLACE ";" "|" _args "${ARGN}")
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} "-DEXE=$<TARGET_FILE:zonealloc_tool>"
                   "-DARGS=${_args}" "-DRC=${rc}" "-DREGEX=${regex}"
                   -P ${CMAKE_CURRENT_LIST_FILE})
  set_tests_properties(${name} PROPERTIES TIMEOUT 30 LABELS tool)
endfunction()

# Help, version, and the errors a user meets first.
za_tool_test(tool_help 0 "Usage: zonealloc" --help)
za_tool_test(tool_version 0 "zonealloc [0-9]+[.][0-9]+" --version)
za_tool_test(tool_help_stress 0 "--scenario" help stress)
za_tool_test(tool_info_help 0 "--report" info --help)
za_tool_test(tool_bad_option 2 "unknown option '--bogus'" stress --bogus)
za_tool_test(tool_bad_command 2 "unknown command 'frobnicate'" frobnicate)
za_tool_test(tool_bad_size 2 "not a multiple of the memory block" info --mem 100M)
za_tool_test(tool_bad_number 2 "invalid value 'many' for --threads" stress --threads many)
za_tool_test(tool_bad_scenario 2 "unknown scenario 'chaos'" stress --scenario chaos)
za_tool_test(tool_missing_value 2 "needs a value" stress --seconds)

# info on a two-node layout, and with ZONE_MOVABLE.
za_tool_test(tool_info_2node 0 "Node 1, zone" info --nodes 2 --mem 128M)
za_tool_test(tool_info_movable 0 "Node 1, zone +Movable"
             info --nodes 2 --mem 256M --movable 64M --report zoneinfo)
za_tool_test(tool_info_frames 0 "za_check: ok" info --frames-only --mem 8G --nodes 2)

# Every stress scenario, briefly, on small memory. They fail (exit 1) on
# any verify error, broken invariant or lost page.
foreach(sc mixed hotplug pressure offline)
  za_tool_test(tool_stress_${sc} 0 "result +PASS"
               stress --scenario ${sc} --seconds 2 --mem 128M --quiet)
endforeach()
za_tool_test(tool_stress_json_2node 0 "\"result\":\"pass\""
             stress --seconds 1 --nodes 2 --cpus 8 --mem 64M --json --quiet)
za_tool_test(tool_stress_frames_only 0 "result +PASS"
             stress --seconds 1 --frames-only --mem 64M --quiet)

# The checks themselves: a client bug injected on purpose must fail the
# run (exit 1) and be named.
za_tool_test(tool_stress_catches_corruption 1 "verify error before"
             stress --seconds 1 --mem 64M --quiet --inject corrupt)
za_tool_test(tool_stress_catches_leak 1 "pages missing"
             stress --seconds 1 --mem 64M --quiet --inject leak)
