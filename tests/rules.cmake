# rules.cmake - one deterministic test per rule the seeds' fixes keep
# and DESIGN.md's slow path, racing double frees and za_check
# (tests/test_rules.c, docs/TESTING.md): each opens its race window on
# purpose through the library's test hook and fails with a message naming
# the rule. The hook exists in debug builds only (ZA_DEBUG >= 1): release
# builds report these tests Skipped (77). Label: rules. Each takes well
# under a second.
foreach(_r seed003_counter_order seed004_disable_drain seed000_cpu_offline_halfway
        seed001_trylock_fallback highatomic_before_oom double_free_late_claim
        double_free_late_claim_debug double_free_late_claim_freed
        deferred_drain_check zonelist_retry_late)
  za_add_test(NAME rules_${_r} SOURCES test_rules.c ARGS ${_r} LABELS rules TIMEOUT 60)
  set_tests_properties(rules_${_r} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()
