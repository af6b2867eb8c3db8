# The README's example program builds and runs.
za_add_test(NAME example_hello SOURCES ${PROJECT_SOURCE_DIR}/examples/hello.c LABELS core)
set_tests_properties(example_hello PROPERTIES PASS_REGULAR_EXPRESSION "hello from pfn [0-9]+")
