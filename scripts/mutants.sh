#!/bin/sh
# mutants.sh - the mutation harness (`make mutants`, docs/TESTING.md).
#
# Each file of tests/mutants/ undoes one rule that the seeds' fixes and
# DESIGN.md's invariants and concurrency rules keep. For each, in a scratch
# copy of the tracked tree (build-mutants/, one debug-checked build made
# once): apply it, rebuild what changed, run the tests it names and, if
# none fails, the whole fast suite; record the test that failed and how;
# put the file back. Then print a table: mutant | rule | caught by | how.
#
# Usage: scripts/mutants.sh [-n] [MUTANT...]
#   MUTANT  names (seed003-flush-counter-first) or paths; default: all
#   -n      skip the baseline run of the fast suite on the unmutated tree
# Environment: MUTANTS_WORK (scratch directory, default build-mutants),
#   JOBS (default 2), MUTANT_TIMEOUT (seconds for one ctest run, default
#   150).
#
# Exit 0 when every mutant was caught by a failed assertion (a check of a
# test, za_check, a debug assertion or the lock-order witness); 1 when
# one survived, no longer applies (its find text is gone: update the
# mutant with the code), does not build, or was caught only by a timeout
# or a crash (a signal that is not an assertion's abort); 2 when the harness itself could not run (the unmutated tree fails).
# Progress goes to stderr, the table to stdout.
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)
WORK=${MUTANTS_WORK:-$TOP/build-mutants}
JOBS=${JOBS:-2}
LIMIT=${MUTANT_TIMEOUT:-150}
# The fast suite: all but the 60-second fuzzer and the spin models (which
# do not run library code).
SLOW='^(fuzz_short|model_offline_.*)$'

baseline=1
if [ "${1:-}" = "-n" ]; then
	baseline=0
	shift
fi
case "${1:-}" in
-h | --help)
	sed -n '2,/^set -u/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
	exit 0
	;;
esac

say() { printf '%s\n' "$*" >&2; }
die() { say "mutants: $*"; exit 2; }

if [ $# -gt 0 ]; then
	MUTANTS=""
	for m in "$@"; do
		case "$m" in
		*/*) f=$m ;;
		*) f=tests/mutants/${m%.mut}.mut ;;
		esac
		[ -f "$f" ] || die "no mutant $f"
		MUTANTS="$MUTANTS $f"
	done
else
	MUTANTS=$(ls tests/mutants/*.mut 2>/dev/null) || die "no tests/mutants/*.mut"
fi
total=$(echo $MUTANTS | wc -w)

# --- helpers ------------------------------------------------------------------
header() { sed -n "s/^$1:[[:space:]]*//p" "$2" | head -n 1; }

# classify LOG TEST: how TEST failed in ctest output LOG
classify() {
	line=$(grep -E "Test +#[0-9]+: $2 " "$1" | tail -n 1)
	case "$line" in
	*"***Timeout"*) echo timeout ;;
	*"Subprocess aborted"*) echo "abort (assertion)" ;;
	*"***Exception"*) echo "crash" ;;
	*)
		if grep -q '^watchdog: test did not finish' "$1"; then
			echo "timeout (watchdog)"
		else
			echo assertion
		fi
		;;
	esac
}

# failed_tests LOG: the tests ctest reports failed, comma-separated
failed_tests() {
	sed -n '/The following tests FAILED:/,$p' "$1" |
		sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) .*/\1/p' |
		paste -sd, - | sed 's/,/, /g'
}

# message LOG: the first line of the failure that says what broke
message() {
	grep -E 'RULE BROKEN|CHECK(_EQ)? failed|za_check: |[Aa]ssert|witness|lock order|watchdog:|FATAL|error:|misuse' "$1" |
		grep -v -E '^[0-9]+/[0-9]+ Test|Start +[0-9]+:' | head -n 1 | cut -c1-200
}

# run_ctest LOG ARGS...: ctest under the time limit; 124 when it ran out
run_ctest() {
	log=$1
	shift
	timeout -k 10 "$LIMIT" ctest --test-dir "$BUILD" --output-on-failure "$@" >"$log" 2>&1
}

# --- the scratch tree and its build, once -------------------------------------
SRC=$WORK/src
PRISTINE=$WORK/pristine
BUILD=$WORK/build
LOGS=$WORK/logs
rm -rf "$SRC" "$PRISTINE" "$LOGS"
mkdir -p "$SRC" "$LOGS" || die "cannot create $WORK"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# The tracked files as they are in the work tree (edits not yet
	# committed are what one wants to check).
	git ls-files -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null |
		tar -xf - -C "$SRC" || die "cannot copy the tree"
else
	tar --exclude='./build*' -cf - . | tar -xf - -C "$SRC" || die "cannot copy the tree"
fi
# The build directory is kept between runs; the copy's files carry the
# times of the work tree, older than the objects that the last run built
# from its last mutant: stamp them now, so that everything built from
# them is built again (make would keep a mutated object otherwise).
find "$SRC" -type f -exec touch {} + || die "cannot stamp the copy"
cp -a "$SRC" "$PRISTINE"

say "mutants: configuring and building $BUILD (RelWithDebInfo, ZA_DEBUG=1)..."
# Debug checks on (ZA_DEBUG=1): the lock-order witness, the assertions
# and the test hooks that the rules tests need; optimised, so the suite
# runs at speed.
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZA_DEBUG=1 \
	-DZA_BUILD_BENCH=OFF >"$LOGS/configure.log" 2>&1 ||
	die "configure failed: $LOGS/configure.log"
cmake --build "$BUILD" -j"$JOBS" >"$LOGS/build.log" 2>&1 ||
	die "the unmutated tree does not build: $LOGS/build.log"
if [ $baseline = 1 ]; then
	say "mutants: baseline: the fast suite on the unmutated tree..."
	if ! ctest --test-dir "$BUILD" -E "$SLOW" -j"$JOBS" >"$LOGS/baseline.log" 2>&1; then
		# A timing-sensitive test may fail on a loaded machine: once more.
		say "mutants: baseline: $(failed_tests "$LOGS/baseline.log") failed; running them again"
		ctest --test-dir "$BUILD" --rerun-failed >>"$LOGS/baseline.log" 2>&1 ||
			die "the unmutated tree fails its tests: $LOGS/baseline.log"
	fi
fi

# --- the mutants --------------------------------------------------------------
TABLE=$WORK/table.txt
DETAILS=$WORK/details.txt
: >"$TABLE"
: >"$DETAILS"
bad=0
i=0
for m in $MUTANTS; do
	i=$((i + 1))
	name=$(basename "$m" .mut)
	rule=$(header rule "$m")
	tests=$(header test "$m")
	log=$LOGS/$name.log
	t0=$(date +%s)
	caught="" how="" msg="" skip_note=""
	say "[$i/$total] $name: $rule"
	files=$(perl scripts/mutant-apply.pl "$m" "$SRC" 2>"$LOGS/$name.apply")
	rc=$?
	if [ $rc -ne 0 ]; then
		if [ $rc -eq 3 ]; then
			caught="NO LONGER APPLIES"
		else
			caught="MALFORMED MUTANT"
		fi
		msg=$(head -n 1 "$LOGS/$name.apply")
		bad=1
	else
		# Build what the named tests need; anything else (or a name
		# that is no target) with a full build.
		built=0
		if [ -n "$tests" ] &&
			cmake --build "$BUILD" -j"$JOBS" --target $tests >"$LOGS/$name.build" 2>&1; then
			built=1
		elif cmake --build "$BUILD" -j"$JOBS" >>"$LOGS/$name.build" 2>&1; then
			built=1
		fi
		if [ $built = 0 ]; then
			caught="DOES NOT BUILD"
			msg=$(grep -m1 'error' "$LOGS/$name.build")
			bad=1
		else
			failed=""
			if [ -n "$tests" ]; then
				say "    running $tests"
				re=$(echo $tests | sed 's/ /|/g')
				run_ctest "$log" -R "^($re)\$"
				rc=$?
				grep -q 'No tests were found' "$log" &&
					say "    warning: no test is named $tests"
				# A test that skips here (a library the build
				# lacks: scripts/deps.sh installs them) guards
				# nothing: say so, and in the table if it survives.
				ran=$(grep -c 'Test *#[0-9]*: ' "$log")
				skipped=$(grep -c 'Test *#[0-9]*: .*Skipped' "$log")
				if [ "$ran" -gt 0 ] && [ "$skipped" = "$ran" ]; then
					skip_note=" (its tests skipped here)"
					say "    warning: every test it names skipped here"
				fi
				[ $rc -ne 0 ] && failed=$(failed_tests "$log")
				[ $rc -eq 124 ] && [ -z "$failed" ] && failed="${tests%% *}"
			fi
			if [ -z "$failed" ]; then
				say "    not caught by its tests: the fast suite"
				cmake --build "$BUILD" -j"$JOBS" >>"$LOGS/$name.build" 2>&1
				run_ctest "$log" -E "$SLOW" -j"$JOBS" --stop-on-failure
				rc=$?
				[ $rc -ne 0 ] && failed=$(failed_tests "$log")
				[ $rc -eq 124 ] && [ -z "$failed" ] && failed="(the suite)"
				failed=${failed%%,*}
				[ -n "$failed" ] && failed="$failed (not a named test)"
			fi
			if [ -z "$failed" ]; then
				caught="SURVIVED$skip_note"
				bad=1
			else
				caught=$failed
				if [ $rc -eq 124 ]; then
					how="timeout"
				else
					first=${failed%%,*}
					how=$(classify "$log" "${first%% *}")
				fi
				# A timeout or a crash is not an assertion naming the
				# rule: the mutant is not guarded.
				case "$how" in
				timeout* | crash) bad=1 ;;
				esac
				msg=$(message "$log")
			fi
		fi
		for f in $files; do
			cp "$PRISTINE/$f" "$SRC/$f"
		done
	fi
	dt=$(($(date +%s) - t0))
	say "    -> $caught${how:+ ($how)} in ${dt}s"
	printf '| %s | %s | %s | %s |\n' "$name" "$rule" "$caught" "$how" >>"$TABLE"
	[ -n "$msg" ] && printf '%s: %s\n' "$name" "$msg" >>"$DETAILS"
done

echo "| mutant | rule | caught by | how |"
echo "|---|---|---|---|"
cat "$TABLE"
echo
echo "What each failing test said first:"
sed 's/^/  /' "$DETAILS"
echo
if [ $bad -ne 0 ]; then
	echo "mutants: NOT all caught by an assertion (logs in $LOGS)"
	exit 1
fi
echo "mutants: all $total caught by an assertion"
exit 0
