# Core tests: buddy, per-CPU lists, zonelists, watermarks, statistics,
# reports, misuse, stress, creation and bulk calls. Label: core.
za_add_test(NAME core_buddy SOURCES test_core_buddy.c LABELS core TIMEOUT 120)
za_add_test(NAME core_pcp SOURCES test_core_pcp.c LABELS core TIMEOUT 60)
za_add_test(NAME core_zonelist SOURCES test_core_zonelist.c LABELS core TIMEOUT 120)
za_add_test(NAME core_watermark SOURCES test_core_watermark.c LABELS core TIMEOUT 120)
za_add_test(NAME core_vmstat SOURCES test_core_vmstat.c LABELS core TIMEOUT 120)
za_add_test(NAME core_report SOURCES test_core_report.c LABELS core TIMEOUT 60
            ARGS ${CMAKE_CURRENT_LIST_DIR}/golden)
za_add_test(NAME core_misuse SOURCES test_core_misuse.c LABELS core TIMEOUT 60)
za_add_test(NAME core_mt SOURCES test_core_mt.c LABELS core TIMEOUT 60)
za_add_test(NAME core_create SOURCES test_core_create.c LABELS core TIMEOUT 60)
za_add_test(NAME core_bulk SOURCES test_core_bulk.c LABELS core TIMEOUT 60)
za_add_test(NAME core_sysctl SOURCES test_core_sysctl.c LABELS core TIMEOUT 120)
