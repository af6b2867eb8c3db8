# model.cmake - registers the spin model checks (run by tests/model/run.sh)
# of the memory-offline protocol (tests/model/offline.pml):
#   model_offline_ok               the protocol of DESIGN.md: spin proves
#                                  it (0 errors, safety and liveness)
#   model_offline_seed004_bug      the 2020 protocol of seed 004: passes
#                                  only if spin finds the violation
#   model_offline_impl_ok          the protocol as src/pcp.c implements it
#                                  (a flag per pcp, set in the drain's lock
#                                  hold): spin proves it
#   model_offline_unlocked_check_bug  the disable flag read outside the pcp
#                                  lock: passes only if spin finds it
# and of the restartable page sets' stop + fence protocol
# (tests/model/rseq.pml):
#   model_rseq_ok                  spin proves it (0 errors: safety, end
#                                  states with bounded owners, liveness)
#   model_rseq_<what>_bug          one step left out or misplaced: passes
#                                  only if spin finds the violation
#                                  (nofence: no membarrier fence;
#                                  stop_outside: the owner reads stop before
#                                  its sequence; nowait: the remote user does
#                                  not wait for busy == 0; nocpucheck: the
#                                  sequence does not check its CPU;
#                                  off_outside: the owner reads the disable
#                                  flag before acquiring; nostop: no stop
#                                  flag, which also starves remote users;
#                                  tso_nobarrier: the owner's commit store
#                                  buffered and a fence that is no memory
#                                  barrier)
#   model_rseq_tso_ok              the owner's commit store buffered
#                                  (x86-TSO): spin proves it
#   model_rseq_short_memory_not_proved  run.sh with 40 MB for pan: the
#                                  search is cut short, which must fail
# and of a CPU offline with bounded waits (tests/model/cpuoff.pml):
#   model_cpuoff_ok                spin proves it (safety, end states)
#   model_cpuoff_<what>_bug        defer_no_mark, worker_no_wait,
#                                  worker_no_drain: passes only if spin
#                                  finds the violation
# When spin is not installed (Debian package `spin`) the tests report
# Skipped (exit 77) instead of failing. Each runs in a scratch directory
# under the build tree and takes well under a minute (the rseq ones a few
# seconds, most of it compiling pan.c). The model does not
# run library code, so the sanitizer builds leave these tests out.

if(NOT ZA_SANITIZE STREQUAL "")
  return()
endif()

find_program(ZA_SPIN spin)
if(ZA_SPIN)
  set(_za_spin ${ZA_SPIN})
else()
  set(_za_spin spin)
  message(STATUS "zonealloc: spin not found: the model_* tests will be skipped (apt-get install spin)")
endif()

# One model check: run.sh VARIANT in its own scratch directory WORK.
function(za_add_model_test name variant work)
  add_test(NAME ${name}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/model/run.sh ${variant}
                   ${CMAKE_CURRENT_BINARY_DIR}/model-work/${work})
  set_tests_properties(${name} PROPERTIES
    TIMEOUT 300
    SKIP_RETURN_CODE 77
    LABELS "model"
    ENVIRONMENT "SPIN=${_za_spin};CC=${CMAKE_C_COMPILER}")
endfunction()

foreach(_v ok impl_ok seed004_bug unlocked_check_bug)
  if(_v STREQUAL "ok")
    set(_arg ok)
  elseif(_v STREQUAL "impl_ok")
    set(_arg impl)
  elseif(_v STREQUAL "seed004_bug")
    set(_arg seed004)
  else()
    set(_arg unlocked)
  endif()
  za_add_model_test(model_offline_${_v} ${_arg} ${_v})
endforeach()

foreach(_v ok nofence_bug stop_outside_bug nowait_bug nocpucheck_bug
           off_outside_bug nostop_bug tso_ok tso_nobarrier_bug)
  if(_v STREQUAL "ok")
    set(_arg rseq)
  elseif(_v STREQUAL "tso_ok")
    set(_arg rseq-tso)
  else()
    string(REGEX REPLACE "_bug$" "" _arg ${_v})
    string(REPLACE "_" "-" _arg ${_arg})
    set(_arg rseq-${_arg})
  endif()
  za_add_model_test(model_rseq_${_v} ${_arg} rseq_${_v})
endforeach()

# The harness itself: a search pan cut short (out of memory, PAN_MEM_MB)
# proves nothing, so run.sh must fail it (review 9: it printed "the
# protocol is proved" after 0 states stored).
za_add_model_test(model_rseq_short_memory_not_proved rseq rseq_short_memory)
set_tests_properties(model_rseq_short_memory_not_proved PROPERTIES
  WILL_FAIL TRUE
  ENVIRONMENT "SPIN=${_za_spin};CC=${CMAKE_C_COMPILER};PAN_MEM_MB=40")

foreach(_v ok defer_no_mark_bug worker_no_wait_bug worker_no_drain_bug)
  if(_v STREQUAL "ok")
    set(_arg cpuoff)
  else()
    string(REGEX REPLACE "_bug$" "" _arg ${_v})
    string(REPLACE "_" "-" _arg ${_arg})
    set(_arg cpuoff-${_arg})
  endif()
  za_add_model_test(model_cpuoff_${_v} ${_arg} cpuoff_${_v})
endforeach()
