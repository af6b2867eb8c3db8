#!/bin/sh
# run.sh - model-check zonealloc's concurrency protocols with spin,
# exhaustively:
#   offline.pml  memory offline against frees and allocations (locked
#                page sets; seed 004);
#   rseq.pml     restartable page sets: owners acquire with a restartable
#                sequence, remote users stop, fence (membarrier) and wait;
#   cpuoff.pml   a CPU offline of restartable page sets with bounded waits:
#                what it cannot finish it leaves to the statistics worker.
# Runs, each a separate pan binary:
#   safety:   assertions and invalid end states, without the never claim;
#   end:      (rseq, cpuoff) the same with bounded owners (-DOPS=2), so that
#             every thread ends and the end state is checked;
#   liveness: the model's ltl claim (offline terminates; every remote user
#             finishes), searched for acceptance cycles under weak fairness
#             (pan -a -f).
#
# usage: run.sh VARIANT [WORKDIR]
#   VARIANT ok        offline.pml, the protocol of DESIGN.md: both runs must
#                     find 0 errors
#           seed004   offline.pml, the 2020 protocol (no pcp disable): both
#                     runs must find an error (liveness run with assertions
#                     off, so the non-termination is shown on its own)
#           unlocked  offline.pml, the disable flag read before the pcp
#                     lock: as seed004
#           impl      offline.pml as src/pcp.c has it (a flag per pcp, set
#                     in the drain's lock hold): as ok
#           rseq      rseq.pml, the stop + fence protocol: all three runs
#                     must find 0 errors
#           rseq-nofence, rseq-stop-outside, rseq-nowait, rseq-nocpucheck,
#           rseq-off-outside
#                     rseq.pml with one step of the protocol left out or
#                     misplaced (see the file): the safety run must find
#                     the assertion named below violated
#           rseq-nostop  rseq.pml without the stop flag: the safety run
#                     must find the overlap, and the liveness run (with
#                     assertions off) a remote user starved
#           rseq-tso  rseq.pml with the owner's commit store buffered
#                     (x86-TSO): as rseq
#           rseq-tso-nobarrier  the same with a fence that is no memory
#                     barrier: the safety run must find the overlap
#           cpuoff    cpuoff.pml, the offline with bounded waits and the
#                     worker's deferred drain: safety and end runs must find
#                     0 errors
#           cpuoff-defer-no-mark, cpuoff-worker-no-drain  an offline that
#                     gives up without the deferred mark, a worker that
#                     clears it without draining: the end run must find a
#                     page left on the offline CPU's set
#           cpuoff-worker-no-wait  the worker drains without waiting for
#                     the owner: the safety run must find the overlap
#   WORKDIR scratch directory (default: a new one under /tmp); the spin
#           output, pan sources and any trail (with its replay) stay there.
# Environment: SPIN (default spin), CC (default cc), PAN_MEM_MB (default
# 4096, pan's memory limit), MODEL_DEFS (extra spin -D options for a larger
# model, e.g. "-DOPS=3 -DNPAGES=3" or "-DNOWNER=3"; see
# docs/VERIFICATION.md).
# Exit status: 0 when the variant behaved as expected, 1 when not, 77 when
# spin or the compiler is missing (ctest SKIP_RETURN_CODE).
#
# SPDX-License-Identifier: MIT
set -u

here=$(cd "$(dirname "$0")" && pwd)
variant=${1:-ok}
work=${2:-}
spin=${SPIN:-spin}
cc=${CC:-cc}
memmb=${PAN_MEM_MB:-4096}

# model, spin defines, expected result of the safety, end and liveness
# runs (pass, fail, or - for not run), the assertion the safety run must
# report (empty: any error), the hash table size.
overlap='assertion violated (users[c]==0)'
want=
case $variant in
ok) model=offline define= safety=pass end=- live=pass hash=-w26 ;;
seed004) model=offline define=-DSEED004_BUG safety=fail end=- live=fail hash=-w18 ;;
unlocked) model=offline define=-DPCP_CHECK_UNLOCKED safety=fail end=- live=fail hash=-w18 ;;
impl) model=offline define=-DFLAG_PER_PCP safety=pass end=- live=pass hash=-w26 ;;
rseq) model=rseq define= safety=pass end=pass live=pass hash=-w22 ;;
rseq-nofence) model=rseq define=-DNO_FENCE safety=fail end=- live=- hash=-w18 want=$overlap ;;
rseq-stop-outside) model=rseq define=-DSTOP_OUTSIDE safety=fail end=- live=- hash=-w18 want=$overlap ;;
rseq-nowait) model=rseq define=-DNO_WAIT safety=fail end=- live=- hash=-w18 want=$overlap ;;
rseq-nocpucheck) model=rseq define=-DNO_CPU_CHECK safety=fail end=- live=- hash=-w18 want=$overlap ;;
rseq-off-outside) model=rseq define=-DOFF_OUTSIDE safety=fail end=- live=- hash=-w18 want='assertion violated  !(drained[c])' ;;
rseq-nostop) model=rseq define=-DNO_STOP safety=fail end=- live=fail hash=-w18 want=$overlap ;;
rseq-tso) model=rseq define=-DTSO safety=pass end=pass live=pass hash=-w22 ;;
rseq-tso-nobarrier) model=rseq define="-DTSO -DFENCE_NO_BARRIER" safety=fail end=- live=- hash=-w18 want=$overlap ;;
cpuoff) model=cpuoff define= safety=pass end=pass live=- hash=-w24 ;;
cpuoff-defer-no-mark) model=cpuoff define=-DDEFER_NO_MARK safety=- end=fail live=- hash=-w20 ;;
cpuoff-worker-no-wait) model=cpuoff define=-DWORKER_NO_WAIT safety=fail end=- live=- hash=-w20 want=$overlap ;;
cpuoff-worker-no-drain) model=cpuoff define=-DWORKER_NO_DRAIN safety=- end=fail live=- hash=-w20 ;;
*) echo "run.sh: unknown variant '$variant' (ok, impl, seed004, unlocked, rseq, rseq-nofence, rseq-stop-outside, rseq-nowait, rseq-nocpucheck, rseq-off-outside, rseq-nostop, rseq-tso, rseq-tso-nobarrier, cpuoff, cpuoff-defer-no-mark, cpuoff-worker-no-wait, cpuoff-worker-no-drain)" >&2; exit 2 ;;
esac

command -v "$spin" >/dev/null 2>&1 || { echo "run.sh: $spin not found: SKIP"; exit 77; }
command -v "$cc" >/dev/null 2>&1 || { echo "run.sh: $cc not found: SKIP"; exit 77; }

if [ -z "$work" ]; then
	work=$(mktemp -d /tmp/za-model.XXXXXX) || exit 1
fi
rm -rf "$work" && mkdir -p "$work" || exit 1
cd "$work" || exit 1
cp "$here/$model.pml" . || exit 1

echo "== model: $model.pml variant '$variant' ($define) in $work"

# Print the figures of one pan run; sets $errors.
figures()
{
	errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$1" | tail -n 1)
	[ -n "$errors" ] || errors=unknown
	grep -E 'violated|acceptance cycle \(|invalid end state \(' "$1" | head -n 3
	grep -E 'State-vector|states, stored|transitions|total actual memory|elapsed time' "$1"
	if grep -q 'max search depth too small' "$1"; then
		echo "   (search depth too small: the search was not exhaustive)"
		errors=unknown
	fi
	# pan also stops short when it runs out of memory (PAN_MEM_MB): no
	# error found then proves nothing. (A run that stops at its first
	# error says "Search not completed" too; that error stands.)
	if [ "$errors" = 0 ] && grep -q 'Search not completed' "$1"; then
		echo "   (search not completed: pan ran out of memory, not exhaustive)"
		errors=unknown
	fi
}

# Keep a trail and its replay next to the run that wrote it ($1: run name,
# $2: the spin defines the run was generated with).
keep_trail()
{
	if [ -f $model.pml.trail ]; then
		mv $model.pml.trail "$1.trail"
		cp "$1.trail" $model.pml.trail
		"$spin" -t -p -g -l $2 $model.pml > "$1.replay.txt" 2>&1
		rm -f $model.pml.trail
		echo "   trail: $work/$1.trail, replay: $work/$1.replay.txt"
	fi
}

# run NAME SPIN-DEFINES CC-FLAGS PAN-FLAGS: generate, build and run one
# pan; sets $errors and leaves pan's output in NAME.out.
run()
{
	"$spin" -a $2 $model.pml > "$1.spin.out" 2>&1 || { cat "$1.spin.out"; exit 1; }
	# shellcheck disable=SC2086
	"$cc" $opt -w -DMEMLIM=$memmb $3 -o "pan_$1" pan.c || exit 1
	echo "-- $1: ./pan_$1 $4"
	# shellcheck disable=SC2086
	"./pan_$1" $4 > "$1.out" 2>&1
	figures "$1.out"
	keep_trail "$1" "$2"
}

# check NAME EXPECT: did run NAME give what was expected? Sets $bad.
bad=0
check()
{
	case $2 in
	pass) [ "$errors" = 0 ] || { echo "   expected 0 errors"; bad=1; } ;;
	fail)
		if [ "$errors" = unknown ] || [ "$errors" -lt 1 ]; then
			echo "   expected an error: spin did not find the known bug"
			bad=1
		elif [ "$1" = safety ] && [ -n "$want" ] && ! grep -qF "$want" "$1.out"; then
			echo "   expected '$want'"
			bad=1
		fi ;;
	esac
}

defs="$define ${MODEL_DEFS:-}"
# rseq.pml's state space is small: compiling pan.c with -O2 would take
# longer than the search
opt=-O2
[ $model != offline ] && opt=-O1
# The buggy variants stop at their first error long before the hash table
# matters; the ok ones start with the size they end up needing.
run safety "$defs" -DNOCLAIM "-m200000 $hash"
check safety $safety
summary="safety errors: $errors"
if [ "$end" != - ]; then
	# bounded owners, so that every thread ends (the safety run's owners
	# loop forever: it cannot see an end state)
	run end "$defs -DOPS=2" -DNOCLAIM "-m200000 $hash"
	check end $end
	summary="$summary, end errors: $errors"
fi
if [ "$live" != - ]; then
	live_flags="-a -f -m200000 $hash"
	# In the buggy variants the safety assertion would be hit first; turn
	# assertions off so that the run shows non-termination by itself.
	[ "$live" = fail ] && live_flags="$live_flags -A"
	# weak fairness needs room for every process: rseq.pml with
	# -DNOWNER=3 has 7 with the never claim
	nfair=
	[ $model = rseq ] && nfair=-DNFAIR=3
	run liveness "$defs" "$nfair" "$live_flags"
	check liveness $live
	summary="$summary, liveness errors: $errors"
fi

echo "== variant '$variant': $summary"
# A variant with a known bug expects a failure in at least one run.
proved=yes
case "$safety $end $live" in *fail*) proved=no ;; esac
if [ $bad = 0 ]; then
	if [ $proved = yes ]; then
		echo "PASS: the protocol is proved (0 errors in every run)"
	else
		echo "PASS: spin found the bug of this variant"
	fi
	exit 0
fi
if [ $proved = yes ]; then
	echo "FAIL: spin found a violation in the protocol, or a search was not exhaustive"
else
	echo "FAIL: spin did not find the known bug of this variant: the model lost its teeth"
fi
exit 1
