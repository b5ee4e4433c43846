#!/usr/bin/env bash
# Load test: N small convolution jobs from C concurrent curl clients against a running ConvService,
# each submitted with ?wait= so a request ends when its job has finished (end to end). Prints jobs/s,
# latency percentiles, failures, and the queue overhead (submitted → started) the service measured.
#
#   scripts/load.sh [-n JOBS] [-c CLIENTS] [-u BASE_URL] [-s SIZE] [-k KSIZE] [-m MODE]
#
# Traffic goes only to BASE_URL, which must be a loopback address; the run is bounded by JOBS and by
# curl's --max-time per request, so it always stops by itself.
set -euo pipefail

jobs=2000 clients=16 base=http://127.0.0.1:5000 size=32 ksize=3 mode=same
while getopts "n:c:u:s:k:m:h" opt; do
  case $opt in
    n) jobs=$OPTARG ;; c) clients=$OPTARG ;; u) base=${OPTARG%/} ;; s) size=$OPTARG ;; k) ksize=$OPTARG ;; m) mode=$OPTARG ;;
    *) sed -n '2,9p' "$0"; exit 2 ;;
  esac
done
case $base in
  http://127.*|http://localhost*|http://\[::1\]*) ;;
  *) echo "refusing to load $base: load tests target loopback addresses only" >&2; exit 2 ;;
esac
command -v curl >/dev/null || { echo "curl is required" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One body reused by every request: an inline SIZE×SIZE image and KSIZE×KSIZE kernel of fixed pseudo-random values.
awk -v n="$size" -v k="$ksize" -v mode="$mode" 'BEGIN {
  srand(42);
  printf "{\"image\": {\"data\": [";
  for (i = 0; i < n; i++) { printf "%s[", (i ? "," : ""); for (j = 0; j < n; j++) printf "%s%.6f", (j ? "," : ""), rand(); printf "]" }
  printf "]}, \"kernel\": {\"data\": [";
  for (i = 0; i < k; i++) { printf "%s[", (i ? "," : ""); for (j = 0; j < k; j++) printf "%s%.6f", (j ? "," : ""), rand() - 0.5; printf "]" }
  printf "]}, \"mode\": \"%s\"}", mode;
}' > "$work/body.json"

curl -fsS --max-time 5 "$base/health" >/dev/null || { echo "no ConvService answering at $base/health" >&2; exit 1; }

# Each client is one curl process reusing one keep-alive connection for its share of the jobs.
per_client=$(( (jobs + clients - 1) / clients ))
for c in $(seq 1 "$clients"); do
  count=$(( c * per_client <= jobs ? per_client : jobs - (c - 1) * per_client ))
  (( count > 0 )) || continue
  {
    for _ in $(seq 1 "$count"); do
      printf 'url = "%s/convolutions?wait=30"\nrequest = "POST"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code} %%{time_total}\\n"\nmax-time = 60\nnext\n' "$base" "$work/body.json"
    done
  } > "$work/client$c.cfg"
done

# One untimed warm-up job so JIT compilation is not counted.
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "@$work/body.json" "$base/convolutions?wait=30"

start=$(date +%s.%N)
for cfg in "$work"/client*.cfg; do
  curl -s -K "$cfg" > "${cfg%.cfg}.out" 2>/dev/null &
done
wait
end=$(date +%s.%N)

cat "$work"/client*.out > "$work/all.out"
total=$(wc -l < "$work/all.out")
ok=$(awk '$1 == 200' "$work/all.out" | wc -l)
awk '$1 == 200 { print $2 * 1000 }' "$work/all.out" | sort -n > "$work/lat.txt"
pct() { awk -v p="$1" '{ a[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } i = int(p / 100 * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; printf "%.1f", a[i] }' "$work/lat.txt"; }
elapsed=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')

echo "jobs: $jobs  clients: $clients  image: ${size}x${size}  kernel: ${ksize}x${ksize}  mode: $mode  target: $base"
echo "wall: ${elapsed} s   throughput: $(awk -v n="$ok" -v t="$elapsed" 'BEGIN { printf "%.0f", n / t }') jobs/s"
echo "latency ms (end to end, 200 only): p50 $(pct 50)  p90 $(pct 90)  p99 $(pct 99)  max $(pct 100)"
echo "succeeded (200): $ok   failed or unfinished: $(( total - ok )) of $total responses ($(( jobs - total )) requests got no response)"
awk '$1 != 200 { c[$1]++ } END { for (s in c) printf "  status %s: %d\n", s, c[s] }' "$work/all.out"

# Queue overhead as the service measured it (submitted → started) for the newest finished jobs.
curl -fsS --max-time 30 "$base/convolutions?status=succeeded&limit=$(( jobs < 1000 ? jobs : 1000 ))" \
  | grep -o '"queueMs":[0-9.eE+-]*' | cut -d: -f2 | sort -g > "$work/queue.txt" || true
if [ -s "$work/queue.txt" ]; then
  awk '{ a[NR] = $1 } END { printf "queue overhead ms (submitted → started, newest %d jobs): p50 %.3f  p99 %.3f\n", NR, a[int(NR * 0.5 + 0.5)], a[int(NR * 0.99 + 0.5)] }' "$work/queue.txt"
fi
[ "$ok" -eq "$jobs" ]
