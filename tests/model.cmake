# model.cmake - registers the spin model checks of the memory-offline
# protocol (tests/model/offline.pml, run by tests/model/run.sh):
#   model_offline_ok               the protocol of DESIGN.md: spin proves
#                                  it (0 errors, safety and liveness)
#   model_offline_seed004_bug      the 2020 protocol of seed 004: passes
#                                  only if spin finds the violation
#   model_offline_impl_ok          the protocol as src/pcp.c implements it
#                                  (a flag per pcp, set in the drain's lock
#                                  hold): spin proves it
#   model_offline_unlocked_check_bug  the disable flag read outside the pcp
#                                  lock: passes only if spin finds it
# When spin is not installed (Debian package `spin`) the tests report
# Skipped (exit 77) instead of failing. Each runs in a scratch directory
# under the build tree and takes well under a minute. The model does not
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
  add_test(NAME model_offline_${_v}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/model/run.sh ${_arg}
                   ${CMAKE_CURRENT_BINARY_DIR}/model-work/${_v})
  set_tests_properties(model_offline_${_v} PROPERTIES
    TIMEOUT 300
    SKIP_RETURN_CODE 77
    LABELS "model"
    ENVIRONMENT "SPIN=${_za_spin};CC=${CMAKE_C_COMPILER}")
endforeach()
