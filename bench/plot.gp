# bench/plot.gp - draws bench/results/compare.png from compare.dat (written
# by bench/run.sh): ns per op of every allocator, one cluster of bars per
# workload and thread count, logarithmic scale (lower is better).
# Called as: gnuplot -e "datafile='...'; outfile='...'; ncol=N" plot.gp
set terminal pngcairo size 1400,700 noenhanced font ",10"
set output outfile
set datafile separator "\t"
set datafile missing "-"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [1:*]
set grid ytics
set ylabel "ns per op (alloc + free), log scale, lower is better"
set xlabel "workload / threads"
set xtics rotate by -30 nomirror
set key outside right top
# zonealloc in strong colours, the peers in distinct muted ones.
set linetype 1 lc rgb "#6a1b9a"
set linetype 2 lc rgb "#ce93d8"
set linetype 3 lc rgb "#1e88e5"
set linetype 4 lc rgb "#fb8c00"
set linetype 5 lc rgb "#43a047"
set linetype 6 lc rgb "#e53935"
set linetype 7 lc rgb "#757575"
set title "zonealloc against glibc, jemalloc, tcmalloc, mimalloc: aligned_alloc(4096, 4096 << order) vs za_alloc_pages"
plot for [i=2:ncol] datafile using i:xtic(1) title columnheader(i) lt (i-1)
