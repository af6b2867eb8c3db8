# Hotplug tests: CPU hotplug, memory offline/online with isolation and
# migration, zonelist rebuilds, contiguous ranges - and the races of seeds
# 000, 002 and 004. Label: hotplug. test_hotplug_common.c is included by
# each test, not built on its own. The seed tests and the combined stress
# run twice: locked on simulated CPUs, and restartable on real CPUs (_rseq).
za_add_test(NAME hotplug_seed004 SOURCES test_hotplug_seed004.c LABELS hotplug TIMEOUT 300)
za_add_test(NAME hotplug_seed000 SOURCES test_hotplug_seed000.c LABELS hotplug TIMEOUT 300)
za_add_test(NAME hotplug_seed002 SOURCES test_hotplug_seed002.c LABELS hotplug TIMEOUT 300)
za_add_test(NAME hotplug_migrate SOURCES test_hotplug_migrate.c LABELS hotplug TIMEOUT 300)
za_add_test(NAME hotplug_offline_fail SOURCES test_hotplug_offline_fail.c LABELS hotplug TIMEOUT 120)
za_add_test(NAME hotplug_map_count SOURCES test_hotplug_map_count.c LABELS hotplug TIMEOUT 60)
set_tests_properties(hotplug_map_count PROPERTIES SKIP_RETURN_CODE 77)
za_add_test(NAME hotplug_contig SOURCES test_hotplug_contig.c LABELS hotplug TIMEOUT 200)
za_add_test(NAME hotplug_highatomic SOURCES test_hotplug_highatomic.c LABELS hotplug TIMEOUT 60)
za_add_test(NAME hotplug_observe SOURCES test_hotplug_observe.c LABELS hotplug TIMEOUT 200)
za_add_test(NAME hotplug_combined SOURCES test_hotplug_combined.c LABELS hotplug TIMEOUT 250)
# Two allocators: a callback of one calls into the other (review 6, finding 2).
za_add_test(NAME hotplug_two_za SOURCES test_hotplug_two_za.c LABELS hotplug TIMEOUT 90)
za_add_test(NAME hotplug_nest SOURCES test_hotplug_nest.c LABELS hotplug TIMEOUT 60)
# A zone's span as memory leaves it (review 12, finding 1).
za_add_test(NAME hotplug_span SOURCES test_hotplug_span.c LABELS hotplug TIMEOUT 60)
za_add_rseq_run(NAME hotplug_seed004)
za_add_rseq_run(NAME hotplug_seed000)
za_add_rseq_run(NAME hotplug_seed002)
za_add_rseq_run(NAME hotplug_combined)
