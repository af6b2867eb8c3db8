# Reclaim tests: shrinkers and the OOM handler, kswapd, per-CPU counter
# drift against the watermarks (seed 003), self-sizing per-CPU lists, and
# the vmstat report. Label: reclaim.
za_add_test(NAME reclaim_shrinker SOURCES test_reclaim_shrinker.c LABELS reclaim TIMEOUT 150)
za_add_test(NAME reclaim_kswapd SOURCES test_reclaim_kswapd.c LABELS reclaim TIMEOUT 150)
za_add_test(NAME reclaim_drift SOURCES test_reclaim_drift.c LABELS reclaim TIMEOUT 90)
za_add_rseq_run(NAME reclaim_drift) # seed 003 on real CPUs, restartable
za_add_test(NAME reclaim_pcp_sizing SOURCES test_reclaim_pcp_sizing.c LABELS reclaim TIMEOUT 150)
za_add_test(NAME reclaim_vmstat SOURCES test_reclaim_vmstat.c LABELS reclaim TIMEOUT 90)
za_add_test(NAME reclaim_pcp_cycle SOURCES test_reclaim_pcp_cycle.c LABELS reclaim TIMEOUT 90)
