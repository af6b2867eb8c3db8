#!/bin/sh
# replay-table.sh - replay every shipped kernel trace and print the table
# of docs/REPLAY.md ("zonealloc against the kernel, trace by trace"): per
# 1000 allocations, zone-lock acquisitions and pages moved between the
# per-CPU lists and the buddy lists, zonealloc's beside the kernel's own
# (from the trace's mm_page_alloc_zone_locked and mm_page_pcpu_drain
# events). A trace made by `zonealloc record` replays on its recorded
# machine (zones, watermarks, per-CPU list sizes); the others on the
# machine their events show. The last two columns: the most pages one
# CPU's list of a zone held at any time of the replay, and the kernel's
# high for that list at the start and the end of the recording (a
# recording's header has them; "-" otherwise); and the most pages that
# kernel list held and its highest high, over record's looks at zoneinfo
# while it recorded (recordings made with them; "-" otherwise).
#
# Usage: scripts/replay-table.sh [-z ZONEALLOC] [TRACE...]
#   -z ZONEALLOC  the tool to run (default: build/tools/zonealloc)
#   TRACE...      traces to replay (default: traces/*.trace.xz)
# Run from the top of the source tree after building. Det mode: the
# figures repeat exactly for the same code. Prints Markdown on stdout.
set -eu

exe=build/tools/zonealloc
if [ "${1:-}" = "-z" ]; then
	exe=$2
	shift 2
fi
if [ ! -x "$exe" ]; then
	echo "replay-table: $exe not found; build first (cmake -S . -B build && cmake --build build -j2) or pass -z" >&2
	exit 2
fi
if [ $# -eq 0 ]; then
	set -- traces/*.trace.xz
fi

echo "| trace | machine | allocations | zone lock: zonealloc | kernel | buddy→pcp pages: zonealloc | kernel | pcp→buddy pages: zonealloc | kernel | most on one list: zonealloc | kernel's high, start / end | kernel, looked: most pages / top high |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
cmds=""
for t in "$@"; do
	out=$("$exe" replay --quiet --no-timing "$t") || {
		echo "replay-table: $exe replay $t failed" >&2
		exit 1
	}
	echo "$out" | awk -v name="$(basename "$t" .trace.xz)" '
		/^Topology \(the recorded machine/ { machine = "recorded" }
		/^Topology \(from the trace/ { machine = "from the trace" }
		/^Topology \(zonealloc.s own/ { machine = "ours" }
		/pages refilled, buddy -> pcp/ { rz = $(NF-1); rk = $NF }
		/pages returned, pcp -> buddy/ { fz = $(NF-1); fk = $NF }
		/^  zone-lock acquisitions/ && !lz { lz = $(NF-2); lk = $NF }
		/^  allocations +[0-9]+ +[0-9]+ *$/ { allocs = $NF }
		/^Per-CPU lists, the most pages/ { peaks = 1; next }
		peaks && /^$/ { peaks = 0 }
		# node N ZONE CPU zonealloc its-high start end looked-most top-high
		peaks && /^  node / && $5 + 0 > pz + 0 {
			pz = $5; pk = $7 " / " $8; pl = $9 " / " $10
		}
		END {
			if (pz == "") { pz = "-"; pk = "-"; pl = "-" }
			if (pk == "- / -") pk = "-"
			if (pl == "- / -") pl = "-"
			printf "| `%s` | %s | %s | %s | >= %s | %s | %s | %s | %s | %s | %s | %s |\n",
			       name, machine, allocs, lz, lk, rz, rk, fz, fk, pz, pk, pl
		}'
	cmds="$cmds
    $exe replay $t"
done
echo
echo "Each row came from:"
echo "$cmds"
