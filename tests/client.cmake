# tests/client.cmake - real clients of the /proc-style reports.
#
# client_node_exporter: Prometheus' node exporter (Debian's
# prometheus-node-exporter, from scripts/deps.sh) reads a directory of
# zonealloc's reports as its /proc, and what it exports must equal what
# the reports say; a zoneinfo broken on purpose must be caught. Skipped
# (exit 77) when the exporter or curl is not installed. About 1 s.
add_executable(client_reports client_reports.c)
target_include_directories(client_reports PRIVATE ${PROJECT_SOURCE_DIR}/src
                           ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(client_reports PRIVATE ZA_DEBUG=${ZA_DEBUG} _GNU_SOURCE)
target_link_libraries(client_reports PRIVATE zonealloc_static Threads::Threads)
add_test(NAME client_node_exporter
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/client_node_exporter.sh
                 $<TARGET_FILE:client_reports>
                 ${CMAKE_CURRENT_BINARY_DIR}/node-exporter)
set_tests_properties(client_node_exporter PROPERTIES
                     TIMEOUT 60 LABELS client SKIP_RETURN_CODE 77)
if(ZA_TEST_ENV)
  set_tests_properties(client_node_exporter PROPERTIES ENVIRONMENT "${ZA_TEST_ENV}")
endif()
