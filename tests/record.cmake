# tests/record.cmake - tests of `zonealloc record` (tools/record.c) and of
# replaying a recording's machine header (tools/machine.c, tools/replay.c).
# Label: record.
#
# One file, two roles, as tests/replay.cmake does it: included by
# tests/CMakeLists.txt it registers the tests; run as a script
# (cmake -DCHECK=... -P tests/record.cmake) it is the check one test runs.
#
# record needs root and a real tracefs, which CI may not have, so these
# tests point it at a fake one (--tracefs DIR: plain files where tracefs
# has its switches, a trace_pipe holding canned events) and a fake /proc
# (--proc DIR: a hand-written zoneinfo and vm sysctls). They check what
# record writes and that it leaves every tracefs file as it found it.
# The shipped traces (traces/*.trace.xz) replay here too.

if(CMAKE_SCRIPT_MODE_FILE)
  # ------------------------------------------------------------------
  # Script mode. In: CHECK, EXE, TRACES (traces/), XZ, WORK.
  file(REMOVE_RECURSE ${WORK})
  file(MAKE_DIRECTORY ${WORK})

  set(ZA_AREA record)
  include(${CMAKE_CURRENT_LIST_DIR}/script/common.cmake)

  # The fake machine. Its watermarks are what Linux computes for these
  # zones with min_free_kbytes 8192 (2048 pages over 1040128 lowmem
  # pages; low and high a step of max(min/4, managed/1000) above), and its
  # Movable zone is empty with the 32-page floor the kernel prints.
  set(ZONEINFO "Node 0, zone      DMA
  per-node stats
      nr_inactive_anon 100
  pages free     3840
        boost    0
        min      7
        low      10
        high     13
        spanned  4095
        present  3998
        managed  3840
        cma      0
        protection: (0, 2015, 4047, 4047, 4047)
      nr_free_pages 3840
  pagesets
    cpu: 0
              count:    0
              high:     0
              batch:    1
              high_min: 5
              high_max: 240
  vm stats threshold: 4
  node_unreclaimable:  0
  start_pfn:           1
Node 0, zone    DMA32
  pages free     500000
        boost    0
        min      1016
        low      1532
        high     2048
        spanned  1044480
        present  520192
        managed  516096
        cma      0
        protection: (0, 0, 2032, 2032, 2032)
  pagesets
    cpu: 0
              count:    17
              high:     766
              batch:    63
              high_min: 766
              high_max: 32256
  vm stats threshold: 24
  node_unreclaimable:  0
  start_pfn:           4096
Node 0, zone   Normal
  pages free     510000
        boost    0
        min      1024
        low      1544
        high     2064
        spanned  524288
        present  524288
        managed  520192
        cma      0
        protection: (0, 0, 0, 0, 0)
  pagesets
    cpu: 0
              count:    300
              high:     772
              batch:    63
              high_min: 772
              high_max: 32512
  vm stats threshold: 24
  node_unreclaimable:  0
  start_pfn:           1048576
Node 0, zone  Movable
  pages free     0
        boost    0
        min      32
        low      32
        high     32
        spanned  0
        present  0
        managed  0
        cma      0
        protection: (0, 0, 0, 0, 0)
")

  # 100 order-0 allocations on CPU 0, then their frees, as trace_pipe
  # prints them (with the hashed page= that record drops).
  function(make_events out)
    set(text "")
    foreach(i RANGE 1 100)
      math(EXPR pfn "1048576 + ${i} * 3" OUTPUT_FORMAT HEXADECIMAL)
      string(APPEND text "          sh-42      [000] .....   1.${i}000: "
             "mm_page_alloc: page=00000000deadbeef pfn=${pfn} order=0 "
             "migratetype=0 gfp_flags=GFP_KERNEL\n")
    endforeach()
    foreach(i RANGE 1 100)
      math(EXPR pfn "1048576 + ${i} * 3" OUTPUT_FORMAT HEXADECIMAL)
      string(APPEND text "          sh-42      [000] .....   2.${i}000: "
             "mm_page_free: page=00000000deadbeef pfn=${pfn} order=0\n")
    endforeach()
    set(${out} "${text}" PARENT_SCOPE)
  endfunction()

  # A fake tracefs (top-level only, no instances) and a fake /proc.
  function(make_fakes)
    set(t ${WORK}/tfs)
    foreach(e mm_page_alloc mm_page_free mm_page_free_batched
              mm_page_alloc_zone_locked mm_page_pcpu_drain)
      file(WRITE ${t}/events/kmem/${e}/enable "0\n")
    endforeach()
    file(WRITE ${t}/tracing_on "1\n")
    file(WRITE ${t}/buffer_size_kb "7 (expanded: 1408)\n")
    file(WRITE ${t}/trace "")
    file(WRITE ${t}/per_cpu/cpu0/stats
         "entries: 0\noverrun: 3\ncommit overrun: 0\nbytes: 0\n"
         "dropped events: 0\nread events: 0\n")
    make_events(ev)
    file(WRITE ${t}/trace_pipe "${ev}")
    set(p ${WORK}/proc)
    file(WRITE ${p}/zoneinfo "${ZONEINFO}")
    file(WRITE ${p}/sys/vm/min_free_kbytes "8192\n")
    file(WRITE ${p}/sys/vm/watermark_scale_factor "10\n")
    file(WRITE ${p}/sys/vm/percpu_pagelist_high_fraction "0\n")
    file(WRITE ${p}/sys/vm/lowmem_reserve_ratio "256\t256\t32\t0\t0\n")
    file(WRITE ${p}/sys/kernel/osrelease "6.1.0-fake\n")
    file(WRITE ${p}/sys/kernel/version "#1 SMP fake\n")
    # the kernel's counters: record keeps compact_*, thp_*, pgmigrate_*
    file(WRITE ${p}/vmstat "nr_free_pages 100\npgmigrate_success 40\n"
         "compact_stall 5\ncompact_success 4\nthp_fault_alloc 7\n"
         "thp_fault_fallback 1\nallocstall_normal 0\n")
  endfunction()

  # Every tracefs file holds what it held before the recording.
  function(expect_restored)
    set(t ${WORK}/tfs)
    foreach(e mm_page_alloc mm_page_free mm_page_free_batched
              mm_page_alloc_zone_locked mm_page_pcpu_drain)
      file(READ ${t}/events/kmem/${e}/enable v)
      string(STRIP "${v}" v)
      if(NOT v STREQUAL "0")
        fail("events/kmem/${e}/enable is '${v}' after recording, was 0")
      endif()
    endforeach()
    file(READ ${t}/tracing_on v)
    string(STRIP "${v}" v)
    if(NOT v STREQUAL "1")
      fail("tracing_on is '${v}' after recording, was 1")
    endif()
    file(READ ${t}/buffer_size_kb v)
    string(STRIP "${v}" v)
    # what it said, or the size it stood for ("7 (expanded: 1408)" is a
    # buffer not yet allocated; it will be 1408 KiB)
    if(NOT v STREQUAL "1408" AND NOT v STREQUAL "7 (expanded: 1408)")
      fail("buffer_size_kb is '${v}' after recording, was 1408 (expanded)")
    endif()
  endfunction()

  # No temporary file of record's left in WORK.
  function(expect_no_temp)
    file(GLOB left ${WORK}/*.tmp.*)
    if(left)
      fail("temporary files left behind: ${left}")
    endif()
  endfunction()

  # expect(<exit> <stderr-regex> <command...>)
  function(expect code regex)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                    ERROR_VARIABLE err)
    if(NOT rc STREQUAL "${code}")
      fail("${ARGN}: exit '${rc}', expected ${code}\n${out}${err}")
    endif()
    if(NOT err MATCHES "${regex}")
      fail("${ARGN}: stderr '${err}' does not match '${regex}'")
    endif()
    message("ok (${code}): ${ARGN} -> ${err}")
  endfunction()

  # jnear(<json> <expected> <slack> key...)
  function(jnear json expected slack)
    jget(v "${json}" ${ARGN})
    math(EXPR d "${v} - ${expected}")
    if(d LESS 0)
      math(EXPR d "0 - ${d}")
    endif()
    if(d GREATER ${slack})
      fail("${ARGN} is ${v}, expected ${expected} (+-${slack})")
    endif()
  endfunction()

  # The index of the zone called name in recorded_machine.zones.
  function(zone_index out json name)
    string(JSON n LENGTH "${json}" topology recorded_machine zones)
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      string(JSON z GET "${json}" topology recorded_machine zones ${i} zone)
      if(z STREQUAL "${name}")
        set(${out} ${i} PARENT_SCOPE)
        return()
      endif()
    endforeach()
    fail("no zone ${name} in recorded_machine")
  endfunction()

  # A recording written by hand: the fake machine's header (its zoneinfo
  # passed through the regex replacements given as pairs), events, and an
  # end line counting `lines` (default: the real count; "none": no end).
  function(hand_trace path lines)
    string(REPLACE "\n" ";" zl "${ZONEINFO}")
    string(CONCAT h "# zonealloc-trace: 1\n# kernel: 6.1.0-hand\n"
           "# page-size: 4096\n# cpus-possible: 2\n"
           "# vm.min_free_kbytes: 8192\n")
    foreach(l ${zl})
      string(APPEND h "# zoneinfo: ${l}\n")
    endforeach()
    string(APPEND h "# header-end\n")
    set(args ${ARGN})
    while(args)
      list(POP_FRONT args from to)
      string(REGEX REPLACE "${from}" "${to}" h "${h}")
    endwhile()
    make_events(ev)
    if(lines STREQUAL "")
      set(lines 200)
    endif()
    if(lines STREQUAL "none")
      file(WRITE ${path} "${h}${ev}")
    else()
      file(WRITE ${path} "${h}${ev}# zonealloc-trace-end: lines=${lines} "
                 "lost=0 seconds=1.000 stop=command\n")
    endif()
  endfunction()

  if(CHECK STREQUAL "usage")
    foreach(args "" "--bogus" "-o;x;--xz-level;12" "-o;-" "-o;x;--seconds;0"
                 "-o;x;--seconds;soon" "-o;x;--command-only"
                 "-o;x;--buffer-kb;1" "--output")
      expect(2 "Try 'zonealloc record --help'" ${EXE} record ${args})
    endforeach()
    expect(2 "--topology weird: expected recorded or ours"
           ${EXE} replay --topology weird x)
    execute_process(COMMAND ${EXE} record --help RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out)
    if(NOT rc STREQUAL "0" OR NOT out MATCHES "--seconds N")
      fail("record --help: exit ${rc}")
    endif()
    execute_process(COMMAND ${EXE} --help OUTPUT_VARIABLE out)
    if(NOT out MATCHES "record +record this kernel")
      fail("'zonealloc --help' does not list record")
    endif()

  elseif(CHECK STREQUAL "no_tracefs")
    make_fakes()
    expect(1 "no tracefs there" ${EXE} record --quiet --tracefs ${WORK}/none
           --proc ${WORK}/proc -o ${WORK}/out.trace.xz --seconds 1)
    # a tracefs without the kmem events
    file(REMOVE_RECURSE ${WORK}/tfs/events/kmem/mm_page_pcpu_drain)
    expect(1 "no kmem:mm_page_pcpu_drain event" ${EXE} record --quiet
           --tracefs ${WORK}/tfs --proc ${WORK}/proc -o ${WORK}/out.trace.xz
           --seconds 1)
    # no zoneinfo to describe the machine with
    make_fakes()
    file(REMOVE ${WORK}/proc/zoneinfo)
    expect(1 "zoneinfo" ${EXE} record --quiet --tracefs ${WORK}/tfs
           --proc ${WORK}/proc -o ${WORK}/out.trace.xz --seconds 1)
    expect_restored()
    # a command that cannot run: nothing written, tracefs as it was
    make_fakes()
    expect(1 "cannot run '${WORK}/no-such-program'" ${EXE} record --quiet
           --tracefs ${WORK}/tfs --proc ${WORK}/proc -o ${WORK}/out.trace.xz
           -- ${WORK}/no-such-program)
    expect_restored()
    if(EXISTS ${WORK}/out.trace.xz)
      fail("an output file was written by a recording that failed")
    endif()
    expect_no_temp()

  elseif(CHECK STREQUAL "no_root")
    # A real "no root": the same command as user nobody (setpriv, from
    # util-linux), against the machine's own tracefs.
    execute_process(COMMAND id -u OUTPUT_VARIABLE uid
                    OUTPUT_STRIP_TRAILING_WHITESPACE)
    set(runner "")
    if(uid STREQUAL "0")
      if(NOT SETPRIV)
        message("skipped: running as root and no setpriv to drop it")
        return()
      endif()
      set(runner ${SETPRIV} --reuid=65534 --regid=65534 --clear-groups)
    endif()
    expect(1 "needs root" ${runner} ${EXE} record --quiet -o
           /nonexistent-dir/out.trace.xz --seconds 1)

  elseif(CHECK STREQUAL "fake")
    # The whole round trip: record from the fake tracefs, the header
    # read back by replay, and the zones built from it.
    make_fakes()
    expect(0 "" ${EXE} record --quiet --tracefs ${WORK}/tfs
           --proc ${WORK}/proc -o ${WORK}/out.trace.xz -- true)
    expect_restored()
    expect_no_temp()
    if(XZ)
      execute_process(COMMAND ${XZ} -dc ${WORK}/out.trace.xz
                      OUTPUT_VARIABLE text RESULT_VARIABLE rc)
      if(NOT rc STREQUAL "0")
        fail("xz cannot read what record wrote")
      endif()
      foreach(want "# zonealloc-trace: 1\n" "# kernel: 6.1.0-fake\n"
              "# vm.min_free_kbytes: 8192\n" "# command: true\n"
              "# zoneinfo:   start_pfn:           4096\n"
              "# vmstat: compact_stall 5\n" "# vmstat: thp_fault_fallback 1\n"
              "# vmstat: pgmigrate_success 40\n" "# header-end\n"
              "# end-vmstat: compact_stall 5\n"
              "# zonealloc-trace-end: lines=200 lost=0 "
              "\nsh-42 +\\[000\\] [.]+ +1.1000: mm_page_alloc: pfn=0x100003 "
              "order=0 migratetype=0 gfp_flags=GFP_KERNEL\n")
        if(NOT text MATCHES "${want}")
          fail("the recording lacks '${want}'")
        endif()
      endforeach()
      if(text MATCHES "page=")
        fail("the hashed page= field was kept")
      endif()
      if(text MATCHES "vmstat: (nr_free_pages|allocstall)")
        fail("vmstat lines other than compact_, thp_, pgmigrate_ kept")
      endif()
    endif()
    run_ok(json --json --no-timing ${WORK}/out.trace.xz)
    jget(v "${json}" topology source)
    if(NOT v STREQUAL "recorded")
      fail("topology source is '${v}', expected recorded")
    endif()
    jget(v "${json}" topology recorded_machine kernel)
    if(NOT v STREQUAL "6.1.0-fake")
      fail("recorded kernel '${v}'")
    endif()
    jget(cpus "${json}" topology recorded_machine cpus)
    jget(v "${json}" topology cpus)
    if(NOT v STREQUAL cpus)
      fail("replayed on ${v} CPUs, the machine had ${cpus}")
    endif()
    # DMA: 3840 managed of a 4096-page block: 256 held back
    zone_index(i "${json}" DMA)
    jnear("${json}" 3840 0 topology recorded_machine zones ${i} built managed)
    jnear("${json}" 256 0 topology recorded_machine zones ${i} built held_back)
    # DMA32 and Normal are whole blocks: their watermarks and list sizes
    # are the kernel's, to a page of rounding
    foreach(z DMA32 Normal)
      zone_index(i "${json}" ${z})
      set(k topology recorded_machine zones ${i})
      jget(managed "${json}" ${k} managed)
      jnear("${json}" ${managed} 0 ${k} built managed)
      jnear("${json}" 0 0 ${k} built held_back)
      foreach(w min low high)
        jget(want "${json}" ${k} ${w})
        jnear("${json}" ${want} 1 ${k} built ${w})
      endforeach()
      jnear("${json}" 63 0 ${k} built pcp_batch)
      # high_min = low / CPUs, high_max = managed / 8 / CPUs (Linux 6.7+)
      jget(low "${json}" ${k} low)
      math(EXPR hmin "${low} / ${cpus}")
      jnear("${json}" ${hmin} 1 ${k} built pcp_high_min)
      math(EXPR hmax "${managed} / 8 / ${cpus}")
      jnear("${json}" ${hmax} 1 ${k} built pcp_high_max)
    endforeach()
    jget(v "${json}" replay allocations)
    if(NOT v STREQUAL "100")
      fail("replayed ${v} allocations, expected 100")
    endif()
    # the kernel's counters at both ends, beside zonealloc's own
    jget(v "${json}" compaction kernel 1 name)
    jget(s "${json}" compaction kernel 1 start)
    jget(e "${json}" compaction kernel 1 delta)
    if(NOT v STREQUAL "compact_stall" OR NOT s STREQUAL "5" OR
       NOT e STREQUAL "0")
      fail("compaction kernel 1: '${v}' start '${s}' delta '${e}'")
    endif()
    jget(v "${json}" compaction zonealloc compact_stall)
    jget(v "${json}" check whole_again)
    if(NOT v STREQUAL "ON" AND NOT v STREQUAL "true")
      fail("the zones were not whole again after the replay")
    endif()
    # --topology ours: today's machine from the trace's pfns
    execute_process(COMMAND ${EXE} replay --quiet --json --no-timing
                    --topology ours ${WORK}/out.trace.xz
                    RESULT_VARIABLE rc OUTPUT_VARIABLE json)
    jget(v "${json}" topology source)
    if(NOT rc STREQUAL "0" OR NOT v STREQUAL "ours")
      fail("--topology ours: exit ${rc}, source '${v}'")
    endif()

  elseif(CHECK STREQUAL "peaks")
    # The looks at zoneinfo while recording (--sample-ms): a list that
    # grows and shrinks back between the start and the end is seen only
    # by them. The fake zoneinfo is swapped (by rename: a look never reads
    # half a file) for one second to one whose Normal list on CPU 0 holds
    # 9000 pages under a high of 9500, then back to the first.
    make_fakes()
    string(REPLACE "count:    300\n              high:     772"
           "count:    9000\n              high:     9500" big "${ZONEINFO}")
    if(big STREQUAL ZONEINFO)
      fail("the fake zoneinfo lost its Normal list")
    endif()
    file(WRITE ${WORK}/zi-big "${big}")
    file(WRITE ${WORK}/zi-small "${ZONEINFO}")
    # (&& and not ;, which would split the CMake list)
    set(swap "sleep 0.5 && cp \"$0/zi-big\" \"$0/zi.tmp\" && \
mv \"$0/zi.tmp\" \"$0/proc/zoneinfo\" && sleep 1 && \
cp \"$0/zi-small\" \"$0/zi.tmp\" && mv \"$0/zi.tmp\" \"$0/proc/zoneinfo\" && \
sleep 0.5")
    foreach(ms 20 0)
      make_fakes()
      expect(0 "" ${EXE} record --quiet --tracefs ${WORK}/tfs
             --proc ${WORK}/proc -o ${WORK}/out.trace.xz --sample-ms ${ms}
             -- sh -c "${swap}" ${WORK})
      expect_restored()
      run_ok(json --json --no-timing ${WORK}/out.trace.xz)
      string(JSON npeak LENGTH "${json}" pcp_peak)
      math(EXPR last "${npeak} - 1")
      set(found 0)
      foreach(i RANGE ${last})
        jget(zname "${json}" pcp_peak ${i} zone)
        jget(cpu "${json}" pcp_peak ${i} cpu)
        if(NOT zname STREQUAL "Normal" OR NOT cpu EQUAL 0)
          continue()
        endif()
        set(found 1)
        jget(ks "${json}" pcp_peak ${i} kernel_high_start)
        jget(ke "${json}" pcp_peak ${i} kernel_high_end)
        jget(lc "${json}" pcp_peak ${i} kernel_looked_most_pages)
        jget(lh "${json}" pcp_peak ${i} kernel_looked_top_high)
        message("--sample-ms ${ms}: high ${ks} at the start, ${ke} at the "
                "end; looked: ${lc} pages, high ${lh}")
        if(NOT ks EQUAL 772 OR NOT ke EQUAL 772)
          fail("the kernel's high at the start and end: ${ks}, ${ke}; "
               "the fake machine's is 772 at both")
        endif()
        if(ms EQUAL 0)
          set(want_c 300)
          set(want_h 772)
        else()
          set(want_c 9000)
          set(want_h 9500)
        endif()
        if(NOT lc EQUAL want_c OR NOT lh EQUAL want_h)
          fail("--sample-ms ${ms}: the looks saw ${lc} pages under high "
               "${lh}, expected ${want_c} under ${want_h}")
        endif()
      endforeach()
      if(NOT found)
        fail("no pcp_peak row for CPU 0's Normal list")
      endif()
      if(XZ)
        execute_process(COMMAND ${XZ} -dc ${WORK}/out.trace.xz
                        OUTPUT_VARIABLE text)
        if(ms EQUAL 0 AND NOT text MATCHES "# pcp-peak-samples: 2 every 0 ms\n")
          fail("--sample-ms 0: not exactly two looks (the start and the end)")
        endif()
        if(ms EQUAL 20 AND NOT text MATCHES
           "# pcp-peak: Node 0, zone Normal, cpu 0, count 9000, high 9500\n")
          fail("no pcp-peak line for the grown list")
        endif()
      endif()
    endforeach()
    expect(2 "--sample-ms" ${EXE} record --tracefs ${WORK}/tfs
           --proc ${WORK}/proc -o ${WORK}/out.trace.xz --sample-ms 70000)
    # A pcp-peak line that says nothing readable: the recording is
    # refused, naming the line; a good one reaches the report.
    set(T ${WORK}/hand.trace)
    hand_trace(${T} "")
    file(APPEND ${T} "# pcp-peak: Node 0, zone Normal, cpu 0, count lots\n")
    expect(1 "a pcp-peak line that cannot be read: 'Node 0, zone Normal, cpu 0, count lots'"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "")
    file(APPEND ${T} "# pcp-peak-samples: 5 every 100 ms\n"
         "# pcp-peak: Node 0, zone Normal, cpu 0, count 4000, high 4100\n")
    run_ok(out --no-timing ${T})
    if(NOT out MATCHES "node 0 Normal +0 +[0-9]+ +[0-9]+ +772 +- +4000 +4100\n"
       OR NOT out MATCHES "looked at 5 times, every 100 ms")
      fail("the hand-made looks are not in the report:\n${out}")
    endif()

  elseif(CHECK STREQUAL "signal")
    # SIGTERM while the command runs: the trace is finished and kept,
    # tracefs restored, the command stopped.
    make_fakes()
    execute_process(COMMAND sh -c "\"$0\" record --quiet --tracefs \"$1\" \
--proc \"$2\" -o \"$3\" -- sleep 60 & p=$!; sleep 1; kill -TERM $p; wait $p"
                    ${EXE} ${WORK}/tfs ${WORK}/proc ${WORK}/out.trace.xz
                    RESULT_VARIABLE rc ERROR_VARIABLE err TIMEOUT 30)
    if(NOT rc STREQUAL "0")
      fail("record stopped by SIGTERM: exit ${rc}: ${err}")
    endif()
    expect_restored()
    expect_no_temp()
    if(XZ)
      execute_process(COMMAND ${XZ} -dc ${WORK}/out.trace.xz
                      OUTPUT_VARIABLE text)
      if(NOT text MATCHES "# zonealloc-trace-end: lines=200 [^\n]*stop=SIGTERM")
        fail("the end line does not say SIGTERM stopped it")
      endif()
    endif()

  elseif(CHECK STREQUAL "bad_header")
    set(T ${WORK}/hand.trace)
    # the good one first: the checks below must fail for their reason
    hand_trace(${T} "")
    run_ok(json --json --no-timing ${T})
    jget(v "${json}" topology source)
    if(NOT v STREQUAL "recorded")
      fail("the good hand-made recording: source '${v}'")
    endif()
    hand_trace(${T} "" "start_pfn:           1048576" "start_pfn:           900000")
    expect(1 "bad machine header: node 0 zone Normal .* overlaps node 0 zone DMA32"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "high     2064" "high     600000")
    expect(1 "bad machine header: node 0 zone Normal: watermark high 600000 is above its 520192 managed pages"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "managed  516096" "managed  999999")
    expect(1 "999999 managed pages of 520192 present" ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "# page-size: 4096" "# page-size: 5000")
    expect(1 "page size 5000 is not a power of two" ${EXE} replay --quiet ${T})
    # Header numbers are read strictly: the page size and the format too.
    hand_trace(${T} "" "# page-size: 4096" "# page-size: 4k")
    expect(1 "page-size: '4k' is not a number" ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "# page-size: 4096" "# page-size: 99999999999999999999")
    expect(1 "page-size: 99999999999999999999 out of range"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "# zonealloc-trace: 1" "# zonealloc-trace: 1.0")
    expect(1 "zonealloc-trace: '1.0' is not a number" ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "# zonealloc-trace: 1" "# zonealloc-trace: 7")
    expect(1 "header format '7' is not one this zonealloc reads"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "# cpus-possible: 2" "# cpus-possible: 1"
               "cpu: 0" "cpu: 1")
    expect(1 "a page set of CPU 1, and the header says 1 CPUs"
           ${EXE} replay --quiet ${T})
    # values past what the field holds are refused, naming the field
    # and the value as the file has it (not what it was cut to)
    hand_trace(${T} "" "# cpus-possible: 2" "# cpus-possible: 99999999999")
    expect(1 "bad machine header: cpus-possible: 99999999999 out of range \\(1\\.\\.4096\\)"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "# cpus-possible: 2" "# cpus-possible: 0")
    expect(1 "bad machine header: cpus-possible: 0 out of range"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "# vm.min_free_kbytes: 8192" "# vm.min_free_kbytes: -1")
    expect(1 "bad machine header: vm.min_free_kbytes: negative value -1"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "# vm.min_free_kbytes: 8192"
               "# vm.min_free_kbytes: 8192\n# vm.watermark_scale_factor: 2147483648")
    expect(1 "bad machine header: vm.watermark_scale_factor: 2147483648 out of range"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "# vm.min_free_kbytes: 8192"
               "# vm.min_free_kbytes: 8192\n# vm.percpu_pagelist_high_fraction: lots")
    expect(1 "bad machine header: vm.percpu_pagelist_high_fraction: 'lots' is not a number"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "count:    17" "count:    4294967297")
    expect(1 "bad machine header: header zoneinfo line [0-9]+: 'count: +4294967297' out of range for a page set \\(0\\.\\.2147483647\\)"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "high:     766" "high:     99999999999")
    expect(1 "bad machine header: header zoneinfo line [0-9]+: 'high: +99999999999' out of range for a page set"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "batch:    63" "batch:    4294967296")
    expect(1 "bad machine header: header zoneinfo line [0-9]+: 'batch: +4294967296' out of range for a page set"
           ${EXE} replay --quiet ${T})
    # a zone's or a page set's figure is the whole rest of its line, and
    # fits a long (review 14, finding 4: '766abc' read as 766, a managed
    # count past LONG_MAX as LONG_MAX)
    hand_trace(${T} "" "high:     766" "high:     766abc")
    expect(1 "bad machine header: header zoneinfo line [0-9]+: 'high: +766abc' is not a number"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "managed  516096" "managed  516096kB")
    expect(1 "bad machine header: header zoneinfo line [0-9]+: 'managed +516096kB' is not a number"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "managed  516096" "managed  99999999999999999999")
    expect(1 "bad machine header: header zoneinfo line [0-9]+: 'managed +99999999999999999999' is out of range"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} "" "# header-end\n" "")
    expect(1 "no '# header-end' line: a truncated recording"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} none)
    expect(1 "a truncated recording: .* end line .* is missing"
           ${EXE} replay --quiet ${T})
    hand_trace(${T} 150)
    expect(1 "a damaged recording: its end line counts 150 lines of events, the file holds 200"
           ${EXE} replay --quiet ${T})
    # topology options
    hand_trace(${T} "")
    expect(2 "--mem shapes the machine" ${EXE} replay --quiet
           --topology recorded --mem 1G ${T})
    execute_process(COMMAND ${EXE} replay --quiet --json --mem 8G ${T}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE json)
    jget(v "${json}" topology source)
    if(NOT rc STREQUAL "0" OR NOT v STREQUAL "ours")
      fail("--mem without --topology: exit ${rc}, source '${v}'")
    endif()
    make_events(ev)
    file(WRITE ${WORK}/plain.trace "${ev}")
    expect(2 "has no machine header" ${EXE} replay --quiet
           --topology recorded ${WORK}/plain.trace)

  elseif(CHECK STREQUAL "header_sysctl")
    # The recorded machine's vm sysctls are the replay's: its
    # watermark_scale_factor spaces the watermarks, its
    # percpu_pagelist_high_fraction sizes the lists, its
    # lowmem_reserve_ratio (one value per zone of the kernel: the hand
    # zoneinfo lists DMA, DMA32, Normal, Movable) goes zone by zone.
    set(T ${WORK}/hand.trace)
    set(mfk "# vm.min_free_kbytes: 8192")
    # the hand machine's Normal zone as the defaults build it (10, 0)
    hand_trace(${T} "")
    run_ok(json --json --no-timing ${T})
    jget(low "${json}" topology recorded_machine zones 2 built low)
    jget(hmax "${json}" topology recorded_machine zones 2 built pcp_high_max)
    if(NOT low EQUAL 1544 OR NOT hmax EQUAL 32512)
      fail("the hand machine's Normal zone: low ${low}, list high_max ${hmax}; expected 1544 and 32512 by default")
    endif()
    string(CONCAT h "${mfk}\n# vm.watermark_scale_factor: 200\n"
           "# vm.percpu_pagelist_high_fraction: 16\n"
           "# vm.lowmem_reserve_ratio: 100 200 30 7")
    hand_trace(${T} "" "${mfk}" "${h}")
    run_ok(json --json --no-timing ${T})
    jget(zone "${json}" topology recorded_machine zones 2 zone)
    jget(min "${json}" topology recorded_machine zones 2 built min)
    jget(low "${json}" topology recorded_machine zones 2 built low)
    jget(high "${json}" topology recorded_machine zones 2 built high)
    jget(hmin "${json}" topology recorded_machine zones 2 built pcp_high_min)
    jget(hmax "${json}" topology recorded_machine zones 2 built pcp_high_max)
    message("recorded 200, 16: Normal min ${min}, low ${low}, high ${high}; "
            "lists ${hmin}..${hmax}")
    # 520192 managed pages: a step of 520192 * 200 / 10000 = 10403; each
    # of 2 CPUs' lists 520192 / 16 / 2 = 16256, fixed
    if(NOT zone STREQUAL "Normal" OR NOT min EQUAL 1024 OR
       NOT low EQUAL 11427 OR NOT high EQUAL 21830 OR
       NOT hmin EQUAL 16256 OR NOT hmax EQUAL 16256)
      fail("the recorded sysctls are not the replay's: ${zone} min ${min}, low ${low}, high ${high}, lists ${hmin}..${hmax}; expected Normal 1024, 11427, 21830, 16256..16256")
    endif()
    foreach(k "watermark_scale_factor;200" "percpu_pagelist_high_fraction;16"
              "lowmem_reserve_ratio;100 200 30 7" "min_free_kbytes;8192")
      list(GET k 0 name)
      list(GET k 1 want)
      jget(v "${json}" topology recorded_machine replayed_sysctls ${name})
      if(NOT v STREQUAL want)
        fail("replayed ${name} '${v}', expected '${want}'")
      endif()
    endforeach()
    run_ok(out --no-timing ${T})
    if(NOT out MATCHES "# the recorded machine: [^\n]*min_free_kbytes 8192, watermark_scale_factor 200, percpu_pagelist_high_fraction 16, lowmem_reserve_ratio 100 200 30 7\n")
      fail("the report does not give the recorded sysctls:\n${out}")
    endif()
    if(out MATCHES "note:")
      fail("a note, and every sysctl was applied:\n${out}")
    endif()
    # an option wins over the recording, and a note says so
    run_ok(json --json --no-timing --sysctl watermark_scale_factor=50 ${T})
    jget(v "${json}" topology recorded_machine replayed_sysctls
         watermark_scale_factor)
    jget(low "${json}" topology recorded_machine zones 2 built low)
    if(NOT v STREQUAL "50" OR NOT low EQUAL 3624)
      fail("--sysctl watermark_scale_factor=50 over a recorded 200: replayed '${v}', Normal low ${low}; expected 50 and 3624")
    endif()
    run_ok(out --no-timing --sysctl watermark_scale_factor=50 ${T})
    if(NOT out MATCHES "# note: vm.watermark_scale_factor was 200; the replay uses 50, as --sysctl or --sweep sets it\n")
      fail("no note of --sysctl replacing the recorded value:\n${out}")
    endif()
    # a value the library refuses: a note naming it, zonealloc's kept
    string(CONCAT h "${mfk}\n# vm.watermark_scale_factor: 5000\n"
           "# vm.percpu_pagelist_high_fraction: 4\n"
           "# vm.lowmem_reserve_ratio: 1 2")
    hand_trace(${T} "" "${mfk}" "${h}")
    run_ok(out --no-timing ${T})
    foreach(want
        "vm.watermark_scale_factor was 5000, which zonealloc refuses [(]out of range; it takes 1[.][.]3000[)]; the replay keeps its 10"
        "vm.percpu_pagelist_high_fraction was 4, which zonealloc refuses [(]out of range; it takes 0, or 8[.][.]2147483647[)]; the replay keeps its 0"
        "vm.lowmem_reserve_ratio was '1 2', which is not one number per zone of the header's zoneinfo; the replay keeps zonealloc's 256 256 32 0")
      if(NOT out MATCHES "# note: ${want}\n")
        fail("no note '${want}':\n${out}")
      endif()
    endforeach()
    if(out MATCHES "fixed at 10")
      fail("the old note:\n${out}")
    endif()

  elseif(CHECK STREQUAL "stream")
    # --stream replays while reading: the same figures as reading the
    # whole trace first, with memory for the live blocks only. It cannot
    # know the unmatched frees before it reads them (no stand-ins: the
    # whole trace is replayed with --skip-unmatched), nor the trace's
    # mobility split that fills the lists at the start (both sides start
    # them empty; tests/replay.cmake's warm check covers --stream's).
    # same_report(<args...>): both ways, every section but timing equal
    function(same_report)
      run_ok(a --json --no-timing --skip-unmatched --empty-lists ${ARGN})
      run_ok(b --json --no-timing --stream --empty-lists ${ARGN})
      foreach(k stream_peak_live_blocks stream_peak_table_bytes
                stream_bytes_per_live_block)
        string(JSON b REMOVE "${b}" replay ${k})
      endforeach()
      jsame("${a}" "${b}" "streamed (${ARGN})" trace topology replay
            zonealloc_events per_1000_allocs fragmentation check)
      message("ok: ${ARGN} the same streamed")
    endfunction()
    same_report(${TRACES}/thp-madvise.trace.xz)
    same_report(--mem 6G --cpus 2 --limit 200000 ${TRACES}/kernel-mixed.trace.xz)

    # 20000 blocks allocated and never freed: the table stays under 100
    # bytes per live block
    set(T ${WORK}/live.trace)
    hand_trace(${T} "")
    file(READ ${T} text)
    string(REGEX REPLACE "\n[^#][^\n]*" "" head "${text}")
    string(REGEX MATCH "# zonealloc-trace-end[^\n]*\n" tail "${text}")
    # (awk: a CMake loop of 20000 appends takes minutes)
    execute_process(COMMAND awk "BEGIN { for (i = 1; i <= 20000; i++) \
printf \"x-1 [00%d] ..... 3.%d: mm_page_alloc: pfn=0x%x order=1 \
migratetype=0 gfp_flags=GFP_KERNEL\\n\", i % 2, i, 1048576 + i * 8 }"
                    OUTPUT_VARIABLE ev RESULT_VARIABLE rc)
    if(NOT rc STREQUAL "0")
      fail("awk could not write the events")
    endif()
    string(REGEX REPLACE "lines=[0-9]+" "lines=20000" tail "${tail}")
    string(REGEX REPLACE "\n# zonealloc-trace-end.*" "\n" head "${head}")
    file(WRITE ${T} "${head}${ev}${tail}")
    same_report(${T})
    execute_process(COMMAND ${EXE} replay --quiet --json --stream ${T}
                    OUTPUT_VARIABLE json RESULT_VARIABLE rc)
    jget(n "${json}" replay stream_peak_live_blocks)
    jget(bytes "${json}" replay stream_peak_table_bytes)
    if(NOT n STREQUAL "20000")
      fail("streamed: ${n} live blocks at the peak, expected 20000")
    endif()
    math(EXPR per "${bytes} / ${n}")
    if(per GREATER 100)
      fail("streamed: ${bytes} bytes of table for ${n} live blocks")
    endif()
    message("ok: ${n} live blocks in ${bytes} bytes")

    # a recording cut short is still refused, after the replay
    hand_trace(${T} none)
    expect(1 "a truncated recording" ${EXE} replay --quiet --stream ${T})
    hand_trace(${T} 150)
    expect(1 "a damaged recording" ${EXE} replay --quiet --stream ${T})
    # the machine must be known before the first event
    make_events(ev)
    file(WRITE ${WORK}/plain.trace "${ev}")
    expect(2 "--stream needs the machine before the events"
           ${EXE} replay --quiet --stream ${WORK}/plain.trace)
    expect(2 "--stream replays in det mode only"
           ${EXE} replay --quiet --stream --mode threads ${T})

  elseif(CHECK STREQUAL "compaction")
    # traces/thp-compact.trace.xz (the kernel compacted while it was
    # recorded) on a small machine fragmented before the replay: with
    # compaction off some of its order-9 allocations fail that succeed
    # with it on. Behaviour only: the counts, never the time.
    set(t ${TRACES}/thp-compact.trace.xz)
    set(args --json --no-timing --topology ours --mem 256M --prefragment 80)
    run_ok(off ${args} ${t})
    run_ok(on ${args} --compaction ${t})
    jget(f_off "${off}" replay alloc_failures_by_order 9)
    jget(f_on "${on}" replay alloc_failures_by_order 9)
    jget(moved "${on}" replay compaction_moved_prefragment)
    jget(st_off "${off}" compaction zonealloc compact_stall)
    jget(st_on "${on}" compaction zonealloc compact_stall)
    jget(ok_on "${on}" compaction zonealloc compact_success)
    message("order-9 failures: ${f_off} with compaction off, ${f_on} on "
            "(${st_on} direct compactions, ${ok_on} successful, "
            "${moved} prefragment blocks moved)")
    if(NOT f_off GREATER 0)
      fail("no order-9 allocation failed with compaction off")
    endif()
    if(NOT f_on LESS f_off)
      fail("compaction on: ${f_on} order-9 failures, off: ${f_off}")
    endif()
    if(NOT st_off EQUAL 0 OR NOT ok_on GREATER 0 OR NOT moved GREATER 0)
      fail("compact_stall off ${st_off}, compact_success on ${ok_on}, "
           "moved ${moved}")
    endif()
    # the kernel's own counters around the capture are in the report
    string(JSON n LENGTH "${on}" compaction kernel)
    set(found 0)
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      jget(name "${on}" compaction kernel ${i} name)
      if(name STREQUAL "compact_stall")
        jget(d "${on}" compaction kernel ${i} delta)
        if(NOT d GREATER 0)
          fail("the kernel's compact_stall moved by ${d} in the recording")
        endif()
        set(found 1)
      endif()
    endforeach()
    if(NOT found)
      fail("no kernel compact_stall in the report")
    endif()
    # the switches' bad input
    run(o rc e --prefragment 0 ${t})
    if(NOT rc STREQUAL "2")
      fail("--prefragment 0: exit ${rc}")
    endif()
    run(o rc e --prefragment-unmovable 10 ${t})
    if(NOT rc STREQUAL "2" OR NOT e MATCHES "goes with --prefragment")
      fail("--prefragment-unmovable alone: exit ${rc}: ${e}")
    endif()

  elseif(CHECK STREQUAL "shipped")
    # Every trace shipped in traces/ replays and passes its checks; a
    # recorded one builds its machine. The large ones (over 2 MB) are cut with --limit
    # to keep CI short.
    file(GLOB traces ${TRACES}/*.trace.xz)
    if(NOT traces)
      fail("no traces in ${TRACES}")
    endif()
    set(have_looks 0)
    foreach(t ${traces})
      file(SIZE ${t} size)
      set(limit "")
      if(size GREATER 2000000)
        set(limit --limit 150000)
      endif()
      run_ok(json --json --no-timing ${limit} ${t})
      jget(fails "${json}" replay alloc_failures)
      jget(src "${json}" topology source)
      jget(allocs "${json}" replay allocations)
      if(allocs LESS 1000)
        fail("${t}: only ${allocs} allocations replayed")
      endif()
      if(src STREQUAL "recorded")
        string(JSON n LENGTH "${json}" topology recorded_machine zones)
        if(n LESS 1)
          fail("${t}: a recorded machine without zones")
        endif()
      endif()
      # pcp_peak (docs/REPLAY.md part 5): one entry per CPU and populated
      # zone; some list held pages; no list's high went past the built
      # high_max; CPU 0's kernel high at the start is the header's.
      jget(cpus "${json}" topology cpus)
      string(JSON npeak LENGTH "${json}" pcp_peak)
      math(EXPR rem "${npeak} % ${cpus}")
      if(npeak EQUAL 0 OR NOT rem EQUAL 0)
        fail("${t}: ${npeak} pcp_peak entries for ${cpus} CPUs")
      endif()
      set(most 0)
      math(EXPR last "${npeak} - 1")
      foreach(i RANGE ${last})
        jget(zname "${json}" pcp_peak ${i} zone)
        jget(cpu "${json}" pcp_peak ${i} cpu)
        jget(pages "${json}" pcp_peak ${i} pages)
        jget(hthen "${json}" pcp_peak ${i} high_then)
        if(pages GREATER most)
          set(most ${pages})
        endif()
        if(NOT src STREQUAL "recorded")
          continue()
        endif()
        # The looks at zoneinfo (build-thp) include the start and the end:
        # their top high and most pages are at least those.
        string(JSON lh ERROR_VARIABLE no GET "${json}" pcp_peak ${i}
               kernel_looked_top_high)
        if(NOT no)
          set(have_looks 1)
          jget(lc "${json}" pcp_peak ${i} kernel_looked_most_pages)
          jget(ks "${json}" pcp_peak ${i} kernel_high_start)
          jget(kc "${json}" pcp_peak ${i} kernel_count_start)
          if(lh LESS ks OR lc LESS kc)
            fail("${t}: CPU ${cpu}'s ${zname} list: the looks saw at most "
                 "${lc} pages under ${lh}, the start alone ${kc} under ${ks}")
          endif()
        endif()
        math(EXPR nz "${n} - 1")
        foreach(j RANGE ${nz})
          jget(rz "${json}" topology recorded_machine zones ${j} zone)
          if(NOT rz STREQUAL zname)
            continue()
          endif()
          jget(hmax "${json}" topology recorded_machine zones ${j} built
               pcp_high_max)
          if(hthen GREATER hmax)
            fail("${t}: CPU ${cpu}'s ${zname} list had high ${hthen}, "
                 "above high_max ${hmax}")
          endif()
          jget(kh "${json}" topology recorded_machine zones ${j} pcp_high)
          if(cpu EQUAL 0)
            jget(ks "${json}" pcp_peak ${i} kernel_high_start)
            if(NOT ks EQUAL kh)
              fail("${t}: CPU 0's ${zname} kernel high at the start "
                   "${ks}, the header says ${kh}")
            endif()
          endif()
        endforeach()
      endforeach()
      if(most EQUAL 0)
        fail("${t}: no per-CPU list ever held a page (pcp_peak)")
      endif()
      message("ok: ${t} ${limit}: ${allocs} allocations, ${fails} failed, "
              "topology ${src}; at most ${most} pages on one list")
    endforeach()
    if(NOT have_looks)
      fail("no shipped trace has the looks at the kernel's lists "
           "(kernel_looked_top_high): build-thp.trace.xz should")
    endif()

  else()
    fail("unknown CHECK")
  endif()
  return()
endif()

# ---------------------------------------------------------------------
# Registration.

if(NOT TARGET zonealloc_tool)
  return()
endif()

find_program(ZA_XZ_PROGRAM xz)
find_program(ZA_SETPRIV_PROGRAM setpriv)
za_script_test(AREA record TIMEOUT 120
               CHECKS usage no_tracefs no_root fake peaks signal bad_header
                      header_sysctl stream
                      shipped compaction
               DEFS -DTRACES=${PROJECT_SOURCE_DIR}/traces
                    "-DXZ=${ZA_XZ_PROGRAM}" "-DSETPRIV=${ZA_SETPRIV_PROGRAM}")
# These two replay real traces whole: 10-20 s in Release, 30-40 s under
# ASan, on two shared cores; record_compaction replays thp-compact twice
# (2 s in Release, 30 s under TSan).
set_tests_properties(record_stream record_shipped record_compaction
                     PROPERTIES TIMEOUT 240)
