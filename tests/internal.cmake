# Tests that reach the library's internals: za_check against deliberately
# broken states, and the lock-order witness.
za_add_test(NAME check_broken SOURCES test_check_broken.c LABELS core)
za_add_test(NAME lock_order SOURCES test_lock_order.c LABELS core)
set_tests_properties(lock_order PROPERTIES SKIP_RETURN_CODE 77)
