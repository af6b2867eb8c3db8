#!/bin/sh
# client_node_exporter.sh - a real /proc client reads zonealloc's reports.
#
# Prometheus' node exporter (Debian's prometheus-node-exporter, installed
# by scripts/deps.sh) is started on a loopback port with --path.procfs at
# a directory that client_reports filled with zonealloc's zoneinfo,
# buddyinfo, pagetypeinfo and vmstat (two nodes, all four zones, pages
# allocated), with only the collectors that read those files. /metrics is
# scraped with curl, and:
#  - every enabled collector succeeded (node_scrape_collector_success 1);
#  - every buddyinfo and zoneinfo value equals what the API says
#    (expected.prom, written by client_reports from za_zone_info);
#  - every vmstat line is there as node_vmstat_<name> with its value.
# Then the opposite: the same with a zoneinfo broken on purpose (a key
# repeated in a zone's block, as version 0.1 printed it) must fail the
# comparison. The exporter is stopped by its PID, with a time limit.
#
# Usage: client_node_exporter.sh CLIENT_REPORTS WORKDIR
# Exit: 0 passed, 1 failed, 77 skipped (no exporter or curl installed).
set -u
GEN=$1
WORK=$2
EXPORTER=$(command -v prometheus-node-exporter || command -v node_exporter || true)
CURL=$(command -v curl || true)
if [ -z "$EXPORTER" ] || [ -z "$CURL" ]; then
	echo "prometheus-node-exporter or curl is not installed (scripts/deps.sh installs both): skipped"
	exit 77
fi

PID=""
stop_exporter() {
	[ -n "$PID" ] || return 0
	kill "$PID" 2>/dev/null
	i=0
	while kill -0 "$PID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$PID" 2>/dev/null; then
		echo "exporter $PID still running after 5 s: killing it"
		kill -9 "$PID" 2>/dev/null
	fi
	wait "$PID" 2>/dev/null
	PID=""
}
trap stop_exporter EXIT
trap 'stop_exporter; exit 1' INT TERM

# scrape DIR: start the exporter on DIR, write DIR/metrics, stop it.
scrape() {
	dir=$1
	"$EXPORTER" --web.listen-address=127.0.0.1:0 \
		--path.procfs="$dir" --path.sysfs="$dir/sys" --path.rootfs="$dir" \
		--collector.disable-defaults --web.disable-exporter-metrics \
		--collector.buddyinfo --collector.zoneinfo --collector.vmstat \
		--collector.vmstat.fields='.*' >"$dir/exporter.log" 2>&1 &
	PID=$!
	# It logs the address it listens on (port 0: the kernel picks one).
	addr=""
	i=0
	while [ -z "$addr" ] && [ $i -lt 100 ]; do
		addr=$(sed -n 's/.*msg="Listening on" address=\(127\.0\.0\.1:[0-9][0-9]*\).*/\1/p' \
			"$dir/exporter.log" | head -n 1)
		if [ -z "$addr" ]; then
			if ! kill -0 "$PID" 2>/dev/null; then
				echo "the exporter exited:"
				cat "$dir/exporter.log"
				PID=""
				return 1
			fi
			sleep 0.1
			i=$((i + 1))
		fi
	done
	if [ -z "$addr" ]; then
		echo "the exporter did not say where it listens within 10 s:"
		cat "$dir/exporter.log"
		return 1
	fi
	if ! "$CURL" -sS --max-time 10 -o "$dir/metrics" "http://$addr/metrics"; then
		echo "cannot scrape http://$addr/metrics"
		return 1
	fi
	stop_exporter
	echo "scraped $(grep -c '^node_' "$dir/metrics") node_ samples from $addr"
}

# compare DIR: 0 when the scrape agrees with the reports, else 1 (and
# says where it does not).
compare() {
	dir=$1
	# What the vmstat file says, as the exporter names it.
	awk 'NF == 2 { print "node_vmstat_" $1 " " $2 }' "$dir/vmstat" >"$dir/expected-vmstat.prom"
	awk '
	FNR == 1 { file++ }
	/^#/ { next }
	file == 1 || file == 2 { want[$1] = $2; order[++n] = $1; next }
	file == 3 { got[$1] = $2 }
	END {
		bad = 0
		for (c = 1; c <= 3; c++) {
			name = c == 1 ? "buddyinfo" : c == 2 ? "zoneinfo" : "vmstat"
			key = "node_scrape_collector_success{collector=\"" name "\"}"
			if (!(key in got) || got[key] + 0 != 1) {
				print "collector " name " did not succeed: " (key in got ? got[key] : "no sample")
				bad++
			}
		}
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (!(k in got)) {
				print "missing: " k " (want " want[k] ")"
				bad++
			} else if (got[k] + 0 != want[k] + 0) {
				print "differs: " k " is " got[k] ", zonealloc says " want[k]
				bad++
			}
		}
		printf "%d values compared, %d wrong\n", n, bad
		exit bad ? 1 : 0
	}' "$dir/expected.prom" "$dir/expected-vmstat.prom" "$dir/metrics"
}

rm -rf "$WORK"
mkdir -p "$WORK" || exit 1

echo "== zonealloc's reports =="
"$GEN" "$WORK/good" || exit 1
scrape "$WORK/good" || exit 1
if ! compare "$WORK/good"; then
	echo "FAIL: the node exporter does not read zonealloc's reports as the reports say"
	exit 1
fi
# The comparison covered every zone of both nodes and every vmstat line.
for z in 'node="0",zone="DMA"' 'node="0",zone="DMA32"' 'node="0",zone="Normal"' \
	'node="0",zone="Movable"' 'node="1",zone="Normal"' 'node="1",zone="Movable"'; do
	if ! grep -q "^node_zoneinfo_nr_free_pages{$z}" "$WORK/good/expected.prom"; then
		echo "FAIL: no zoneinfo expectation for $z"
		exit 1
	fi
done

echo "== the same with a broken zoneinfo: must be caught =="
"$GEN" "$WORK/broken" --broken || exit 1
scrape "$WORK/broken" || exit 1
if compare "$WORK/broken"; then
	echo "FAIL: a zoneinfo with a repeated key passed the check"
	exit 1
fi
if ! compare "$WORK/broken" | grep -q 'differs: node_zoneinfo_nr_free_pages{node="0",zone="DMA"}'; then
	echo "FAIL: the broken zoneinfo failed for another reason than its repeated key"
	exit 1
fi
echo "client_node_exporter: ok (good reports read right, the broken one caught)"
exit 0
