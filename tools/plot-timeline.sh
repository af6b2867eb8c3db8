#!/usr/bin/env bash
# plot-timeline.sh - draws the CSV of `zonealloc stress --timeline` as PNG
# pictures with gnuplot, three per scenario in the file:
#
#   NAME-free.png  free pages of each zone against its min, low and high
#                  watermarks, over time
#   NAME-frag.png  fragmentation over time: the fraction of free memory in
#                  blocks of order >= 9, and how many free blocks there are
#                  of each order
#   NAME-pcp.png   pages on the per-CPU lists against their total high
#                  mark; pcp refills, flushes, drains and zone-lock
#                  acquisitions per second
#
# NAME is the CSV's name without .csv, followed by -SCENARIO when the file
# holds more than one scenario (`--scenario all`). gnuplot is installed
# from Debian (gnuplot-nox) when it is missing. Columns: docs/TOOL.md.
#
# SPDX-License-Identifier: MIT
set -euo pipefail

me=${0##*/}

usage() {
	cat <<EOF
Usage: $me CSV [OUTDIR]

Draws the timeline CSV that 'zonealloc stress --timeline CSV' wrote as PNG
pictures in OUTDIR (default: the CSV's directory), three per scenario:
  NAME-free.png   free pages against the min/low/high watermarks
  NAME-frag.png   free memory in large blocks; free blocks by order
  NAME-pcp.png    per-CPU list occupancy; refills/flushes/drains
NAME is the CSV's file name without .csv, and -SCENARIO after it when the
CSV holds several scenarios (--scenario all). It prints the files' names.

Installs gnuplot (Debian package gnuplot-nox, with sudo when not root)
if it is missing; set ZA_PLOT_NO_INSTALL=1 to forbid that.

Exit status: 0 pictures written, 1 a bad CSV or gnuplot failed,
2 a usage error, 3 gnuplot is missing and could not be installed.

Example:
  zonealloc stress --scenario pressure --seconds 20 --interval 250 --timeline t.csv
  $me t.csv
EOF
}

die() { # die STATUS MESSAGE
	echo "$me: $2" >&2
	exit "$1"
}

case "${1-}" in
-h | --help)
	usage
	exit 0
	;;
esac
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
	usage >&2
	exit 2
fi
case "$1" in
-*) die 2 "unknown option '$1' (try --help)" ;;
esac

csv=$1
[ -e "$csv" ] || die 1 "'$csv': no such file"
[ ! -d "$csv" ] || die 1 "'$csv' is a directory, not a CSV file"
[ -r "$csv" ] || die 1 "'$csv': cannot read it"
outdir=${2:-$(dirname -- "$csv")}
name=$(basename -- "$csv")
name=${name%.csv}
mkdir -p -- "$outdir" 2>/dev/null || die 1 "cannot create the directory '$outdir'"
[ -w "$outdir" ] || die 1 "cannot write to '$outdir'"

# A file name inside a gnuplot single-quoted string: ' is written ''.
gq() { printf '%s' "${1//\'/\'\'}"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/za-plot.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# ---------------------------------------------------------------------
# Check the CSV and split it: one data file per (scenario, node, zone),
# with the columns found by name, so that columns added later do not
# break the plots. Rates are events per second of the interval a row
# closes ("?" for the first row of a series, which closes none).

awk -F, -v dir="$work" '
function bad(msg) {
	printf "line %d: %s\n", NR, msg > "/dev/stderr"
	failed = 1
	exit 1
}
function num(i) {
	if ($i !~ /^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$/)
		bad("column " name[i] " is \"" $i "\", not a number")
	return $i + 0
}
function rate(key, v) {
	return dt > 0 ? sprintf("%.6g", v / dt) : "?"
}
NR == 1 {
	sub(/\r$/, "")
	ncol = NF
	for (i = 1; i <= NF; i++) {
		name[i] = $i
		col[$i] = i
	}
	split("time_s scenario node zone managed free min low high pcp_pages " \
	      "pcp_high isolated_free nr_free_order_0 frag_frac_ge9 " \
	      "pcp_refills pcp_flushes pcp_drains zone_locks", need, " ")
	for (k in need)
		if (!(need[k] in col))
			bad("not a zonealloc timeline: no column \"" need[k] "\" in the header")
	for (orders = 0; ("nr_free_order_" orders) in col; orders++)
		;
	next
}
/^[[:space:]]*$/ { next }
{
	sub(/\r$/, "")
	if (NF != ncol)
		bad(NF " fields where the header has " ncol)
	sc = $col["scenario"]
	if (sc !~ /^[A-Za-z0-9_]+$/)
		bad("scenario \"" sc "\" is not a plain name")
	zone = $col["zone"]
	if (zone !~ /^[A-Za-z0-9_]+$/)
		bad("zone \"" zone "\" is not a plain name")
	node = num(col["node"])
	t = num(col["time_s"])
	key = sc "-" node "-" zone
	if (!(key in seen)) {
		seen[key] = 1
		series[++nseries] = key
		if (!(sc in scen)) {
			scen[sc] = 1
			scens[++nscen] = sc
		}
		zlist[sc] = zlist[sc] " " node "-" zone
	}
	dt = (key in lastt) ? t - lastt[key] : 0
	if (dt < 0)
		bad("time goes backwards for node " node " " zone " (" sc ")")
	lastt[key] = t
	f = dir "/" key ".dat"
	printf "%s %s %s %s %s %s %s %s %s %s %s %s %s %s\n", t,
	       num(col["free"]), num(col["min"]), num(col["low"]),
	       num(col["high"]), num(col["managed"]), num(col["pcp_pages"]),
	       num(col["pcp_high"]), num(col["isolated_free"]),
	       num(col["frag_frac_ge9"]),
	       rate(key, num(col["pcp_refills"])),
	       rate(key, num(col["pcp_flushes"])),
	       rate(key, num(col["pcp_drains"])),
	       rate(key, num(col["zone_locks"])) > f
	# Free blocks by order as cells of a heat map: [t - dt, t] x
	# [order - 0.5, order + 0.5], coloured by the count.
	if (dt > 0) {
		h = dir "/" key ".heat"
		for (o = 0; o < orders; o++)
			printf "%s %s %s %s\n", t - dt / 2, dt / 2, o,
			       num(col["nr_free_order_" o]) > h
	}
}
END {
	if (failed)
		exit 1
	if (NR < 1) {
		print "the file is empty" > "/dev/stderr"
		exit 1
	}
	if (!nseries) {
		print "no data rows after the header" > "/dev/stderr"
		exit 1
	}
	for (i = 1; i <= nscen; i++)
		print scens[i], orders, zlist[scens[i]] > (dir "/scenarios")
}
' "$csv" 2>"$work/err" || die 1 "'$csv': $(head -n 1 "$work/err")"

# ---------------------------------------------------------------------
# gnuplot, installed when missing.

ensure_gnuplot() {
	command -v gnuplot >/dev/null 2>&1 && return 0
	if [ "${ZA_PLOT_NO_INSTALL-}" = 1 ]; then
		die 3 "gnuplot is not installed (and ZA_PLOT_NO_INSTALL=1 forbids installing it)"
	fi
	command -v apt-get >/dev/null 2>&1 ||
		die 3 "gnuplot is not installed, and this is not a Debian-like system: install gnuplot yourself"
	# sudo resets the environment: pass the frontend through env.
	local apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 ||
			die 3 "gnuplot is not installed; run as root or install it: apt-get install gnuplot-nox"
		apt=(sudo "${apt[@]}")
	fi
	echo "$me: gnuplot is missing; installing gnuplot-nox: ${apt[*]} install -y gnuplot-nox" >&2
	if ! "${apt[@]}" install -y gnuplot-nox >&2; then
		# A fresh machine may have no package lists yet.
		if ! "${apt[@]}" update >&2 ||
			! "${apt[@]}" install -y gnuplot-nox >&2; then
			die 3 "could not install gnuplot-nox; install gnuplot yourself and run again"
		fi
	fi
	command -v gnuplot >/dev/null 2>&1 ||
		die 3 "gnuplot-nox installed, but there is still no gnuplot command"
}
ensure_gnuplot

if gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
	term='pngcairo enhanced font "DejaVu Sans,10"'
else
	term='png'
fi

# ---------------------------------------------------------------------
# One gnuplot script per picture: one panel per zone, stacked.

common() { # common WIDTH HEIGHT OUTPUT NPANELS TITLE
	cat <<EOF
set terminal $term size $1,$2 noenhanced
set output '$(gq "$3")'
set datafile missing '?'
set xrange [0:*]
set autoscale xfixmax
set grid back lc rgb '#dddddd'
set key below horizontal maxcols 6 samplen 3 width -1
set xlabel 'time since the scenario started (s)' offset 0,0.3
set lmargin at screen 0.09
set rmargin at screen 0.88
set multiplot layout $4,1 title '$5' font ',13'
EOF
}

written=()
nscen=$(wc -l <"$work/scenarios")
while read -r sc orders zones; do
	read -r -a zl <<<"$zones"
	n=${#zl[@]}
	h=$((60 + 280 * n))
	base="$outdir/$name"
	[ "$nscen" -gt 1 ] && base="$base-$sc"
	free_png="$base-free.png"
	frag_png="$base-frag.png"
	pcp_png="$base-pcp.png"

	{
		common 1000 "$h" "$free_png" "$n" \
			"zonealloc stress --scenario $sc: free pages against the watermarks"
		for nz in "${zl[@]}"; do
			node=${nz%%-*} zone=${nz#*-}
			d="$work/$sc-$nz.dat"
			# Free memory falls from the whole zone to the
			# watermarks: a log scale shows both the fall and the
			# watermarks, which are a few per mille of the zone.
			# No free page at all is drawn at 1, the axis' floor.
			cat <<EOF
set title 'node $node, zone $zone'
set ylabel 'pages (log scale)'
set logscale y
set yrange [*:*]
plot '$d' using 1:3:5 with filledcurves fs solid 0.15 noborder lc rgb '#ff7f0e' title 'min..high', \\
     '' using 1:(\$2 > 0 ? \$2 : 1) with lines lw 2 lc rgb '#1f77b4' title 'free', \\
     '' using 1:5 with lines lw 1.5 dt 2 lc rgb '#2ca02c' title 'high', \\
     '' using 1:4 with lines lw 1.5 dt 2 lc rgb '#ff7f0e' title 'low', \\
     '' using 1:3 with lines lw 1.5 dt 2 lc rgb '#d62728' title 'min', \\
     '' using 1:6 with lines lw 1 lc rgb '#7f7f7f' title 'managed'
unset logscale y
EOF
		done
		echo 'unset multiplot'
	} >"$work/free.gp"

	{
		common 1000 "$((60 + 440 * n))" "$frag_png" "$((2 * n))" \
			"zonealloc stress --scenario $sc: fragmentation of free memory"
		for nz in "${zl[@]}"; do
			node=${nz%%-*} zone=${nz#*-}
			d="$work/$sc-$nz.dat"
			hf="$work/$sc-$nz.heat"
			cat <<EOF
set title 'node $node, zone $zone: free memory in blocks of order >= 9 (or >= the pageblock order)'
set ylabel 'fraction of free pages'
set yrange [0:1.05]
plot '$d' using 1:10 with lines lw 2 lc rgb '#9467bd' title 'order >= 9'
set title 'node $node, zone $zone: free blocks of each order'
set ylabel 'order'
set yrange [-0.5:$orders - 0.5]
set ytics $(( orders > 6 ? 2 : 1 ))
set logscale cb
set cbrange [1:*]
set cblabel 'free blocks'
set palette defined (0 '#fff7ec', 1 '#fdbb84', 2 '#e34a33', 3 '#7f0000')
unset key
EOF
			if [ -s "$hf" ]; then
				echo "plot '$hf' using 1:3:2:(0.5):(\$4 > 0 ? \$4 : 1/0) with boxxyerror fs solid 1.0 noborder lc palette notitle"
			else
				echo "plot 1/0 notitle"
			fi
			cat <<'EOF'
unset logscale cb
set ytics autofreq
set key
EOF
		done
		echo 'unset multiplot'
	} >"$work/frag.gp"

	{
		common 1000 "$((h + 280))" "$pcp_png" "$((n + 1))" \
			"zonealloc stress --scenario $sc: per-CPU lists"
		for nz in "${zl[@]}"; do
			node=${nz%%-*} zone=${nz#*-}
			d="$work/$sc-$nz.dat"
			cat <<EOF
set title 'node $node, zone $zone: pages on the per-CPU lists of every CPU'
set ylabel 'pages'
set yrange [0:*]
plot '$d' using 1:7 with filledcurves y1=0 fs solid 0.35 noborder lc rgb '#1f77b4' title 'pcp pages', \\
     '' using 1:7 with lines lw 1.5 lc rgb '#1f77b4' notitle, \\
     '' using 1:8 with lines lw 1.5 dt 2 lc rgb '#d62728' title 'sum of pcp high (online CPUs)'
EOF
		done
		# The library counts events over all zones: one panel, from the
		# first zone's file (every zone row carries the same events).
		d="$work/$sc-${zl[0]}.dat"
		cat <<EOF
set title 'moves between the per-CPU lists and the buddy lists (all zones)'
set ylabel 'per second'
set yrange [0:*]
plot '$d' using 1:11 with lines lw 1.5 lc rgb '#ff7f0e' title 'pcp refills', \\
     '' using 1:12 with lines lw 1.5 lc rgb '#2ca02c' title 'pcp flushes', \\
     '' using 1:13 with lines lw 1.5 lc rgb '#d62728' title 'pcp drains', \\
     '' using 1:14 with lines lw 1.5 dt 2 lc rgb '#7f7f7f' title 'zone-lock acquisitions'
unset multiplot
EOF
	} >"$work/pcp.gp"

	for gp in free frag pcp; do
		gnuplot "$work/$gp.gp" 2>"$work/gnuplot.err" || {
			cat "$work/gnuplot.err" >&2
			die 1 "gnuplot failed on the $gp picture of scenario $sc"
		}
	done
	written+=("$free_png" "$frag_png" "$pcp_png")
done <"$work/scenarios"

printf '%s\n' "${written[@]}"
