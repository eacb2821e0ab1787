#!/bin/sh
# Measures the peak resident memory of one UNet call of SDXL-shaped UNets at reduced depth (PERFORMANCE.md,
# "SDXL memory"): exports each depth with make_sdxl_memory.py, then runs sc.fiji.sd.bench.UnetMemoryProbe once per
# size and batch, each in a fresh JVM, one at a time. Prints "depth size batch weights afterLoad peak seconds" lines
# (bytes, seconds) to standard output and to $WORK/results.tsv.
#   mvn -B -o -q compile && tools/model/sdxl_memory.sh [WORK, default /work/train/sdxl-mem] "DEPTH:SIZE:BATCH ..."
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${1:-/work/train/sdxl-mem}
RUNS=${2:-"0:512:1 0:512:2 0:768:1 0:768:2 0:1024:1 0:1024:2 1:512:1 1:512:2 1:768:1 1:768:2 1:1024:1 2:512:1 2:512:2 2:768:1 2:768:2"}
mkdir -p "$WORK"
[ -f "$WORK/cp.txt" ] || (cd "$ROOT" && mvn -B -o -q dependency:build-classpath -Dmdep.outputFile="$WORK/cp.txt" -Dmdep.includeScope=runtime)
CP="$ROOT/target/classes:$(cat "$WORK/cp.txt")"
for run in $RUNS; do
	d=${run%%:*}; rest=${run#*:}; size=${rest%%:*}; batch=${rest#*:}
	model="$WORK/sdxl-d$d"
	if [ ! -f "$model/unet/weights.pb" ]; then
		(cd "$HERE" && /usr/bin/python3 make_sdxl_memory.py "$WORK" --depth "$d" 2>"$WORK/export-d$d.err")
	fi
	weights=$(stat -c %s "$model/unet/weights.pb")
	out=$(java -Xmx1g -cp "$CP" sc.fiji.sd.bench.UnetMemoryProbe "$model" "$size" "$size" "$batch" 2>/dev/null)
	load=$(echo "$out" | awk -F'\t' '$2=="rss.afterLoad"{print $3}')
	peak=$(echo "$out" | awk -F'\t' '$2=="rss.peak"{print $3}')
	secs=$(echo "$out" | awk -F'\t' '$2=="call.seconds"{print $3}')
	echo "$d $size $batch $weights $load $peak $secs" | tee -a "$WORK/results.tsv"
done
