#!/bin/sh
# soak.sh [MINUTES] [OUTDIR] - the soak run of docs/RELIABILITY.md: every
# stress scenario in turn (mixed, hotplug, pressure, offline) for MINUTES
# in all (default 30), on more simulated CPUs than cores and two nodes,
# with fill-and-verify, za_check and a page count after each scenario.
# Builds the release tree first. Writes OUTDIR/soak.json (the summary) and
# OUTDIR/soak.log (progress lines); exits non-zero if anything failed.
set -eu
minutes=${1:-30}
out=${2:-soak-out}
cd "$(dirname "$0")/.."
case $minutes in
	''|*[!0-9]*) echo "soak.sh: MINUTES must be a whole number, not '$minutes'" >&2; exit 2 ;;
esac
[ "$minutes" -ge 1 ] || { echo "soak.sh: MINUTES must be at least 1" >&2; exit 2; }
make build >/dev/null
mkdir -p "$out"
per=$((minutes * 60 / 4))
echo "soak: 4 scenarios x ${per} s, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), log in $out/soak.log"
rc=0
./build/tools/zonealloc stress --scenario all --seconds "$per" --threads 2 \
	--cpus 8 --nodes 2 --mem 256M --seed 2026 --json \
	>"$out/soak.json" 2>"$out/soak.log" || rc=$?
tail -n 3 "$out/soak.log"
echo "soak: exit $rc ($( [ $rc -eq 0 ] && echo pass || echo FAIL ))"
exit $rc
