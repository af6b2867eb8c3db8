# tests/sweep.cmake - tests of `zonealloc replay --sweep` (policy sweeps,
# tools/replay.c). Label: replay.
#
# One file, two roles, as tests/replay.cmake does it: included by
# tests/CMakeLists.txt it registers the tests; run as a script
# (cmake -DCHECK=... -P tests/sweep.cmake) it is the check one test runs.
# Every sweep replays the short trace slice of tests/data (20432
# allocations): a replay takes well under a second.

if(CMAKE_SCRIPT_MODE_FILE)
  cmake_policy(SET CMP0057 NEW) # if(... IN_LIST ...)
  # ------------------------------------------------------------------
  # Script mode. In: CHECK, EXE, DATA (tests/data), PYTHON, WORK.
  set(SLICE ${DATA}/kernel-mixed-slice.trace.xz)
  file(REMOVE_RECURSE ${WORK})
  file(MAKE_DIRECTORY ${WORK})

  set(ZA_AREA sweep)
  include(${CMAKE_CURRENT_LIST_DIR}/script/common.cmake)

  # The ranked rows of a text table: a list of "rank;v1;v2;...;lock;
  # moves;pcp;highorder;failed" strings (';' escaped as '|').
  function(table_rows out text)
    string(REPLACE "\n" ";" lines "${text}")
    set(rows "")
    set(in 0)
    foreach(l IN LISTS lines)
      if(l MATCHES "^rank ")
        set(in 1)
      elseif(in AND l STREQUAL "")
        break()
      elseif(in)
        string(STRIP "${l}" l)
        string(REGEX REPLACE " +" "|" l "${l}")
        list(APPEND rows "${l}")
      endif()
    endforeach()
    set(${out} "${rows}" PARENT_SCOPE)
  endfunction()

  if(CHECK STREQUAL "table")
    # One row per combination, each combination once, ranks 1..n in
    # order, the rank key sorted; the reference rows below.
    foreach(rank lock highorder)
      run_ok(out --sweep pcp_high=32,96,300 --sweep batch=4,16 --rank ${rank}
             ${SLICE})
      # one --sweep with ';' is the same as two
      execute_process(COMMAND ${EXE} replay --quiet --sweep
                              "pcp_high=32,96,300;batch=4,16" --rank ${rank}
                              ${SLICE}
                      RESULT_VARIABLE rc OUTPUT_VARIABLE out2)
      if(NOT rc STREQUAL "0" OR NOT out2 STREQUAL out)
        fail("--sweep 'pcp_high=...;batch=...': exit ${rc}, and not the "
             "table of two --sweep options:\n${out2}")
      endif()
      table_rows(rows "${out}")
      list(LENGTH rows n)
      if(NOT n EQUAL 6)
        message("${out}")
        fail("--rank ${rank}: ${n} ranked rows, expected 6")
      endif()
      set(expect 1)
      set(prev "")
      set(seen "")
      foreach(row IN LISTS rows)
        string(REPLACE "|" ";" f "${row}")
        list(LENGTH f nf)
        if(NOT nf EQUAL 8)
          fail("row '${row}': ${nf} fields, expected 8")
        endif()
        list(GET f 0 r)
        list(GET f 1 high)
        list(GET f 2 batch)
        if(NOT r EQUAL expect)
          fail("row '${row}': rank ${r}, expected ${expect}")
        endif()
        math(EXPR expect "${expect} + 1")
        if(rank STREQUAL "lock")
          list(GET f 3 key)
        else()
          list(GET f 6 key)
        endif()
        if(NOT prev STREQUAL "")
          if(rank STREQUAL "lock" AND key LESS prev)
            fail("not ranked: lock/1000 ${key} after ${prev}\n${out}")
          endif()
          if(rank STREQUAL "highorder" AND key GREATER prev)
            fail("not ranked: order>=9% ${key} after ${prev}\n${out}")
          endif()
        endif()
        set(prev ${key})
        if("${high}/${batch}" IN_LIST seen)
          fail("pcp_high=${high} batch=${batch} twice\n${out}")
        endif()
        list(APPEND seen "${high}/${batch}")
      endforeach()
      foreach(high 32 96 300)
        foreach(batch 4 16)
          if(NOT "${high}/${batch}" IN_LIST seen)
            fail("no row for pcp_high=${high} batch=${batch}\n${out}")
          endif()
        endforeach()
      endforeach()
      if(NOT out MATCHES "\nzonealloc, no sweep setting +[0-9.]+ " OR
         NOT out MATCHES "\nkernel, from the trace +>= [0-9.]+ ")
        fail("no reference rows in\n${out}")
      endif()
    endforeach()
    # pcp_high below batch: left out, and said so
    run_ok(out --sweep "pcp_high=8,64" --sweep batch=16 ${SLICE})
    table_rows(rows "${out}")
    list(LENGTH rows n)
    if(NOT n EQUAL 1 OR NOT out MATCHES "1 combinations with pcp_high below")
      fail("pcp_high=8 batch=16 not left out:\n${out}")
    endif()
    message("ok: ranked tables")

  elseif(CHECK STREQUAL "equal")
    # Each combination's figures are a plain replay's with the same
    # settings, and the reference row is a plain replay's.
    foreach(spec "min_free_kbytes=1000,100000@percpu_pagelist_high_fraction=0,100"
                 "pcp_high=96,300@batch=16")
      string(REPLACE "@" ";--sweep;" sweep_args "--sweep;${spec}")
      run_ok(json ${sweep_args} --json --no-timing ${SLICE})
      jget(n "${json}" sweep combinations)
      math(EXPR last "${n}")
      foreach(i RANGE 0 ${last})
        if(i EQUAL n)
          set(args "")
          jget(row "${json}" reference)
          set(what "the reference")
        else()
          jget(row "${json}" rows ${i})
          jget(settings "${row}" settings)
          string(JSON nk LENGTH "${settings}")
          math(EXPR nk "${nk} - 1")
          set(args "")
          foreach(k RANGE 0 ${nk})
            string(JSON name MEMBER "${settings}" ${k})
            jget(v "${settings}" ${name})
            if(name STREQUAL "pcp_high")
              list(APPEND args --pcp-high ${v})
            elseif(name STREQUAL "pcp_batch")
              list(APPEND args --pcp-batch ${v})
            else()
              list(APPEND args --sysctl ${name}=${v})
            endif()
          endforeach()
          set(what "${args}")
        endif()
        run_ok(plain ${args} --json --no-timing ${SLICE})
        jget(z_lock "${plain}" zonealloc_events zonealloc_zone_lock)
        jget(z_refill "${plain}" zonealloc_events zonealloc_pcp_refill_pages)
        jget(z_flush "${plain}" zonealloc_events zonealloc_pcp_flush_pages)
        jget(z_drain "${plain}" zonealloc_events zonealloc_pcp_drain_pages)
        jget(z_allocs "${plain}" per_1000_allocs zonealloc allocations)
        jget(z_fail "${plain}" replay alloc_failures)
        jget(z_pcp "${plain}" fragmentation pcp_pages)
        jget(z_free "${plain}" fragmentation free_pages)
        jget(z_large "${plain}" fragmentation free_pages_order_ge_9)
        math(EXPR z_returned "${z_flush} + ${z_drain}")
        foreach(pair "zone_lock;${z_lock}" "pages_refilled;${z_refill}"
                     "pages_returned;${z_returned}" "allocations;${z_allocs}"
                     "alloc_failures;${z_fail}" "pcp_pages_end;${z_pcp}"
                     "free_pages_end;${z_free}"
                     "free_pages_order_ge_9_end;${z_large}")
          list(GET pair 0 key)
          list(GET pair 1 want)
          jget(got "${row}" ${key})
          if(NOT got STREQUAL want)
            fail("${spec}: ${what}: ${key} is ${got} in the sweep, ${want} "
                 "in a plain replay")
          endif()
        endforeach()
        message("ok: ${spec}: ${what}: zone_lock ${z_lock}, pcp ${z_pcp}")
      endforeach()
      # the kernel's figures are the plain replay's
      jget(k1 "${json}" kernel zone_lock_per_1000_at_least)
      jget(k2 "${plain}" per_1000_allocs kernel zone_lock_at_least)
      if(NOT k1 STREQUAL k2)
        fail("kernel zone locks per 1000: ${k1} in the sweep, ${k2} plain")
      endif()
    endforeach()

  elseif(CHECK STREQUAL "json")
    # The JSON parses (python3's json when there is one), holds every
    # combination once, ranked; --jobs 1 gives the same document.
    set(spec --sweep pcp_high=64..256/64 --sweep batch=8,32
        --sweep watermark_scale_factor=10,300)
    run_ok(a ${spec} --json --no-timing -o ${WORK}/a.json ${SLICE})
    if(NOT a STREQUAL "")
      fail("-o FILE: the report went to stdout too")
    endif()
    run_ok(b ${spec} --json --no-timing --jobs 1 ${SLICE})
    file(READ ${WORK}/a.json a)
    if(NOT a STREQUAL b)
      file(WRITE ${WORK}/b.json "${b}")
      fail("--jobs 1 and the default differ: ${WORK}/a.json, b.json")
    endif()
    if(PYTHON)
      execute_process(COMMAND ${PYTHON} -c [=[
import json, sys, itertools
d = json.load(open(sys.argv[1]))
dims = [(t["name"], t["values"]) for t in d["sweep"]["tunables"]]
assert [n for n, _ in dims] == ["pcp_high", "pcp_batch",
                                "watermark_scale_factor"], dims
assert dims[0][1] == [64, 128, 192, 256], dims
want = set(itertools.product(*[v for _, v in dims]))
rows = d["rows"]
got = [tuple(r["settings"][n] for n, _ in dims) for r in rows]
assert len(got) == len(want) == d["sweep"]["combinations"], len(got)
assert set(got) == want, set(want) - set(got)
assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
keys = [r["zone_lock_per_1000"] for r in rows]
assert keys == sorted(keys), keys
for r in rows + [d["reference"]]:
    assert r["allocations"] == 20432, r
print("ok:", len(rows), "rows")
]=] ${WORK}/a.json RESULT_VARIABLE rc OUTPUT_VARIABLE pout
                      ERROR_VARIABLE perr)
      if(NOT rc STREQUAL "0")
        fail("python3 on ${WORK}/a.json: ${perr}")
      endif()
      message("${pout}")
    else()
      jget(n "${a}" sweep combinations)
      string(JSON rows LENGTH "${a}" rows)
      if(NOT n EQUAL 16 OR NOT rows EQUAL 16)
        fail("${n} combinations, ${rows} rows, expected 16")
      endif()
      message("ok: 16 rows (no python3: cmake's parser)")
    endif()

  elseif(CHECK STREQUAL "bad")
    # Exit 2 with the problem named, nothing on stdout, no file written.
    foreach(case
        "bogus=1|unknown tunable 'bogus'"
        "pcp_high=|pcp_high: an empty range"
        "pcp_high=10..5|'10..5' is an empty range"
        "pcp_high=1..5/0|a step of 0"
        "pcp_high=x|'x' is not a number"
        "pcp_high=1,,2|an empty value"
        "watermark_scale_factor=0|out of range for watermark_scale_factor"
        "pcp_high=0|out of range"
        "pcp_high=1..300|more than 256 values"
        "pcp_high=1..20@batch=1..20|more than 256 combinations"
        "pcp_high=4@pcp_high=5|pcp_high given twice"
        "batch=4@pcp_batch=5|pcp_batch given twice"
        "batch=8@pcp_high=2,4|pcp_high is below pcp_batch"
        "min_free_kbytes|not NAME=VALUES"
        " @ |no tunable")
      string(FIND "${case}" "|" bar)
      string(SUBSTRING "${case}" 0 ${bar} spec)
      math(EXPR bar "${bar} + 1")
      string(SUBSTRING "${case}" ${bar} -1 regex)
      # '@' stands for ';' (a CMake list separator): one argument
      string(REPLACE "@" ";" spec "${spec}")
      execute_process(COMMAND ${EXE} replay --quiet --sweep "${spec}" -o
                              ${WORK}/out.txt ${SLICE}
                      RESULT_VARIABLE rc OUTPUT_VARIABLE out
                      ERROR_VARIABLE err)
      if(NOT rc STREQUAL "2")
        fail("--sweep '${spec}': exit ${rc}, expected 2 (${err})")
      endif()
      if(NOT err MATCHES "${regex}")
        fail("--sweep '${spec}': '${err}' does not say '${regex}'")
      endif()
      if(NOT out STREQUAL "" OR EXISTS ${WORK}/out.txt)
        fail("--sweep '${spec}': wrote something")
      endif()
      message("ok: '${spec}' -> ${err}")
    endforeach()
    foreach(args "--rank;fast" "--jobs;0" "--mode;threads" "--stream")
      run(out rc err --sweep pcp_high=64 ${args} ${SLICE})
      if(NOT rc STREQUAL "2" OR NOT out STREQUAL "")
        fail("--sweep pcp_high=64 ${args}: exit ${rc}, expected 2")
      endif()
    endforeach()
    run(out rc err --sweep pcp_high=64 --sysctl min_free_kbytes=2000
        --sweep min_free_kbytes=1000 ${SLICE})
    if(NOT rc STREQUAL "2")
      fail("--sweep and --sysctl of one tunable: exit ${rc}")
    endif()
    run(out rc err --jobs 2 ${SLICE})
    if(NOT rc STREQUAL "2" OR NOT err MATCHES "--jobs goes with --sweep")
      fail("--jobs without --sweep: exit ${rc} ${err}")
    endif()
    # a trace that cannot be read: exit 1, and -o leaves nothing behind
    run(out rc err --sweep pcp_high=64 -o ${WORK}/out.txt
        ${WORK}/does-not-exist.trace)
    file(GLOB left ${WORK}/out.txt*)
    if(NOT rc STREQUAL "1" OR left)
      fail("unreadable trace: exit ${rc}, files ${left}")
    endif()
    # an -o that cannot be written: exit 1, no temporary file
    run(out rc err --sweep pcp_high=64 -o ${WORK}/no/such/dir/out.txt
        ${SLICE})
    if(NOT rc STREQUAL "1" OR NOT err MATCHES "cannot write")
      fail("-o into a missing directory: exit ${rc} ${err}")
    endif()

  elseif(CHECK STREQUAL "plot")
    run(out rc err --sweep pcp_high=64,256 --sweep batch=8,32 --plot
        ${WORK}/sweep.png ${SLICE})
    # gnuplot as the tool looks for it, on PATH now: it may have been
    # installed (bench/run.sh installs it) or removed since the build
    # was configured.
    find_program(gnuplot_now gnuplot NO_CACHE)
    if(gnuplot_now)
      if(NOT rc STREQUAL "0")
        fail("--plot: exit ${rc}: ${err}")
      endif()
      file(READ ${WORK}/sweep.png magic LIMIT 4 HEX)
      if(NOT magic STREQUAL "89504e47")
        fail("--plot wrote no PNG (starts ${magic})")
      endif()
      file(GLOB left ${WORK}/sweep.png.tmp*)
      if(left)
        fail("temporary files left: ${left}")
      endif()
      message("ok: PNG written")
    else()
      if(NOT rc STREQUAL "1" OR NOT err MATCHES "gnuplot is not installed"
         OR EXISTS ${WORK}/sweep.png OR NOT out STREQUAL "")
        fail("--plot without gnuplot: exit ${rc}: ${err}")
      endif()
      message("ok: no gnuplot, said so: ${err}")
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
find_program(ZA_PYTHON3_PROGRAM python3)
za_script_test(AREA sweep LABEL replay TIMEOUT 120
               CHECKS table equal json bad plot
               DEFS -DDATA=${CMAKE_CURRENT_SOURCE_DIR}/data
                    "-DPYTHON=${ZA_PYTHON3_PROGRAM}")
