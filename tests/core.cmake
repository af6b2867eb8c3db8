# Core tests: buddy, per-CPU lists, zonelists, watermarks, statistics,
# reports, misuse, stress, creation and bulk calls. Label: core.
za_add_test(NAME core_buddy SOURCES test_core_buddy.c LABELS core TIMEOUT 120)
za_add_test(NAME core_pcp SOURCES test_core_pcp.c LABELS core TIMEOUT 60)
za_add_rseq_run(NAME core_pcp) # seed 001 drains, restartable on real CPUs
za_add_test(NAME core_pcp_mid SOURCES test_core_pcp_mid.c LABELS core TIMEOUT 60)
za_add_rseq_run(NAME core_pcp_mid) # orders 4..8 on the lists (issue 11 item 4)
za_add_test(NAME core_pcp_decay SOURCES test_core_pcp_decay.c LABELS core TIMEOUT 60)
za_add_test(NAME core_zonelist SOURCES test_core_zonelist.c LABELS core TIMEOUT 120)
za_add_test(NAME core_watermark SOURCES test_core_watermark.c LABELS core TIMEOUT 120)
za_add_rseq_run(NAME core_watermark) # the restartable fast path's watermark test, a refill's floor
za_add_test(NAME core_vmstat SOURCES test_core_vmstat.c LABELS core TIMEOUT 120)
za_add_test(NAME core_report SOURCES test_core_report.c LABELS core TIMEOUT 60
            ARGS ${CMAKE_CURRENT_LIST_DIR}/golden)
za_add_test(NAME core_misuse SOURCES test_core_misuse.c LABELS core TIMEOUT 60)
za_add_test(NAME core_mt SOURCES test_core_mt.c LABELS core TIMEOUT 60)
za_add_rseq_run(NAME core_mt) # owners against remote drains on real CPUs
za_add_test(NAME core_create SOURCES test_core_create.c LABELS core TIMEOUT 60)
za_add_test(NAME core_fork SOURCES test_core_fork.c LABELS core TIMEOUT 120)
za_add_test(NAME core_cancel SOURCES test_core_cancel.c LABELS core TIMEOUT 60)
za_add_test(NAME core_bulk SOURCES test_core_bulk.c LABELS core TIMEOUT 60)
# Restartable page sets on the real CPUs; the second run makes the library
# register rseq itself (glibc's registration switched off).
za_add_test(NAME pcp_rseq SOURCES test_pcp_rseq.c LABELS core TIMEOUT 240)
set_tests_properties(pcp_rseq PROPERTIES SKIP_RETURN_CODE 77)
add_test(NAME pcp_rseq_selfreg COMMAND pcp_rseq selfreg)
set_tests_properties(pcp_rseq_selfreg PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120
                     LABELS core ENVIRONMENT "GLIBC_TUNABLES=glibc.pthread.rseq=0;${ZA_TEST_ENV}")
# ... and the fallback when the kernel refuses that registration (a
# seccomp filter): locked, one line naming the kernel's answer.
za_add_test(NAME pcp_rseq_refused SOURCES test_pcp_rseq_refused.c LABELS core TIMEOUT 60)
set_tests_properties(pcp_rseq_refused PROPERTIES SKIP_RETURN_CODE 77
                     ENVIRONMENT "GLIBC_TUNABLES=glibc.pthread.rseq=0;${ZA_TEST_ENV}")
za_add_test(NAME core_lazy SOURCES test_core_lazy.c LABELS core TIMEOUT 60)
za_add_test(NAME core_virt SOURCES test_core_virt.c LABELS core TIMEOUT 120)
za_add_test(NAME core_numa SOURCES test_core_numa.c LABELS core TIMEOUT 60)
# The NUMA policy memory online gives the client's memory (libnuma builds;
# skipped, exit 77, otherwise).
if(ZA_HAVE_NUMA)
  za_add_test(NAME core_numa_policy SOURCES test_core_numa_policy.c LABELS core
              TIMEOUT 60 LIBS ${NUMA_LIBRARY})
else()
  za_add_test(NAME core_numa_policy SOURCES test_core_numa_policy.c LABELS core
              TIMEOUT 60)
endif()
target_compile_definitions(core_numa_policy PRIVATE ZA_HAVE_NUMA=${ZA_HAVE_NUMA})
set_tests_properties(core_numa_policy PROPERTIES SKIP_RETURN_CODE 77)
za_add_test(NAME core_sysctl SOURCES test_core_sysctl.c LABELS core TIMEOUT 120)
# A bulk call's runs (one hold of a page set each) and the cuts it reports;
# the debug points it looks from are in debug builds only (Release: 77).
za_add_test(NAME core_bulk_runs SOURCES test_core_bulk_runs.c LABELS core TIMEOUT 120)
set_tests_properties(core_bulk_runs PROPERTIES SKIP_RETURN_CODE 77)
za_add_rseq_run(NAME core_bulk_runs) # the same on real CPUs, restartable
