# tests/script/common.cmake - what the script half of the tool's test
# areas (tests/replay.cmake, sweep.cmake, record.cmake) share. Included in
# script mode (cmake -DCHECK=... -P tests/AREA.cmake) after the area sets
# ZA_AREA; it lives in a folder of its own so that tests/CMakeLists.txt
# does not take it for an area.
#
#  fail(msg)                        the check fails, naming area and CHECK
#  run(<out> <rc> <err> ARGS...)    zonealloc replay --quiet ARGS
#  run_ok(<out> ARGS...)            the same; it must exit 0
#  jget(<out> <json> <key>...)      a value of a JSON report; a missing
#                                   key fails the check
#  jsame(<a> <b> <how> <part>...)   each part (a top-level member) is the
#                                   same in the JSON reports a and b; the
#                                   failure says the part "differs <how>"

function(fail msg)
  message(FATAL_ERROR "${ZA_AREA} test '${CHECK}': ${msg}")
endfunction()

function(run out rc err)
  execute_process(COMMAND ${EXE} replay --quiet ${ARGN}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out
                  ERROR_VARIABLE _err)
  set(${out} "${_out}" PARENT_SCOPE)
  set(${rc} "${_rc}" PARENT_SCOPE)
  set(${err} "${_err}" PARENT_SCOPE)
endfunction()

function(run_ok out)
  run(_o _rc _e ${ARGN})
  if(NOT _rc STREQUAL "0")
    message("${_o}${_e}")
    fail("zonealloc replay ${ARGN}: exit ${_rc}, expected 0")
  endif()
  set(${out} "${_o}" PARENT_SCOPE)
endfunction()

function(jget out json)
  string(JSON _v ERROR_VARIABLE _e GET "${json}" ${ARGN})
  if(_e)
    fail("no ${ARGN} in the JSON report: ${_e}")
  endif()
  set(${out} "${_v}" PARENT_SCOPE)
endfunction()

function(jsame a b how)
  foreach(part ${ARGN})
    string(JSON _x GET "${a}" ${part})
    string(JSON _y GET "${b}" ${part})
    if(NOT _x STREQUAL _y)
      fail("'${part}' differs ${how}:\n${_x}\n---\n${_y}")
    endif()
  endforeach()
endfunction()
