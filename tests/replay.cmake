# tests/replay.cmake - tests of the trace reader (tools/trace_*.c, zatrace) and of
# `zonealloc replay` (tools/replay.c). Label: replay.
#
# One file, two roles, as tests/tool.cmake does it. Included by
# tests/CMakeLists.txt it registers the tests; run as a script
# (cmake -DCHECK=... -P tests/replay.cmake) it is the check one test runs.
# The checks count the trace's events with xz, grep and awk, apart from the
# C parser, and compare with what the command reports.
#
# Needs xz (xz-utils) to count the slice's events apart from the command:
# without it those tests are registered but disabled. gzip is optional.

if(CMAKE_SCRIPT_MODE_FILE)
  # ------------------------------------------------------------------
  # Script mode. In: CHECK, EXE, DATA (tests/data), XZ, GZIP, WORK.
  set(SLICE ${DATA}/kernel-mixed-slice.trace.xz)
  file(MAKE_DIRECTORY ${WORK})

  set(ZA_AREA replay)
  include(${CMAKE_CURRENT_LIST_DIR}/script/common.cmake)

  # expect_error(<regex> ARGS...): exit 1, message on stderr, no report
  function(expect_error regex)
    run(_o _rc _e ${ARGN})
    if(NOT _rc STREQUAL "1")
      message("${_o}${_e}")
      fail("zonealloc replay ${ARGN}: exit '${_rc}', expected 1")
    endif()
    if(NOT _e MATCHES "${regex}")
      fail("zonealloc replay ${ARGN}: stderr '${_e}' does not match '${regex}'")
    endif()
    if(NOT _o STREQUAL "")
      fail("zonealloc replay ${ARGN}: printed a report after an error")
    endif()
    message("ok: ${ARGN} -> ${_e}")
  endfunction()

  # expect_usage(<regex> ARGS...): exit 2, the message on stderr
  function(expect_usage regex)
    run(_o _rc _e ${ARGN})
    if(NOT _rc STREQUAL "2" OR NOT _e MATCHES "${regex}")
      fail("zonealloc replay ${ARGN}: exit '${_rc}', stderr '${_e}'; "
           "expected 2 and '${regex}'")
    endif()
  endfunction()

  # jeq(<json> <expected> <key>...): a value of the JSON report
  function(jeq json expected)
    string(JSON _v GET "${json}" ${ARGN})
    if(NOT "${_v}" STREQUAL "${expected}")
      fail("${ARGN} is '${_v}', expected '${expected}'")
    endif()
    message("ok: ${ARGN} = ${_v}")
  endfunction()

  function(jtrue json)
    string(JSON _v GET "${json}" ${ARGN})
    if(NOT _v)
      fail("${ARGN} is '${_v}', expected true")
    endif()
  endfunction()

  # count_lines(<var> <grep-pattern>): lines of the slice that match
  function(count_lines var pattern)
    execute_process(COMMAND ${XZ} -dc ${SLICE} COMMAND grep -c -e "${pattern}"
                    OUTPUT_VARIABLE _n OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(_n STREQUAL "")
      set(_n 0)
    endif()
    set(${var} ${_n} PARENT_SCOPE)
  endfunction()

  # The checks every run on the slice must pass, whatever the mode.
  # SKIP: the run had --skip-unmatched (no stand-in blocks).
  function(check_slice_counts json)
    cmake_parse_arguments(_c "SKIP" "" "" ${ARGN})
    execute_process(COMMAND ${XZ} -dc ${SLICE} COMMAND wc -l
                    OUTPUT_VARIABLE lines OUTPUT_STRIP_TRAILING_WHITESPACE)
    string(STRIP "${lines}" lines)
    jeq("${json}" ${lines} trace lines)
    set(total 0)
    foreach(ev mm_page_alloc mm_page_free mm_page_free_batched
               mm_page_alloc_zone_locked mm_page_pcpu_drain)
      count_lines(n " ${ev}: ")
      jeq("${json}" ${n} trace events ${ev})
      math(EXPR total "${total} + ${n}")
      set(n_${ev} ${n})
    endforeach()
    jeq("${json}" ${total} trace events_total)
    count_lines(refill " mm_page_alloc_zone_locked: .* percpu_refill=1")
    jeq("${json}" ${refill} trace pcp_refill_events)
    jeq("${json}" 0 trace lines_not_understood)
    jeq("${json}" 0 trace lines_malformed)
    # every allocation replayed, every free looked at
    jeq("${json}" ${n_mm_page_alloc} replay allocations)
    math(EXPR frees "${n_mm_page_free} + ${n_mm_page_free_batched}")
    jeq("${json}" ${frees} replay free_events)
    math(EXPR replayed "${n_mm_page_alloc} + ${frees}")
    jeq("${json}" ${replayed} replay events_replayed)
    jeq("${json}" 0 replay alloc_failures)
    jeq("${json}" 0 replay misuse_reports)
    # pairing, computed apart: frees match allocations by pfn and order
    file(WRITE ${WORK}/pairs.awk [=[
{
  ev = ""; pfn = ""; order = "0"
  for (i = 1; i <= NF; i++) {
    if ($i ~ /^mm_page_(alloc|free|free_batched):$/) ev = $i
    else if ($i ~ /^pfn=/) pfn = substr($i, 5)
    else if ($i ~ /^order=/) order = substr($i, 7)
  }
  if (ev == "") next
  key = pfn " " order
  if (ev == "mm_page_alloc:") {
    if (key in live) overlap++
    live[key] = 1
    pages_alloc += 2 ^ order
  } else if (key in live) {
    delete live[key]; matched++
    pages_freed += 2 ^ order
  } else {
    unmatched++
    pages_unmatched += 2 ^ order
  }
}
END {
  for (k in live) never++
  printf "%d %d %d %d %d %d %d\n", matched, unmatched, never, overlap, \
         pages_alloc, pages_freed, pages_unmatched
}
]=])
    execute_process(COMMAND ${XZ} -dc ${SLICE} COMMAND awk -f ${WORK}/pairs.awk
                    OUTPUT_VARIABLE pairs OUTPUT_STRIP_TRAILING_WHITESPACE)
    string(REPLACE " " ";" pairs "${pairs}")
    list(GET pairs 0 matched)
    list(GET pairs 1 unmatched)
    list(GET pairs 2 never)
    list(GET pairs 3 overlap)
    list(GET pairs 4 pages_alloc)
    list(GET pairs 5 pages_freed)
    list(GET pairs 6 pages_unmatched)
    if(NOT overlap EQUAL 0)
      fail("the slice has allocations over live pages; the awk model is too simple")
    endif()
    jeq("${json}" ${matched} replay frees_whole)
    jeq("${json}" 0 replay frees_in_parts)
    jeq("${json}" ${unmatched} replay frees_unmatched)
    jeq("${json}" ${never} replay never_freed)
    jeq("${json}" 0 replay implied_frees)
    # each unmatched free frees its stand-in block (allocated before the
    # counters start, freed during the replay), unless --skip-unmatched
    if(_c_SKIP)
      jeq("${json}" ${matched} replay frees)
      jeq("${json}" 0 replay standins)
      jeq("${json}" 0 replay standin_frees)
    else()
      math(EXPR frees "${matched} + ${unmatched}")
      math(EXPR pages_freed "${pages_freed} + ${pages_unmatched}")
      jeq("${json}" ${frees} replay frees)
      jeq("${json}" ${unmatched} replay standins)
      jeq("${json}" ${unmatched} replay standin_frees)
      jeq("${json}" ${pages_unmatched} replay standin_pages)
      jeq("${json}" 0 replay standin_failed)
    endif()
    # zonealloc saw what was replayed (pgalloc and pgfree count pages)
    jeq("${json}" ${pages_alloc} zonealloc_events pgalloc)
    jeq("${json}" ${pages_freed} zonealloc_events pgfree)
    jeq("${json}" ${pages_alloc} per_1000_allocs kernel pages_allocated)
    jeq("${json}" ${n_mm_page_alloc} per_1000_allocs zonealloc allocations)
    jtrue("${json}" check live_ok)
    jtrue("${json}" check after_ok)
    jtrue("${json}" check whole_again)
  endfunction()

  if(CHECK STREQUAL "counts")
    run_ok(json --json --no-timing ${SLICE})
    check_slice_counts("${json}")
    run_ok(json --json --no-timing --skip-unmatched ${SLICE})
    check_slice_counts("${json}" SKIP)
    jeq("${json}" det topology mode)
    jeq("${json}" 2 topology cpus)
    # the text report says the same
    run_ok(text ${SLICE})
    string(JSON n GET "${json}" trace events mm_page_alloc)
    if(NOT text MATCHES "mm_page_alloc +${n}\n")
      fail("the text report does not list ${n} mm_page_alloc events")
    endif()
    if(NOT text MATCHES "za_check: ok")
      fail("the text report does not end with a passed za_check")
    endif()

  elseif(CHECK STREQUAL "threads")
    run_ok(json --json --no-timing --mode threads ${SLICE})
    check_slice_counts("${json}")
    jeq("${json}" threads topology mode)

  elseif(CHECK STREQUAL "repeat")
    # det mode is exactly repeatable: the whole report, byte for byte
    run_ok(a --json --no-timing ${SLICE})
    run_ok(b --json --no-timing ${SLICE})
    if(NOT a STREQUAL b)
      file(WRITE ${WORK}/a.json "${a}")
      file(WRITE ${WORK}/b.json "${b}")
      fail("two det replays differ: see ${WORK}/a.json and b.json")
    endif()
    # with timing, the same once the one "timing" object is dropped
    run_ok(c --json ${SLICE})
    string(JSON secs GET "${c}" timing replay_seconds)
    string(JSON c REMOVE "${c}" timing)
    string(JSON na LENGTH "${a}")
    string(JSON nc LENGTH "${c}")
    if(NOT na EQUAL nc)
      fail("a replay with timing has other members than one without")
    endif()
    math(EXPR last "${na} - 1")
    set(keys "")
    foreach(k RANGE ${last})
      string(JSON key MEMBER "${a}" ${k})
      list(APPEND keys ${key})
    endforeach()
    jsame("${a}" "${c}" "in a replay with timing" ${keys})
    # and a different --cpus makes a different run (the check can fail)
    run_ok(d --json --no-timing --cpus 4 ${SLICE})
    if(a STREQUAL d)
      fail("--cpus 4 changed nothing")
    endif()
    message("ok: identical det reports (replay took ${secs} s)")

  elseif(CHECK STREQUAL "stdin")
    run_ok(file_json --json --no-timing ${SLICE})
    execute_process(COMMAND ${XZ} -dc ${SLICE}
                    COMMAND ${EXE} replay --quiet --json --no-timing -
                    RESULT_VARIABLE rc OUTPUT_VARIABLE pipe_json)
    if(NOT rc STREQUAL "0")
      fail("replay from standard input: exit ${rc}")
    endif()
    jeq("${pipe_json}" plain input compression)
    jsame("${file_json}" "${pipe_json}" "between the .xz file and standard input"
          trace replay zonealloc_events fragmentation check)
    # gzip, when the command reads it: the same again
    if(GZIP AND EXISTS "${GZIP}")
      execute_process(COMMAND ${XZ} -dc ${SLICE} COMMAND ${GZIP} -c
                      OUTPUT_FILE ${WORK}/slice.gz)
      run(gz_json rc err --json --no-timing ${WORK}/slice.gz)
      if(rc STREQUAL "0")
        jsame("${file_json}" "${gz_json}" "between .xz and .gz" trace replay)
      elseif(NOT err MATCHES "built without zlib")
        fail("slice.gz: exit ${rc}: ${err}")
      endif()
    endif()

  elseif(CHECK STREQUAL "limit")
    run_ok(json --json --no-timing --limit 1000 ${SLICE})
    jeq("${json}" 1000 trace events_total)
    jeq("${json}" 1000 input limit)
    jtrue("${json}" check live_ok)

  elseif(CHECK STREQUAL "bad_input")
    file(WRITE ${WORK}/empty.trace "")
    expect_error("empty input" ${WORK}/empty.trace)
    # NUL bytes, then other binary: the command itself
    execute_process(COMMAND head -c 65536 /dev/zero OUTPUT_FILE ${WORK}/zeros.bin)
    expect_error("no kmem page-allocator event" ${WORK}/zeros.bin)
    expect_error("no kmem page-allocator event" ${EXE})
    file(WRITE ${WORK}/text.trace "hello\nworld\n# tracer: nop\n")
    expect_error("no kmem page-allocator event" ${WORK}/text.trace)
    # events whose time would wrap the nanoseconds (review 14, finding 1):
    # malformed, and the refusal names the first one's reason
    file(WRITE ${WORK}/ts-wrap.trace
         " a-1 [000] ..... 18446744072.0: mm_page_alloc: pfn=0x1000 order=0 "
         "migratetype=0 gfp_flags=GFP_KERNEL\n"
         " a-1 [000] ..... 18446744073.709551615: mm_page_free: pfn=0x1000 "
         "order=0\n")
    expect_error("2 malformed, the first at line 1: timestamp out of range"
                 ${WORK}/ts-wrap.trace)
    # order-20 blocks at ever new pfns: 17 of them would hold 68 GiB at
    # once, more than the 64 GiB the pairing allows without --mem (at 24
    # bytes of map a page: review 14 saw 297 MB for 8 such lines, tens of
    # GB for a 100 KB file); refused, naming the line
    set(big "")
    foreach(k RANGE 1 17)
      math(EXPR pfn "${k} * 1048576" OUTPUT_FORMAT HEXADECIMAL)
      string(APPEND big " a-1 [000] ..... 1.${k}: mm_page_alloc: pfn=${pfn} "
                        "order=20 migratetype=0 gfp_flags=GFP_KERNEL\n")
    endforeach()
    file(WRITE ${WORK}/order20x17.trace "${big}")
    expect_error("line 17: the trace's allocations would hold more than 16777216 pages [(]64 GiB[)] at once"
                 ${WORK}/order20x17.trace)
    # a cut .xz (no stream end) and a .xz of nothing
    execute_process(COMMAND head -c 40000 ${SLICE} OUTPUT_FILE ${WORK}/cut.xz)
    expect_error("truncated xz stream" ${WORK}/cut.xz)
    if(XZ AND EXISTS "${XZ}")
      execute_process(COMMAND ${XZ} -c INPUT_FILE ${WORK}/empty.trace
                      OUTPUT_FILE ${WORK}/empty.xz)
      expect_error("empty input" ${WORK}/empty.xz)
    endif()
    if(XZ AND EXISTS "${XZ}" AND GZIP AND EXISTS "${GZIP}")
      execute_process(COMMAND ${XZ} -dc ${SLICE} COMMAND ${GZIP} -c
                      COMMAND head -c 30000 OUTPUT_FILE ${WORK}/cut.gz)
      expect_error("truncated gzip stream|built without zlib" ${WORK}/cut.gz)
    endif()
    expect_error("No such file" ${WORK}/does-not-exist.trace)
    # the same through standard input
    execute_process(COMMAND ${CMAKE_COMMAND} -E cat ${WORK}/cut.xz
                    COMMAND ${EXE} replay --quiet -
                    RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(NOT rc STREQUAL "1" OR NOT err MATCHES "truncated xz stream")
      fail("cut .xz on standard input: exit ${rc}, '${err}'")
    endif()

  elseif(CHECK STREQUAL "stream_parts")
    # A block freed in parts pairs the same with --stream as whole (review
    # 14, finding 2: the stream found a block again for every order that
    # rounds a pfn down to its start, released a piece up to twelve times,
    # freed the block at its first piece and left the others unmatched).
    # The whole replay skips the unmatched frees, as a stream does.
    file(WRITE ${WORK}/parts.trace
         " a-1 [000] ..... 1.0: mm_page_alloc: pfn=0x1000 order=2 "
         "migratetype=0 gfp_flags=GFP_KERNEL\n"
         " a-1 [001] ..... 1.1: mm_page_free: pfn=0x1001 order=0\n"
         " a-1 [000] ..... 1.2: mm_page_free: pfn=0x1002 order=0\n"
         " a-1 [001] ..... 1.3: mm_page_free: pfn=0x1003 order=0\n"
         " a-1 [000] ..... 1.4: mm_page_free: pfn=0x1000 order=0\n"
         " a-1 [000] ..... 1.5: mm_page_alloc: pfn=0x1200 order=9 "
         "migratetype=1 gfp_flags=GFP_TRANSHUGE\n"
         " a-1 [000] ..... 1.6: mm_page_free: pfn=0x1201 order=0\n"
         " a-1 [000] ..... 1.7: mm_page_free: pfn=0x1202 order=1\n")
    foreach(f ${WORK}/parts.trace ${DATA}/formats.trace)
      run_ok(whole --json --no-timing --mem 64M --cpus 2 --skip-unmatched
             ${f})
      run_ok(stream --json --no-timing --mem 64M --cpus 2 --stream ${f})
      foreach(k frees frees_whole frees_in_parts frees_unmatched never_freed
                never_freed_pages)
        string(JSON a GET "${whole}" replay ${k})
        string(JSON b GET "${stream}" replay ${k})
        if(NOT a STREQUAL b)
          fail("${f}: replay ${k} is ${b} with --stream, ${a} whole")
        endif()
      endforeach()
      message("ok: ${f}: --stream pairs as the whole replay")
    endforeach()
    jeq("${stream}" 4 replay frees_in_parts) # formats.trace's
    # A lost free: the kernel hands out page 0x1000 of the order-3 block
    # the trace holds, then frees it. The block goes whole, as an implied
    # free, in both (review 14, finding 3: it kept its other seven pages to
    # the end, and --stream then had two blocks under pfn 0x1000 and freed
    # the old one's page for the new block, which it never freed).
    file(WRITE ${WORK}/lost.trace
         " a-1 [000] ..... 1.0: mm_page_alloc: pfn=0x1000 order=3 "
         "migratetype=0 gfp_flags=GFP_KERNEL\n"
         " a-1 [000] ..... 1.1: mm_page_alloc: pfn=0x1000 order=0 "
         "migratetype=0 gfp_flags=GFP_KERNEL\n"
         " a-1 [000] ..... 1.2: mm_page_free: pfn=0x1000 order=0\n")
    # A block at a pfn that is no multiple of its size is malformed (review
    # 14, finding 7: read, it paired page by page whole and not at all with
    # --stream)
    file(WRITE ${WORK}/unaligned.trace
         " a-1 [000] ..... 1.0: mm_page_alloc: pfn=0x1001 order=1 "
         "migratetype=0 gfp_flags=GFP_KERNEL\n"
         " a-1 [000] ..... 1.1: mm_page_free: pfn=0x1002 order=0\n"
         " a-1 [000] ..... 1.2: mm_page_alloc: pfn=0x1200 order=0 "
         "migratetype=0 gfp_flags=GFP_KERNEL\n")
    foreach(m --skip-unmatched --stream)
      run_ok(json --json --no-timing --mem 64M --cpus 2 ${m}
             ${WORK}/unaligned.trace)
      jeq("${json}" 1 trace lines_malformed)
      jeq("${json}" "pfn not aligned to its order"
          trace lines_malformed_first 0 why)
      jeq("${json}" 0 replay frees_in_parts)
      jeq("${json}" 1 replay frees_unmatched)
    endforeach()
    foreach(m --skip-unmatched --stream)
      run_ok(json --json --no-timing --mem 64M --cpus 2 ${m}
             ${WORK}/lost.trace)
      jeq("${json}" 1 replay implied_frees)
      jeq("${json}" 2 replay frees)
      jeq("${json}" 1 replay frees_whole)
      jeq("${json}" 0 replay never_freed)
    endforeach()
    # the order-2 block goes with its last piece, the THP stays
    run_ok(stream --json --no-timing --mem 64M --cpus 2 --stream
           ${WORK}/parts.trace)
    jeq("${stream}" 1 replay frees)
    jeq("${stream}" 6 replay frees_in_parts)
    jeq("${stream}" 0 replay frees_unmatched)
    jeq("${stream}" 1 replay never_freed)

  elseif(CHECK STREQUAL "formats")
    # tests/data/formats.trace: see its first lines
    run_ok(json --json --no-timing ${DATA}/formats.trace)
    jeq("${json}" 30 trace lines)
    jeq("${json}" 6 trace events mm_page_alloc)
    jeq("${json}" 7 trace events mm_page_free)
    jeq("${json}" 1 trace events mm_page_free_batched)
    jeq("${json}" 2 trace events mm_page_alloc_zone_locked)
    jeq("${json}" 2 trace events mm_page_pcpu_drain)
    jeq("${json}" 1 trace kernel_alloc_failed)
    jeq("${json}" 1 trace other_events)
    jeq("${json}" 5 trace comment_lines)
    jeq("${json}" 1 trace blank_lines)
    jeq("${json}" 1 trace lines_not_understood)
    jeq("${json}" 26 trace lines_not_understood_first 0)
    jeq("${json}" 3 trace lines_malformed)
    jeq("${json}" 28 trace lines_malformed_first 0 line)
    jeq("${json}" "bad order" trace lines_malformed_first 0 why)
    jeq("${json}" 29 trace lines_malformed_first 1 line)
    jeq("${json}" "bad gfp_flags" trace lines_malformed_first 1 why)
    jeq("${json}" 30 trace lines_malformed_first 2 line)
    jeq("${json}" 42 trace lost_events)
    jeq("${json}" 1 trace max_cpu)
    jeq("${json}" 5 replay allocations)
    jeq("${json}" 3 replay frees_whole)
    jeq("${json}" 4 replay frees_in_parts)
    jeq("${json}" 1 replay frees_unmatched)
    jeq("${json}" 1 replay never_freed)
    jeq("${json}" 512 replay never_freed_pages)
    jeq("${json}" 0 replay alloc_failures)
    jtrue("${json}" check live_ok)
    jtrue("${json}" check whole_again)
    # and the text report names the malformed lines
    run_ok(text ${DATA}/formats.trace)
    if(NOT text MATCHES "line 28 bad order, line 29 bad gfp_flags, line 30 no pfn")
      fail("the text report does not list the malformed lines")
    endif()

  elseif(CHECK STREQUAL "warm")
    # The replay starts from the traced kernel's state (docs/REPLAY.md,
    # "Starting from the traced kernel's state"): each CPU's list holds
    # the pages the recording's header says it held, with the kernel's
    # high; a stand-in block for each unmatched free is freed where the
    # trace frees it. fork-exec: 66885 pages on two lists at the start.
    set(T ${TRACES}/fork-exec.trace.xz)
    # lists_as_header(<json> <what>): every list's start as recorded
    function(lists_as_header json what)
      string(JSON n LENGTH "${json}" pcp_peak)
      math(EXPR last "${n} - 1")
      set(sum 0)
      foreach(k RANGE ${last})
        string(JSON kc ERROR_VARIABLE e GET "${json}" pcp_peak ${k}
               kernel_count_start)
        if(e)
          fail("${what}: pcp_peak ${k} has no kernel_count_start")
        endif()
        string(JSON kh GET "${json}" pcp_peak ${k} kernel_high_start)
        string(JSON zc GET "${json}" pcp_peak ${k} start_pages)
        string(JSON zh GET "${json}" pcp_peak ${k} start_high)
        string(JSON zone GET "${json}" pcp_peak ${k} zone)
        string(JSON cpu GET "${json}" pcp_peak ${k} cpu)
        if(NOT zc EQUAL kc)
          fail("${what}: ${zone} CPU ${cpu}'s list starts with ${zc} pages, "
               "the kernel's held ${kc}")
        endif()
        # the kernel's high, where it lies in the list's own range (the
        # Normal zone's: 9173..258048)
        if(zone STREQUAL "Normal" AND NOT zh EQUAL kh)
          fail("${what}: ${zone} CPU ${cpu}'s list starts at high ${zh}, "
               "the kernel's was ${kh}")
        endif()
        math(EXPR sum "${sum} + ${kc}")
      endforeach()
      if(NOT sum EQUAL 66885)
        fail("${what}: the header's lists hold ${sum} pages, expected 66885")
      endif()
      jeq("${json}" ${sum} replay warm_pages)
      jeq("${json}" 0 replay warm_pages_short)
    endfunction()
    run_ok(json --json --no-timing ${T})
    lists_as_header("${json}" "det")
    jget(unmatched "${json}" replay frees_unmatched)
    if(unmatched LESS 1000)
      fail("fork-exec has ${unmatched} unmatched frees, expected thousands")
    endif()
    jeq("${json}" ${unmatched} replay standins)
    jeq("${json}" ${unmatched} replay standin_frees)
    jeq("${json}" 0 replay standin_failed)
    jeq("${json}" 0 replay frees_of_failed_allocations)
    run_ok(json --json --no-timing --stream ${T})
    lists_as_header("${json}" "--stream")
    jeq("${json}" 0 replay standins)
    run_ok(json --json --no-timing --mode threads ${T})
    jeq("${json}" ${unmatched} replay standin_frees)
    jeq("${json}" 66885 replay warm_pages)
    # the old behaviour, asked for
    run_ok(json --json --no-timing --empty-lists --skip-unmatched ${T})
    jeq("${json}" 0 replay warm_pages)
    jeq("${json}" 0 replay standins)
    jeq("${json}" 0 replay standin_frees)
    string(JSON n LENGTH "${json}" pcp_peak)
    math(EXPR last "${n} - 1")
    foreach(k RANGE ${last})
      jeq("${json}" 0 pcp_peak ${k} start_pages)
    endforeach()
    # without a header there is nothing to start the lists from
    run_ok(json --json --no-timing ${SLICE})
    jeq("${json}" 0 replay warm_pages)
    jeq("${json}" OFF replay warm_lists_on)
    expect_usage("--stream always skips" --stream --skip-unmatched ${T})

  elseif(CHECK STREQUAL "decay")
    # det mode runs the statistics worker's decay (za_pcp_decay) once
    # for every second of the trace's time: the passes counted apart from
    # the trace's first and last timestamps.
    set(T ${TRACES}/fork-exec.trace.xz)
    execute_process(COMMAND ${XZ} -dc ${T}
                    COMMAND awk "/^#/ { next } { for (i = 1; i <= NF; i++) \
if ($i ~ /^[0-9]+\\.[0-9]+:$/) { t = $i + 0; if (!n++) f = t; l = t; break } } \
END { printf \"%d\", l - f }"
                    OUTPUT_VARIABLE secs RESULT_VARIABLE rc)
    if(NOT rc STREQUAL "0" OR secs LESS 3)
      fail("awk could not read the trace's time span ('${secs}')")
    endif()
    run_ok(json --json --no-timing ${T})
    jeq("${json}" ${secs} replay decay_passes)
    jtrue("${json}" replay decay_on)
    # the passes did something: the idle lists gave pages back
    jget(drained "${json}" zonealloc_events zonealloc_pcp_drain_pages)
    if(drained EQUAL 0)
      fail("${secs} decay passes drained nothing")
    endif()
    run_ok(json --json --no-timing --no-decay ${T})
    jeq("${json}" 0 replay decay_passes)
    jeq("${json}" 0 zonealloc_events zonealloc_pcp_drain_pages)
    # --stream ticks at the same seconds
    run_ok(json --json --no-timing --stream ${T})
    jeq("${json}" ${secs} replay decay_passes)
    expect_usage("--no-decay is for det mode" --no-decay --mode threads ${T})
    message("ok: ${secs} decay passes, ${drained} pages drained")

  elseif(CHECK STREQUAL "usage")
    foreach(args "--mode;fast;x" "--bogus;x" "" "--limit;0;x" "a;b"
                 "--json=1;x" "--cpus;0;x" "--mem;1X;x")
      execute_process(COMMAND ${EXE} replay ${args}
                      RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
      if(NOT rc STREQUAL "2")
        fail("replay ${args}: exit ${rc}, expected 2 (${err})")
      endif()
      if(NOT err MATCHES "Try 'zonealloc replay --help'")
        fail("replay ${args}: no hint in '${err}'")
      endif()
    endforeach()
    execute_process(COMMAND ${EXE} replay --help RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out)
    if(NOT rc STREQUAL "0" OR NOT out MATCHES "--mode det[|]threads")
      fail("replay --help: exit ${rc}")
    endif()

  else()
    fail("unknown CHECK")
  endif()
  return()
endif()

# ---------------------------------------------------------------------
# Registration.

# Unit tests of the three layers link the trace reader library (zatrace,
# tools/zatrace.cmake, with zlib and liblzma when found); they need nothing
# of the command, so they do not wait for it to build.
foreach(t parse read match)
  za_add_test(NAME trace_${t} SOURCES test_trace_${t}.c LIBS zatrace
              LABELS replay TIMEOUT 30)
endforeach()

# The command's JSON writer, built from its source alone.
za_add_test(NAME tool_json
            SOURCES test_tool_json.c ${PROJECT_SOURCE_DIR}/tools/json.c
            LABELS tool TIMEOUT 30)
target_include_directories(tool_json PRIVATE ${PROJECT_SOURCE_DIR}/tools)

if(NOT TARGET zonealloc_tool)
  return()
endif()

find_program(ZA_XZ_PROGRAM xz)
find_program(ZA_GZIP_PROGRAM gzip)
# 120 s: a replay of the shipped trace takes 10-20 s under ThreadSanitizer
# on 2 cores, and twice that when the suite runs -j2 beside stress tests.
za_script_test(AREA replay TIMEOUT 120
               CHECKS counts threads repeat stdin limit bad_input formats usage
                      warm decay stream_parts
               DEFS -DDATA=${CMAKE_CURRENT_SOURCE_DIR}/data
                    -DTRACES=${PROJECT_SOURCE_DIR}/traces
                    "-DXZ=${ZA_XZ_PROGRAM}" "-DGZIP=${ZA_GZIP_PROGRAM}")
if(NOT ZA_XZ_PROGRAM)
  message(STATUS "replay tests: no xz program (Debian: xz-utils); the "
                 "tests that count the trace slice with it are disabled")
  set_tests_properties(replay_counts replay_threads replay_stdin
                       replay_decay PROPERTIES DISABLED TRUE)
endif()
