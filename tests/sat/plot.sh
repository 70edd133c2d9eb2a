# SPDX-License-Identifier: GPL-2.0-or-later
# sat_plot PNG TITLE DIR: one panel per size (100 kB, 1 MB, 10 MB, decimal), bytes
# received over time without a PEP, with pepsal, with the pepsal pair (where
# DIR has its series) and the ideal line, from DIR/{nopep,pep,pair}-SIZE.dat
# ("SECONDS BYTES" lines). Needs gnuplot and $SAT_RATE, $SAT_RTT_MS.
sat_plot() {
	local png=$1 title=$2 dir=$3 pair=
	command -v gnuplot >/dev/null 2>&1 || { echo "# no gnuplot: no plot" >&2; return 1; }
	if [ -s "$dir/pair-100000.dat" ]; then
		pair="\"$dir/pair-\".s.\".dat\" using 1:(\$2 / 1e6) with steps lw 2 title \"pepsal pair\","
		pair+=" [0:*] floor1(x, n) with lines dt 3 lc rgb \"gray60\" title \"pair's floor (1 RTT + size/rate)\","
	fi
	gnuplot <<EOF_GP
set terminal pngcairo size 1500,480 font ",10" noenhanced
set output "$png"
set multiplot layout 1,3 title "$title"
set xlabel "seconds since the request"
set ylabel "MB received"
set key right bottom
set grid
rate = $SAT_RATE * 1e6 / 8
rtt = $SAT_RTT_MS / 1000.0
ideal(x, size) = x < 2 * rtt ? 0 : ((x - 2 * rtt) * rate < size ? (x - 2 * rtt) * rate : size) / 1e6
floor1(x, size) = x < rtt ? 0 : ((x - rtt) * rate < size ? (x - rtt) * rate : size) / 1e6
do for [s in "100000 1000000 10000000"] {
	n = s + 0
	set title (n < 1000000 ? sprintf("%d kB", n / 1000) : sprintf("%d MB", n / 1000000))
	set xrange [0:*]
	set samples 500
	plot "$dir/nopep-".s.".dat" using 1:(\$2 / 1e6) with steps lw 2 title "no PEP", \
	     "$dir/pep-".s.".dat" using 1:(\$2 / 1e6) with steps lw 2 title "pepsal", $pair \
	     [0:*] ideal(x, n) with lines dt 2 lc rgb "gray40" title "ideal (2 RTT + size/rate)"
}
unset multiplot
EOF_GP
}
