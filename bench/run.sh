#!/bin/sh
# bench/run.sh - run the page-allocator benchmark against every peer, side
# by side on this machine, and collect the results.
#
#   bench/run.sh [--quick] [--no-install] [--no-instr] [--instr]
#                [--wait-quiet S] [--nice N] [--out DIR]
#                [-- extra bench options]
#
# Steps: install the peers (jemalloc, tcmalloc, mimalloc) and gnuplot from
# Debian when root and online (skipped with a message otherwise); configure
# a Release build in build-bench/; run bench_zonealloc (per-CPU lists on and
# off) and each peer binary; merge everything into one table, CSV and JSON
# in bench/results/; draw bench/results/compare.png; count instructions per
# op for the pair workload (perf stat where the machine has the counter,
# else callgrind, whose counts are exact and repeatable).
# Before each binary it waits for the other processes on the machine to
# leave the CPUs alone (at most --wait-quiet seconds over the whole run:
# default 120, quick 0) and records how busy they were (results/load.txt):
# on a 2-core machine any other load shows in the figures. As root the
# binaries run at nice -15, in a session (autogroup) of their own with the
# same nice value (--nice N to change, --nice 0 for none), so that other
# processes take less of their time; the figures still say how busy the
# machine was.
# --quick: 0.1 s per measurement, 3 repetitions, no instruction counts
# (unless --instr). Exit status: non-zero when zonealloc's binary failed.
# shellcheck disable=SC2086,SC2046,SC2016
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
out="$here/results"
build="$top/build-bench"
quick=0
install=1
instr=auto
extra=""
wait_quiet=""
nice=""

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--no-install) install=0 ;;
	--no-instr) instr=no ;;
	--instr) instr=yes ;;
	--out) out=$2; shift ;;
	--wait-quiet) wait_quiet=$2; shift ;;
	--nice) nice=$2; shift ;;
	--) shift; extra="$*"; break ;;
	-h|--help) sed -n "2,/^# shellcheck/p" "$0" | sed "\$d; s/^# \\{0,1\\}//"; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
if [ "$instr" = auto ]; then
	if [ $quick = 1 ]; then instr=no; else instr=yes; fi
fi
qflag=""
[ $quick = 1 ] && qflag="--quick"
if [ -z "$nice" ]; then
	if [ "$(id -u)" = 0 ]; then nice=-15; else nice=0; fi
fi
# With autogroup scheduling (Linux's default) nice only weighs a process
# against its own session: each binary gets a session of its own (setsid)
# whose autogroup carries the nice value too.
run() {
	if [ "$nice" != 0 ] && command -v setsid >/dev/null 2>&1; then
		setsid -w sh -c 'echo "$0" >/proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"' "$nice" "$@"
	elif [ "$nice" != 0 ]; then
		nice -n "$nice" "$@"
	else
		"$@"
	fi
}
if [ -z "$wait_quiet" ]; then
	if [ $quick = 1 ]; then wait_quiet=0; else wait_quiet=120; fi
fi
sample=1
[ $quick = 1 ] && sample=0.3

say() { printf '== %s\n' "$*"; }

# Percent of all CPU time that was busy over $sample seconds (/proc/stat).
busy_pct() {
	set -- $(sed -n 's/^cpu  *//p' /proc/stat)
	t1=$(($1 + $2 + $3 + $4 + $5 + $6 + $7 + $8)); i1=$(($4 + $5))
	sleep "$sample"
	set -- $(sed -n 's/^cpu  *//p' /proc/stat)
	t2=$(($1 + $2 + $3 + $4 + $5 + $6 + $7 + $8)); i2=$(($4 + $5))
	[ $t2 -gt $t1 ] || { echo 0; return; }
	echo $((100 * ((t2 - t1) - (i2 - i1)) / (t2 - t1)))
}

# Wait until other processes use under 10 % of the CPUs, for at most
# $wait_quiet seconds over the whole run; log the figure for the binary
# about to run.
quiet() {
	waited=0
	busy=$(busy_pct)
	while [ "$busy" -ge 10 ] && [ "$wait_quiet" -gt 0 ]; do
		[ $waited = 0 ] && say "machine busy ($busy %): waiting (at most ${wait_quiet} s more in this run)"
		busy=$(busy_pct)
		waited=$((waited + 1))
		wait_quiet=$((wait_quiet - 1))
	done
	echo "$1: other load before start ${busy} % of all CPUs (waited ${waited} s)" >>"$out/load.txt"
	[ "$busy" -ge 10 ] && say "warning: machine still ${busy} % busy: figures of $1 are disturbed"
	return 0
}

# ---- 1. the peers and gnuplot, from Debian ----------------------------------
pkgs="libjemalloc-dev libgoogle-perftools-dev libmimalloc-dev gnuplot-nox"
if [ $install = 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		say "not root: not installing $pkgs (the peers found are used)"
	elif ! command -v apt-get >/dev/null 2>&1; then
		say "no apt-get: not installing $pkgs"
	else
		missing=""
		for p in $pkgs; do
			dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
				grep -q "install ok installed" || missing="$missing $p"
		done
		if [ -n "$missing" ]; then
			say "installing$missing"
			if ! { apt-get install -y $missing >/dev/null 2>&1 ||
			       { apt-get update >/dev/null 2>&1 &&
			         apt-get install -y $missing >/dev/null 2>&1; }; }; then
				say "could not install$missing (offline?): going on without"
			fi
		fi
	fi
fi

# ---- 2. build -----------------------------------------------------------------
say "configuring a Release build in $build"
mkdir -p "$build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DZA_BUILD_TESTS=OFF \
	>"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
grep -E '^-- bench:' "$build/configure.log" || true
bins="bench_zonealloc bench_glibc"
extras="bench_hotline"
for p in jemalloc tcmalloc mimalloc; do
	if grep -q "^-- bench: $p peer" "$build/configure.log"; then
		bins="$bins bench_$p"
	else
		say "$p: library not found, skipped"
	fi
done
# shellcheck disable=SC2086
cmake --build "$build" -j2 --target $bins $extras >"$build/build.log" 2>&1 ||
	{ tail -40 "$build/build.log"; exit 1; }

# ---- 3. the machine -------------------------------------------------------------
mkdir -p "$out"
rm -f "$out"/*.csv "$out"/*.json "$out"/*.txt "$out"/*.png "$out"/*.dat
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1) (family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p'), stepping $(lscpu | sed -n 's/^Stepping: *//p')); L2 $(lscpu | sed -n 's/^L2 cache: *//p'); L3 $(lscpu | sed -n 's/^L3 cache: *//p')"
	echo "cores: $(nproc) online; $(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s) per core; hypervisor: $(lscpu | sed -n 's/^Hypervisor vendor: *//p')"
	echo "memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
	echo "kernel: $(uname -sr)"
	echo "glibc: $(ldd --version | head -1 | sed 's/.* //')"
	echo "compiler: $(${CC:-cc} --version | head -1)"
	echo "build: CMake Release (-O3 -DNDEBUG)"
	echo "mode: $([ $quick = 1 ] && echo 'quick (0.1 s x 3)' || echo 'full (0.5 s x 5)'), nice $nice"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out/machine.txt"
cat "$out/machine.txt"

# ---- 4. run -----------------------------------------------------------------
# What one block handed between the two cores costs with no allocator at
# all (calib-ring, 0.1 s): on a VM this moves by up to 10x when the host
# places the two vCPUs elsewhere, and with it every two-thread workload
# that hands blocks over (xfree, xfree-swap, replay/2). Logged before and
# after each binary so that a figure can be read against the machine's
# state at the time.
ring() {
	r=$("$build/bench/bench_glibc" --quick --only calib-ring 2>/dev/null |
		awk '$2 == "calib-ring" {print $4; exit}')
	echo "$1: cross-core hand-over $2 (calib-ring, no allocator): ${r:-?} ns per block" >>"$out/load.txt"
}
status=0
ran=""
for b in $bins; do
	name=${b#bench_}
	say "$b"
	quiet "$b"
	ring "$b" before
	if ! "$build/bench/$b" --check; then
		say "$b: not the expected allocator, skipped"
		[ "$b" = bench_zonealloc ] && status=1
		continue
	fi
	# shellcheck disable=SC2086
	if ! run "$build/bench/$b" $qflag --csv "$out/results.csv" \
		--json "$out/$name.json" $extra; then
		say "$b: failed"
		[ "$b" = bench_zonealloc ] && status=1
	fi
	ring "$b" after
	ran="$ran $name"
done
say "calibration: the machine's own 1 -> 2 thread scaling, no allocator"
quiet calibration
run "$build/bench/bench_glibc" $qflag --only calib,calib-ring --csv "$out/calib.csv" |
	tail -n 3

say "diagnosis: the two CPUs' hot pages in one pageblock or two; atomics"
quiet hotline
{
	run "$build/bench/bench_hotline"
	run "$build/bench/bench_hotline" separate
	run "$build/bench/bench_hotline" atomics
	run "$build/bench/bench_hotline" floor
	run "$build/bench/bench_hotline" fence
} >"$out/hotline.txt" 2>&1 || true
cat "$out/hotline.txt"

# ---- 5. instructions per op (pair, 1 thread) ------------------------------------
perf_ok=0
if command -v perf >/dev/null 2>&1 &&
   perf stat -x, -e instructions:u true 2>&1 | grep -q '^[0-9]'; then
	perf_ok=1
fi
if [ "$instr" = yes ]; then
	n=2000000
	echo "allocator,workload,instructions_per_op,method,ops" >"$out/instructions.csv"
	for name in $ran; do
		b="$build/bench/bench_$name"
		variants=$name
		[ "$name" = zonealloc ] && variants="zonealloc zonealloc-locked zonealloc-nopcp"
		for v in $variants; do
			vflag=""
			[ "$name" = zonealloc ] && vflag="--variant $v"
			if [ $perf_ok = 1 ]; then
				# Two runs, N and 2N ops each for warm-up and count: the
				# difference is 2N ops with set-up and exit cancelled.
				i1=$(perf stat -x, -e instructions:u "$b" $vflag --only pair \
					--iters $n --mem 256 2>&1 >/dev/null | awk -F, '/instructions/ {print $1}')
				i2=$(perf stat -x, -e instructions:u "$b" $vflag --only pair \
					--iters $((2 * n)) --mem 256 2>&1 >/dev/null | awk -F, '/instructions/ {print $1}')
				ipo=$(awk -v a="$i1" -v b="$i2" -v n=$n 'BEGIN {printf "%.1f", (b - a) / (2 * n)}')
				method=perf
				ops=$((2 * n))
			elif command -v valgrind >/dev/null 2>&1; then
				cn=200000
				cg="$build/callgrind.$v.out"
				valgrind --tool=callgrind --collect-atstart=no \
					--toggle-collect=bench_counted_run \
					--callgrind-out-file="$cg" "$b" $vflag --only pair \
					--iters $cn --mem 256 >/dev/null 2>&1 || true
				ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$cg" 2>/dev/null)
				ipo=$(awk -v a="${ir:-0}" -v n=$cn 'BEGIN {printf "%.1f", a / n}')
				method=callgrind
				ops=$cn
			else
				continue
			fi
			echo "$v,pair,$ipo,$method,$ops" >>"$out/instructions.csv"
			printf '%-16s pair: %s instructions/op (%s)\n' "$v" "$ipo" "$method"
		done
	done
fi

# ---- 6. merge: JSON, the comparison table ------------------------------------
{
	printf '{\n  "machine": {\n'
	sed 's/"/\\"/g; s/^\([^:]*\): \(.*\)$/    "\1": "\2",/' "$out/machine.txt" |
		sed '$ s/,$//'
	printf '  },\n  "op": "one block allocated and freed; ns_per_op = wall time x threads / ops",\n'
	printf '  "results": [\n'
	for name in $ran; do
		[ -f "$out/$name.json" ] && grep '^    {"allocator"' "$out/$name.json" |
			sed 's/},\{0,1\}$/}/'
	done | sed '$!s/$/,/'
	printf '  ]'
	if [ -f "$out/instructions.csv" ]; then
		printf ',\n  "instructions_per_op": [\n'
		tail -n +2 "$out/instructions.csv" | awk -F, '{printf "%s    {\"allocator\": \"%s\", \"workload\": \"%s\", \"instructions_per_op\": %s, \"method\": \"%s\", \"ops\": %s}", (NR > 1 ? ",\n" : ""), $1, $2, $3, $4, $5} END {print ""}'
		printf '  ]'
	fi
	printf '\n}\n'
} >"$out/results.json"

# Pivot: one row per workload and thread count, one column per allocator.
awk -F, -v order="zonealloc zonealloc-locked zonealloc-nopcp$ran" '
NR == 1 { next }
{
	key = $2 "/" $3
	if (!(key in seen)) { seen[key] = 1; keys[++nk] = key }
	ns[key, $1] = $4; have[$1] = 1
}
END {
	na = 0
	n = split(order, cand, " ")
	for (i = 1; i <= n; i++)
		if ((cand[i] in have) && !(cand[i] in col)) { col[cand[i]] = 1; a[++na] = cand[i] }
	printf "%-14s", "ns/op"
	for (i = 1; i <= na; i++) printf " %15s", a[i]
	printf " %12s %10s\n", "best_peer", "za/best"
	for (k = 1; k <= nk; k++) {
		key = keys[k]
		printf "%-14s", key
		best = ""; bv = 0
		for (i = 1; i <= na; i++) {
			v = ns[key, a[i]]
			printf " %15s", (v == "" ? "-" : sprintf("%.2f", v))
			if (a[i] !~ /^zonealloc/ && v != "" && (best == "" || v + 0 < bv)) { best = a[i]; bv = v + 0 }
		}
		z = ns[key, "zonealloc"]
		if (best != "" && z != "")
			printf " %12s %9.2fx\n", best, z / bv
		else
			printf " %12s %10s\n", (best == "" ? "-" : best), "-"
	}
}' "$out/results.csv" >"$out/table.txt"

# zonealloc's own figures: zone lock, per-CPU lists, metadata.
awk -F, '
NR == 1 { next }
$1 ~ /^zonealloc/ && $11 != "" {
	printf "%-16s %-11s %3s  zone-lock per 1k pages %8.2f, per 1k ops %8.2f  pcp pages at end %6s  refills %8s  flushes %8s  trylock-fail %5s  meta %s B/page\n", $1, $2, $3, $13, $19, $17, $14, $15, $16, $18
}' "$out/results.csv" >"$out/zonealloc.txt"
awk -F, '
NR == 1 { next }
$1 ~ /^zonealloc/ && $11 != "" { z[$1, $2 "/" $3] = $13; k[$2 "/" $3] = 1 }
END {
	for (key in k) {
		on = z["zonealloc", key]; off = z["zonealloc-nopcp", key]
		if (on != "" && off != "")
			printf "%-14s zone-lock per 1k pages allocated: pcp on %8.3f, off %8.2f: %s\n", key, on, off, (on > 0 ? sprintf("%.0fx fewer", off / on) : "none with pcp on")
	}
}' "$out/results.csv" | sort >>"$out/zonealloc.txt"

# The same two tables in Markdown, ready for docs/PERFORMANCE.md.
awk 'NR == 1 {
	printf "| workload/threads |"
	for (i = 2; i <= NF; i++) printf " %s |", $i
	printf "\n|---|"
	for (i = 2; i <= NF; i++) printf "---:|"
	printf "\n"; next }
{ printf "| %s |", $1; for (i = 2; i <= NF; i++) printf " %s |", $i; printf "\n" }' \
	"$out/table.txt" >"$out/table.md"
awk -F, '
NR == 1 { next }
$1 ~ /^zonealloc/ {
	k = $2 "/" $3
	if ($1 == "zonealloc") { ns[k] = $4; mo[k] = $7; zl[k] = $19; pcp[k] = $17; keys[++n] = k }
	else zloff[k] = $19
}
END {
	print "| workload/threads | ns/op | Mops/s | zone lock per 1000 allocation calls, pcp on | pcp off | pages on per-CPU lists at the end |"
	print "|---|---:|---:|---:|---:|---:|"
	for (i = 1; i <= n; i++) {
		k = keys[i]
		printf "| %s | %.2f | %.2f | %.2f | %.2f | %d (%.1f MiB) |\n", k, ns[k], mo[k], zl[k], zloff[k], pcp[k], pcp[k] * 4 / 1024
	}
}' "$out/results.csv" >"$out/zonealloc.md"

# The targets of issue 11 (and what is left of issues 2 and 6), checked
# against what was measured.
ins_csv=
[ -f "$out/instructions.csv" ] && ins_csv=$out/instructions.csv
awk -F, '
FNR == 1 { next }
FILENAME ~ /hotline/ {
	if ($0 ~ /^pair, model with the three locked/) { sub(/.*: */, ""); floor_ns = $0 + 0 }
	if ($0 ~ /^pair, model with plain/) { sub(/.*: */, ""); plain_ns = $0 + 0 }
	if ($0 ~ /^pair, model as an array stack with page/) { sub(/.*: */, ""); stack_ns = $0 + 0 }
	if ($0 ~ /^pair, model as an array stack, no page/) { sub(/.*: */, ""); stack0_ns = $0 + 0 }
	next
}
FILENAME ~ /instructions/ { ins[$1] = $3; next }
FILENAME ~ /calib/ { if ($2 == "calib") cal[$3] = $7; next }
{
	key = $2 "/" $3
	ns[$1, key] = $4; mops[$1, key] = $7
	if (!(key in wl)) { wl[key] = 1; wk[++nwk] = key }
	if ($1 !~ /^zonealloc/ && !($1 in peer)) { peer[$1] = 1; pk[++npk] = $1 }
	if ($11 != "") { zl[$1, key] = $11; pga[$1, key] = $12; meta = $18 }
}
function verdict(ok) { return ok ? "met   " : "MISSED" }
END {
	z = ns["zonealloc", "pair/1"]
	if (z != "")
		printf "%s pair, 1 thread < 20 ns: %.2f ns (%+.2f ns)\n", verdict(z < 20), z, z - 20
	t = ns["tcmalloc", "pair/1"]
	if (z != "" && t != "")
		printf "%s pair, 1 thread <= 0.8x tcmalloc (issue 11, stretch; tcmalloc %.2f ns -> limit %.2f ns): %.2f ns = %.2fx\n", verdict(z <= 0.8 * t), t, 0.8 * t, z, z / t
	if (stack_ns > 0)
		printf "       a per-CPU set with nothing but an owner (bench_hotline floor, array stack): %.2f ns a pair with the page state the double-free invariant needs, %.2f without\n", stack_ns, stack0_ns
	if (floor_ns > 0)
		printf "       the old rules (try-locks and the free'"'"'s compare-and-swap, the locked model): %.2f ns; the same work with plain stores: %.2f ns\n", floor_ns, plain_ns
	nmiss = 0; ntot = 0; lst = ""
	for (wi = 1; wi <= nwk; wi++) {
		k = wk[wi]
		if (ns["zonealloc", k] == "") continue
		for (pi = 1; pi <= npk; pi++) {
			p = pk[pi]
			if (ns[p, k] == "") continue
			ntot++
			if (ns["zonealloc", k] + 0 > ns[p, k] + 0) {
				nmiss++
				lst = lst sprintf("\n         %-13s %-9s zonealloc %9.2f ns vs %9.2f ns (%.2fx)", k, p, ns["zonealloc", k], ns[p, k], ns["zonealloc", k] / ns[p, k])
			}
		}
	}
	printf "%s zonealloc <= 1.0x every peer on every workload (issue 11): %d of %d comparisons lost%s\n", verdict(nmiss == 0), nmiss, ntot, lst
	if (ins["zonealloc"] != "" && ins["tcmalloc"] != "")
		printf "%s instructions per pair <= tcmalloc'"'"'s (callgrind; zonealloc runs its locked fallback there, valgrind has no rseq): %s vs %s\n", verdict(ins["zonealloc"] + 0 <= ins["tcmalloc"] + 0), ins["zonealloc"], ins["tcmalloc"]
	m1 = mops["zonealloc", "pair/1"]; m2 = mops["zonealloc", "pair/2"]
	if (m1 > 0 && m2 != "")
		printf "%s pairs, 2 threads >= 1.9x the throughput of 1: %.2f -> %.2f Mops/s = %.2fx%s\n", verdict(m2 / m1 >= 1.9), m1, m2, m2 / m1, (cal[1] > 0 && cal[2] > 0 ? sprintf(" (the machine itself, no allocator: %.2fx)", cal[2] / cal[1]) : "")
	split("pair/1 pair/2 batch/1 batch/2", ks, " ")
	for (i = 1; i <= 4; i++) {
		k = ks[i]
		if (pga["zonealloc", k] == "" || pga["zonealloc-nopcp", k] == "") continue
		on = zl["zonealloc", k] / pga["zonealloc", k]
		off = zl["zonealloc-nopcp", k] / pga["zonealloc-nopcp", k]
		if (on > 0)
			printf "%s zone lock pcp on vs off >= 30x fewer, %-7s: %.3f vs %.1f per 1000 allocations = %.0fx fewer\n", verdict(off / on >= 30), k, 1000 * on, 1000 * off, off / on
		else
			printf "%s zone lock pcp on vs off >= 30x fewer, %-7s: 0 (%s allocations) vs %.1f per 1000 allocations\n", verdict(off > 0), k, pga["zonealloc", k], 1000 * off
	}
	if (meta != "")
		printf "%s metadata <= 16 bytes per 4 KiB page: %d bytes\n", verdict(meta <= 16), meta
}' "$out/hotline.txt" "$out/calib.csv" ${ins_csv:+"$ins_csv"} "$out/results.csv" >"$out/targets.txt" || true

say "ns per op (op = one alloc + one free; ns/op = wall x threads / ops)"
cat "$out/table.txt"
say "zonealloc"
cat "$out/zonealloc.txt"

# ---- 7. the picture ---------------------------------------------------------------
if command -v gnuplot >/dev/null 2>&1; then
	# Data for gnuplot: a header row of allocators, one row per workload.
	awk 'NR == 1 {
		printf "workload"
		for (i = 2; i <= NF - 2; i++) printf "\t%s", $i
		printf "\n"; next }
	{ printf "%s", $1
	  for (i = 2; i <= NF - 2; i++) printf "\t%s", $i
	  printf "\n" }' "$out/table.txt" >"$out/compare.dat"
	ncol=$(head -1 "$out/compare.dat" | awk -F'\t' '{print NF}')
	gnuplot -e "datafile='$out/compare.dat'; outfile='$out/compare.png'; ncol=$ncol" \
		"$here/plot.gp" && say "wrote $out/compare.png"
else
	say "gnuplot not installed: no picture"
fi
say "targets (issues 2 and 6)"
cat "$out/targets.txt"
say "other load seen before each binary:"
cat "$out/load.txt"
say "results in $out: results.csv results.json table.txt zonealloc.txt machine.txt targets.txt hotline.txt load.txt (and table.md, zonealloc.md)"
exit $status
