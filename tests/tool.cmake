# tests/tool.cmake - ctest tests of the `zonealloc` command.
#
# One file, two roles. Included by tests/CMakeLists.txt, it registers the
# tests. Run as a script (cmake -P tests/tool.cmake) it is the check one
# test runs, chosen by MODE:
#
#  (no MODE)  EXE, ARGS ('|'-separated), RC and optionally REGEX: the
#             command must exit with exactly RC and its stdout+stderr must
#             match REGEX. ctest alone can check "exit 0" or "output
#             matches", not "exit 2 and says why", which is what a usage
#             error must do.
#  timeline   the same run (it must exit 0), then the CSV it wrote to CSV
#             is checked: the header, at least MIN_ROWS rows for every
#             zone of every scenario in SCENARIOS (';'-separated), the
#             last row near SECONDS, and numbers that agree with each
#             other (free <= managed, min <= low <= high, ...).
#  plot       runs tools/plot-timeline.sh (SCRIPT, with BASH) on CSV into
#             OUTDIR and checks that every PNG it names exists and is one.

if(CMAKE_SCRIPT_MODE_FILE AND "${MODE}" STREQUAL "plot")
  file(REMOVE_RECURSE "${OUTDIR}")
  execute_process(COMMAND ${BASH} ${SCRIPT} ${CSV} ${OUTDIR}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  message("${_out}${_err}")
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "plot-timeline.sh ${CSV}: exit status ${_rc}")
  endif()
  string(REGEX MATCHALL "[^\n]+[.]png" _pngs "${_out}")
  foreach(_kind free frag pcp)
    if(NOT _pngs MATCHES "-${_kind}[.]png")
      message(FATAL_ERROR "no ${_kind} picture among: ${_pngs}")
    endif()
  endforeach()
  foreach(_png ${_pngs})
    if(NOT EXISTS "${_png}")
      message(FATAL_ERROR "${_png} was named but not written")
    endif()
    file(READ "${_png}" _magic LIMIT 8 HEX)
    file(SIZE "${_png}" _size)
    if(NOT _magic STREQUAL "89504e470d0a1a0a" OR _size LESS 2000)
      message(FATAL_ERROR "${_png} is not a PNG picture (${_size} bytes)")
    endif()
  endforeach()
  return()
endif()

if(CMAKE_SCRIPT_MODE_FILE)
  if("${MODE}" STREQUAL "timeline")
    file(REMOVE "${CSV}")
  endif()
  string(REPLACE "|" ";" _args "${ARGS}")
  execute_process(COMMAND ${EXE} ${_args}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  set(_all "${_out}${_err}")
  if(NOT "${_rc}" STREQUAL "${RC}")
    message("${_all}")
    message(FATAL_ERROR "zonealloc ${_args}: exit status ${_rc}, expected ${RC}")
  endif()
  if(DEFINED REGEX AND NOT "${REGEX}" STREQUAL "")
    if(NOT _all MATCHES "${REGEX}")
      message("${_all}")
      message(FATAL_ERROR "zonealloc ${_args}: output does not match '${REGEX}'")
    endif()
  endif()
  message("${_all}")
  if(NOT "${MODE}" STREQUAL "timeline")
    return()
  endif()

  # ---- the timeline CSV ----
  if(NOT EXISTS "${CSV}")
    message(FATAL_ERROR "the run did not write ${CSV}")
  endif()
  file(STRINGS "${CSV}" _lines)
  list(LENGTH _lines _n)
  if(_n LESS 2)
    message(FATAL_ERROR "${CSV}: ${_n} lines, expected a header and rows")
  endif()
  list(POP_FRONT _lines _header)
  string(REPLACE "," ";" _cols "${_header}")
  list(LENGTH _cols _ncols)
  foreach(_c time_s scenario node zone managed free min low high pcp_pages
             pcp_high isolated_free nr_free_order_0 frag_frac_ge9 frag_score
             ops allocs frees pgalloc pgfree pcp_refills pcp_flushes pcp_drains
             zone_locks kswapd_wakes offline_ok offline_fail cpu_flips)
    list(FIND _cols ${_c} _i_${_c})
    if(_i_${_c} LESS 0)
      message(FATAL_ERROR "${CSV}: no column '${_c}' in the header: ${_header}")
    endif()
  endforeach()
  set(_keys "")
  set(_row 1)
  foreach(_line IN LISTS _lines)
    math(EXPR _row "${_row} + 1")
    string(REPLACE "," ";" _f "${_line}")
    list(LENGTH _f _nf)
    if(NOT _nf EQUAL _ncols)
      message(FATAL_ERROR "${CSV} line ${_row}: ${_nf} fields, the header has ${_ncols}")
    endif()
    foreach(_c time_s scenario node zone managed free min low high pcp_pages
               frag_frac_ge9 frag_score)
      list(GET _f ${_i_${_c}} _${_c})
    endforeach()
    set(_where "${CSV} line ${_row} (${_scenario}, node ${_node} ${_zone}, t ${_time_s})")
    foreach(_c managed free min low high pcp_pages)
      if(NOT _${_c} MATCHES "^[0-9]+$")
        message(FATAL_ERROR "${_where}: ${_c} is '${_${_c}}', not a count")
      endif()
    endforeach()
    if(_free GREATER _managed)
      message(FATAL_ERROR "${_where}: free ${_free} > managed ${_managed}")
    endif()
    if(_min GREATER _low OR _low GREATER _high)
      message(FATAL_ERROR "${_where}: watermarks min ${_min} low ${_low} high ${_high} out of order")
    endif()
    if(NOT _frag_frac_ge9 MATCHES "^(0[.][0-9]+|1[.]0+)$")
      message(FATAL_ERROR "${_where}: frag_frac_ge9 '${_frag_frac_ge9}' is not in [0, 1]")
    endif()
    if(NOT _frag_score MATCHES "^([0-9]|[1-9][0-9]|100)$")
      message(FATAL_ERROR "${_where}: frag_score '${_frag_score}' is not in 0..100")
    endif()
    # The row at time 0 is taken before any worker starts: every page
    # of the zone is free and no per-CPU list holds one.
    if(_time_s STREQUAL "0.000" AND
       (NOT _free EQUAL _managed OR NOT _pcp_pages EQUAL 0))
      message(FATAL_ERROR "${_where}: at time 0 free ${_free} of managed ${_managed}, pcp ${_pcp_pages}")
    endif()
    set(_k "${_scenario}/${_node}/${_zone}")
    if(NOT DEFINED _rows_${_k})
      set(_rows_${_k} 0)
      list(APPEND _keys ${_k})
    endif()
    math(EXPR _rows_${_k} "${_rows_${_k}} + 1")
    set(_last_${_scenario} ${_time_s})
  endforeach()
  foreach(_sc ${SCENARIOS})
    if(NOT DEFINED _last_${_sc})
      message(FATAL_ERROR "${CSV}: no rows of scenario ${_sc}")
    endif()
    # Seconds with three decimals: compare in milliseconds.
    string(REPLACE "." "" _ms "${_last_${_sc}}")
    math(EXPR _want "${SECONDS} * 900")
    if(_ms LESS _want)
      message(FATAL_ERROR "${CSV}: scenario ${_sc} ends at ${_last_${_sc}} s of ${SECONDS}")
    endif()
    if(NOT _keys MATCHES "${_sc}/0/DMA32")
      message(FATAL_ERROR "${CSV}: scenario ${_sc} has no rows of node 0 DMA32")
    endif()
  endforeach()
  foreach(_k ${_keys})
    if(_rows_${_k} LESS MIN_ROWS)
      message(FATAL_ERROR "${CSV}: ${_k} has ${_rows_${_k}} rows, expected at least ${MIN_ROWS}")
    endif()
    message("${_k}: ${_rows_${_k}} rows")
  endforeach()
  return()
endif()

if(NOT TARGET zonealloc_tool)
  return()
endif()

# za_tool_test(NAME RC REGEX ARGS...)
function(za_tool_test name rc regex)
  string(REPLACE ";" "|" _args "${ARGN}")
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} "-DEXE=$<TARGET_FILE:zonealloc_tool>"
                   "-DARGS=${_args}" "-DRC=${rc}" "-DREGEX=${regex}"
                   -P ${CMAKE_CURRENT_LIST_FILE})
  set_tests_properties(${name} PROPERTIES TIMEOUT 30 LABELS tool)
endfunction()

# Help, version, and the errors a user meets first.
za_tool_test(tool_help 0 "Usage: zonealloc" --help)
za_tool_test(tool_version 0 "zonealloc [0-9]+[.][0-9]+" --version)
za_tool_test(tool_help_stress 0 "--scenario" help stress)
za_tool_test(tool_info_help 0 "--report" info --help)
za_tool_test(tool_bad_option 2 "unknown option '--bogus'" stress --bogus)
za_tool_test(tool_bad_command 2 "unknown command 'frobnicate'" frobnicate)
za_tool_test(tool_bad_size 2 "not a multiple of the memory block" info --mem 100M)
za_tool_test(tool_bad_number 2 "invalid value 'many' for --threads" stress --threads many)
za_tool_test(tool_bad_scenario 2 "unknown scenario 'chaos'" stress --scenario chaos)
za_tool_test(tool_missing_value 2 "needs a value" stress --seconds)
# Numbers are decimal, or hex after 0x: a leading zero is no octal
# (review 14, finding 6: '--cpus 010' built 8 CPUs, '--cpus 08' was
# refused as no number).
za_tool_test(tool_number_leading_zero 0 "# 1 node x 64 MiB, 10 CPUs"
             info --mem 64M --cpus 010)
za_tool_test(tool_number_leading_zero_8 0 "# 1 node x 64 MiB, 8 CPUs"
             info --mem 64M --cpus 08)
# --min-free-kbytes takes the tunable's range, as --sysctl
# min_free_kbytes= does (review 20's observation 1: 2147483648 was taken
# and printed by --report sysctl, which --sysctl then refused).
za_tool_test(tool_min_free_kbytes_range 2
             "--min-free-kbytes 2147483648 is out of range [(]1[.][.]2147483647[)]"
             info --mem 64M --min-free-kbytes 2147483648)
za_tool_test(tool_min_free_kbytes_max 0 "vm.min_free_kbytes = 2147483647"
             info --mem 64M --min-free-kbytes 2147483647 --report sysctl)
za_tool_test(tool_number_hex 0 "# 1 node x 64 MiB, 16 CPUs"
             info --mem 64M --cpus 0x10)
za_tool_test(tool_number_bad_hex 2 "invalid value '0x' for --cpus"
             info --mem 64M --cpus 0x)

# info on a two-node layout, and with ZONE_MOVABLE.
za_tool_test(tool_info_2node 0 "Node 1, zone" info --nodes 2 --mem 128M)
za_tool_test(tool_info_movable 0 "Node 1, zone +Movable"
             info --nodes 2 --mem 256M --movable 64M --report zoneinfo)
za_tool_test(tool_info_frames 0 "za_check: ok" info --frames-only --mem 8G --nodes 2)

# --hugepages says what it got. The machine's /proc/meminfo and THP switch
# are replaced by files that say "no reserved huge pages" (and THP on, or
# off), so that the fallbacks run on any machine; with --frames-only there
# is nothing to back.
za_tool_test(tool_info_hugepages_thp 0
             "backing: (transparent huge pages [(]madvise[)]|base pages)[^\n]*0 reserved huge pages free.*za_check: ok"
             info --hugepages --mem 64M)
za_tool_test(tool_info_hugepages_off 0
             "backing: base pages[^\n]*transparent huge pages are off.*za_check: ok"
             info --hugepages --mem 64M)
set_property(TEST tool_info_hugepages_thp tool_info_hugepages_off APPEND PROPERTY
             ENVIRONMENT HUGEMEM_MEMINFO=${CMAKE_CURRENT_SOURCE_DIR}/data/meminfo_no_hugetlb)
set_property(TEST tool_info_hugepages_thp APPEND PROPERTY
             ENVIRONMENT HUGEMEM_THP_ENABLED=${CMAKE_CURRENT_SOURCE_DIR}/data/thp_madvise)
set_property(TEST tool_info_hugepages_off APPEND PROPERTY
             ENVIRONMENT HUGEMEM_THP_ENABLED=${CMAKE_CURRENT_SOURCE_DIR}/data/thp_never)
za_tool_test(tool_info_hugepages_frames 2 "--hugepages needs backing memory"
             info --hugepages --frames-only --mem 64M)
# stress says it too (on stderr, once a run; --quiet or not), the
# fragment scenario as well, which builds its allocator itself.
za_tool_test(tool_stress_hugepages 0
             "result +PASS.*# backing: base pages[^\n]*transparent huge pages are off"
             stress --hugepages --mem 64M --seconds 1 --quiet)
za_tool_test(tool_stress_fragment_hugepages 0
             "result +PASS.*# backing: base pages[^\n]*transparent huge pages are off"
             stress --scenario fragment --compaction on --hugepages --mem 64M
             --seconds 1 --quiet)
# The JSON summary names the backing: asked for, none came.
za_tool_test(tool_stress_hugepages_json 0
             "\"backed\":true,\"hugepages\":\"base\""
             stress --hugepages --mem 64M --seconds 1 --quiet --json)
za_tool_test(tool_stress_json_no_hugepages 0
             "\"backed\":true,\"hugepages\":\"off\""
             stress --mem 64M --seconds 1 --quiet --json)
set_property(TEST tool_stress_hugepages tool_stress_fragment_hugepages
             tool_stress_hugepages_json APPEND
             PROPERTY ENVIRONMENT
             HUGEMEM_MEMINFO=${CMAKE_CURRENT_SOURCE_DIR}/data/meminfo_no_hugetlb
             HUGEMEM_THP_ENABLED=${CMAKE_CURRENT_SOURCE_DIR}/data/thp_never)
# The offline scenario without ZONE_MOVABLE: the error says what to change.
za_tool_test(tool_offline_small 2
             "the offline scenario needs ZONE_MOVABLE memory: give --movable, or --mem of at least two blocks"
             stress --scenario offline --mem 16M --seconds 1)
# With --scenario all every scenario is planned before the first runs:
# one that refuses the topology is a usage error at once, with nothing
# run and nothing printed on stdout (review 20, finding 2: mixed, hotplug
# and pressure ran their --seconds first, and their reports were dropped
# for the usage error).
za_tool_test(tool_stress_all_plans_first 2
             "^zonealloc stress: the offline scenario needs ZONE_MOVABLE memory: give --movable, or --mem of at least two blocks\n"
             stress --scenario all --mem 16M --seconds 1 --quiet)
za_tool_test(tool_stress_all_plans_fragment_first 2
             "^zonealloc stress: the fragment scenario tracks at most 1048575 blocks per thread"
             stress --scenario all --frames-only --mem 64G --seconds 1 --quiet)
# --movable 0 alone: the error names it, not more --mem (review 12,
# finding 2).
za_tool_test(tool_offline_movable_zero 2
             "the offline scenario needs ZONE_MOVABLE memory: --movable 0 leaves none"
             stress --scenario offline --mem 64M --movable 0 --seconds 1)
za_tool_test(tool_offline_zones_no_movable 2
             "the offline scenario needs ZONE_MOVABLE memory: --zones leaves it out"
             stress --scenario offline --zones dma,dma32,normal --seconds 1)
# A replay has frame numbers only: --hugepages has nothing to back.
za_tool_test(tool_replay_hugepages 2
             "--hugepages needs backing memory, and a replay has frame numbers only"
             replay --hugepages ${CMAKE_CURRENT_LIST_DIR}/data/formats.trace)

# vmstat in the kernel's names and order, the library's own after them;
# version 0.1's names still printed by vmstat-v0.
za_tool_test(tool_info_vmstat 0 "^nr_free_pages 16384\nnuma_hit 0\nnuma_miss 0\nnuma_foreign 0\nnuma_interleave 0\nnuma_local 0\nnuma_other 0\npgalloc_dma 0\n.*allocstall_movable 0\npgfree 0\n.*pgmigrate_fail 0\ncompact_migrate_scanned 0\n.*compact_daemon_free_scanned 0\nzonealloc_nr_allocated 0\n"
             info --mem 64M --report vmstat)
# The debugfs extfrag files: a fresh zone has every order free (-1.000)
# and nothing unusable.
za_tool_test(tool_info_extfrag 0 "==> extfrag_index <==\nNode 0, zone      DMA -1[.]000 -1[.]000 .*==> unusable_index <==\nNode 0, zone      DMA 0[.]000 0[.]000"
             info --mem 64M --report extfrag)
za_tool_test(tool_info_vmstat_v0 0 "^nr_free_pages 16384\nnr_zone_allocated 0\n.*\nallocstall 0\n.*\nkswapd_wake 0\n"
             info --mem 64M --report vmstat-v0)

# --sysctl on every command: the effect shows in the reports (128 MiB:
# DMA 4096 pages, DMA32 28672; min_free_kbytes 8192 = 2048 pages split
# 256 / 1792), a bad one is a usage error naming the problem.
za_tool_test(tool_sysctl_effect 0 "zone +DMA\n.*\n +min +256\n.*zone +DMA32\n.*\n +min +1792\n"
             info --mem 128M --report zoneinfo --sysctl min_free_kbytes=8192)
za_tool_test(tool_sysctl_report 0 "vm.watermark_scale_factor = 100\nvm.watermark_boost_factor = 15000\nvm.lowmem_reserve_ratio = 64 128 32 0\n"
             info --mem 128M --report sysctl --sysctl watermark_scale_factor=100
             "--sysctl=lowmem_reserve_ratio=64 128")
za_tool_test(tool_sysctl_range 2 "--sysctl watermark_scale_factor=0: value out of range"
             info --sysctl watermark_scale_factor=0)
za_tool_test(tool_sysctl_unknown 2 "unknown tunable 'swappiness'"
             stress --seconds 1 --sysctl swappiness=60)
za_tool_test(tool_sysctl_garbage 2 "'12x' is not a valid value for min_free_kbytes"
             info --sysctl min_free_kbytes=12x)
za_tool_test(tool_sysctl_form 2 "--sysctl 'min_free_kbytes': expected NAME=VALUE"
             info --sysctl min_free_kbytes)
za_tool_test(tool_sysctl_replay 2 "--sysctl extfrag_threshold=1001: value out of range"
             replay --sysctl extfrag_threshold=1001 ${CMAKE_CURRENT_LIST_DIR}/data/formats.trace)
za_tool_test(tool_stress_sysctl 0 "result +PASS"
             stress --seconds 1 --mem 64M --quiet --sysctl watermark_scale_factor=300
             --sysctl percpu_pagelist_high_fraction=8 --sysctl min_free_kbytes=2048)

# Every stress scenario, briefly, on small memory. They fail (exit 1) on
# any verify error, broken invariant or lost page.
foreach(sc mixed hotplug pressure offline)
  za_tool_test(tool_stress_${sc} 0 "result +PASS"
               stress --scenario ${sc} --seconds 2 --mem 128M --quiet)
endforeach()
# The fragment scenario's progress line (stderr is a file here: at most
# once a second), a round at least between lines; review 20's
# observation: a long run was silent until it ended.
za_tool_test(tool_stress_fragment_progress 0
             "\\[  1s\\] compaction off  round [0-9]+  order-9 requests [0-9]+, succeeded [0-9]+ [(][0-9.]+%[)]  moved [0-9]+\n"
             stress --scenario fragment --seconds 2 --mem 64M --compaction off)
# The fragment scenario, both modes, with unmovable blocks in the fill,
# on frames only and on two nodes (docs/COMPACTION.md).
za_tool_test(tool_stress_fragment 0 "compaction on .*result +PASS"
             stress --scenario fragment --seconds 1 --mem 64M --quiet)
za_tool_test(tool_stress_fragment_frames 0 "compaction on .*result +PASS"
             stress --scenario fragment --seconds 1 --mem 64M --quiet
             --frames-only --compaction on --unmovable 0)
za_tool_test(tool_stress_fragment_json 0 "\"on\":.*\"result\":\"pass\""
             stress --scenario fragment --seconds 1 --nodes 2 --cpus 4
             --mem 32M --json --quiet --unmovable 20)
# Its client tracks at most 2^20 - 1 blocks per thread (a share of the
# fill and an eighth of memory of slack): past that, a usage error before
# anything is built, saying what helps (review 20, finding 1: the run
# built the allocator first, advised more --threads when the slack alone
# was past the limit, and freed uninitialised pointers on its way out).
za_tool_test(tool_stress_fragment_too_large 2
             "^zonealloc stress: the fragment scenario tracks at most 1048575 blocks per thread, and 16777216 pages need 2113600 with 1024 threads[^\n]*give less --mem\n"
             stress --scenario fragment --frames-only --mem 64G --threads 1024
             --seconds 1 --quiet)
za_tool_test(tool_stress_fragment_more_threads 2
             "^zonealloc stress: the fragment scenario tracks at most 1048575 blocks per thread, and 7340032 pages need 4587584 with 2 threads: give --threads 57 or more, or less --mem\n"
             stress --scenario fragment --frames-only --mem 28G --threads 2
             --seconds 1 --quiet)
za_tool_test(tool_bad_compaction_mode 2 "unknown --compaction mode 'maybe'"
             stress --scenario fragment --compaction maybe)
za_tool_test(tool_stress_json_2node 0 "\"result\":\"pass\""
             stress --seconds 1 --nodes 2 --cpus 8 --mem 64M --json --quiet)
za_tool_test(tool_stress_frames_only 0 "result +PASS"
             stress --seconds 1 --frames-only --mem 64M --quiet)

# ... and the options only the other scenarios read are refused with
# --scenario fragment, whose client is its own (review 20, finding 3: a
# fragment run with --inject corrupt passed, exit 0, injecting nothing).
za_tool_test(tool_stress_fragment_inject 2
             "--inject is not an option of the fragment scenario"
             stress --scenario fragment --inject corrupt --seconds 1 --mem 32M
             --quiet --compaction on)
za_tool_test(tool_stress_fragment_verify 2
             "--verify is not an option of the fragment scenario"
             stress --scenario fragment --verify=full --seconds 1 --mem 32M
             --quiet --compaction on)

# The checks themselves: a client bug injected on purpose must fail the
# run (exit 1) and be named.
za_tool_test(tool_stress_catches_corruption 1 "verify error before"
             stress --seconds 1 --mem 64M --quiet --inject corrupt)
za_tool_test(tool_stress_catches_leak 1 "pages missing"
             stress --seconds 1 --mem 64M --quiet --inject leak)

# --timeline: a pressure run and a run of every scenario write their CSV;
# the check reads it back (see MODE timeline above). The pressure CSV is
# then drawn by tools/plot-timeline.sh when gnuplot is installed (the test
# never installs it: ZA_PLOT_NO_INSTALL=1, and it is skipped, exit 77,
# when gnuplot is missing).
function(za_timeline_test name csv seconds min_rows scenarios)
  string(REPLACE ";" "|" _args "${ARGN}")
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} "-DEXE=$<TARGET_FILE:zonealloc_tool>"
                   "-DARGS=${_args}" -DRC=0 -DMODE=timeline "-DCSV=${csv}"
                   -DSECONDS=${seconds} -DMIN_ROWS=${min_rows}
                   "-DSCENARIOS=${scenarios}" -P ${CMAKE_CURRENT_LIST_FILE})
  set_tests_properties(${name} PROPERTIES TIMEOUT 60 LABELS tool)
endfunction()

set(_za_tl "${CMAKE_CURRENT_BINARY_DIR}/timeline")
za_timeline_test(tool_timeline_pressure "${_za_tl}-pressure.csv" 2 5 pressure
                 stress --scenario pressure --seconds 2 --interval 250
                 --mem 128M --quiet --timeline "${_za_tl}-pressure.csv")
set_tests_properties(tool_timeline_pressure PROPERTIES
                     FIXTURES_SETUP za_timeline_csv)
za_timeline_test(tool_timeline_all "${_za_tl}-all.csv" 1 3
                 "mixed;hotplug;pressure;offline"
                 stress --scenario all --seconds 1 --interval 250
                 --mem 128M --quiet --timeline "${_za_tl}-all.csv")

za_tool_test(tool_timeline_unwritable 2 "cannot write the timeline to '/nonexistent"
             stress --seconds 1 --quiet --timeline /nonexistent/dir/t.csv)
# It is a usage error like any other: the reason, then where to look.
za_tool_test(tool_timeline_unwritable_try 2
             "cannot write the timeline to [^\n]*\nTry 'zonealloc stress --help'"
             stress --seconds 1 --quiet --timeline /nonexistent/dir/t.csv)
za_tool_test(tool_timeline_bad_interval 2 "--interval 5 is out of range"
             stress --seconds 1 --interval 5)
# The fragment scenario's own options do nothing elsewhere: refused.
za_tool_test(tool_stress_compaction_not_fragment 2
             "--compaction is an option of the fragment scenario \\(or all\\); --scenario mixed does not use it"
             stress --seconds 1 --compaction off)
za_tool_test(tool_stress_unmovable_not_fragment 2
             "--unmovable is an option of the fragment scenario"
             stress --scenario pressure --seconds 1 --unmovable 20)

find_program(ZA_BASH bash)
if(ZA_BASH)
  set(_za_plot "${PROJECT_SOURCE_DIR}/tools/plot-timeline.sh")
  add_test(NAME tool_plot_timeline
           COMMAND sh -c "command -v gnuplot >/dev/null 2>&1 || { echo 'gnuplot is not installed: skipped'; exit 77; }; exec \"$0\" \"$@\""
                   ${CMAKE_COMMAND} -DMODE=plot "-DBASH=${ZA_BASH}"
                   "-DSCRIPT=${_za_plot}" "-DCSV=${_za_tl}-pressure.csv"
                   "-DOUTDIR=${CMAKE_CURRENT_BINARY_DIR}/timeline-png"
                   -P ${CMAKE_CURRENT_LIST_FILE})
  set_tests_properties(tool_plot_timeline PROPERTIES
                       TIMEOUT 60 LABELS tool SKIP_RETURN_CODE 77
                       FIXTURES_REQUIRED za_timeline_csv
                       ENVIRONMENT "ZA_PLOT_NO_INSTALL=1")

  # What the script says about bad input, before it needs gnuplot.
  set(_bad "${CMAKE_CURRENT_BINARY_DIR}/timeline-bad")
  file(WRITE "${_bad}-header.csv" "time_s,scenario,node,zone,managed,free,min,low,high,pcp_pages,pcp_high,isolated_free,nr_free_order_0,frag_frac_ge9,pcp_refills,pcp_flushes,pcp_drains,zone_locks\n")
  file(WRITE "${_bad}-fields.csv" "time_s,scenario,node,zone,managed,free,min,low,high,pcp_pages,pcp_high,isolated_free,nr_free_order_0,frag_frac_ge9,pcp_refills,pcp_flushes,pcp_drains,zone_locks\n0.000,mixed,0,DMA32,100,100,1,2,3,0,0,0,100,1.0,0,0,0,0\n0.500,mixed,0,DMA32,100,90\n")
  file(WRITE "${_bad}-number.csv" "time_s,scenario,node,zone,managed,free,min,low,high,pcp_pages,pcp_high,isolated_free,nr_free_order_0,frag_frac_ge9,pcp_refills,pcp_flushes,pcp_drains,zone_locks\n0.000,mixed,0,DMA32,100,lots,1,2,3,0,0,0,100,1.0,0,0,0,0\n")
  function(za_plot_test name rc regex)
    string(REPLACE ";" "|" _args "${ARGN}")
    add_test(NAME ${name}
             COMMAND ${CMAKE_COMMAND} "-DEXE=${ZA_BASH}"
                     "-DARGS=${_za_plot}|${_args}" "-DRC=${rc}" "-DREGEX=${regex}"
                     -P ${CMAKE_CURRENT_LIST_FILE})
    set_tests_properties(${name} PROPERTIES TIMEOUT 30 LABELS tool
                         ENVIRONMENT "ZA_PLOT_NO_INSTALL=1")
  endfunction()
  za_plot_test(tool_plot_usage 2 "Usage: plot-timeline.sh CSV")
  za_plot_test(tool_plot_help 0 "Usage: plot-timeline.sh CSV" --help)
  za_plot_test(tool_plot_missing 1 "no such file" /nonexistent/t.csv)
  za_plot_test(tool_plot_not_timeline 1 "not a zonealloc timeline"
               ${CMAKE_CURRENT_LIST_FILE})
  za_plot_test(tool_plot_header_only 1 "no data rows" "${_bad}-header.csv")
  za_plot_test(tool_plot_short_row 1 "line 3: 6 fields where the header has 18"
               "${_bad}-fields.csv")
  za_plot_test(tool_plot_not_number 1 "column free is .lots., not a number"
               "${_bad}-number.csv")
endif()
