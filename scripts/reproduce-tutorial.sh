#!/usr/bin/env bash
# Runs the IRSA tutorial's experiment through POST /benchmarks on a running ConvService and prints the report
# beside the tutorial's own figures. Extra JSON fields can be passed as the first argument, e.g. '{"iterations": 20}'.
#
#   scripts/reproduce-tutorial.sh ['{"iterations": 20}'] [BASE_URL]
#
# Saves the report to benchmark-report.json and the chart to benchmark-chart.svg in the current folder.
set -euo pipefail
body=${1:-'{}'}
base=${2:-http://127.0.0.1:5000}
case $base in http://127.*|http://localhost*|http://\[::1\]*) ;; *) echo "loopback targets only" >&2; exit 2 ;; esac

location=$(curl -fsS -X POST "$base/benchmarks" -H 'Content-Type: application/json' -d "$body" -D - -o /dev/null \
  | tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
[ -n "$location" ] || { echo "the benchmark was not accepted" >&2; exit 1; }
echo "benchmark $location accepted; waiting for it to finish" >&2
for _ in $(seq 1 120); do   # at most 120 × 60 s
  curl -fsS "$base$location?wait=60" -o benchmark-report.json
  grep -q '"status":"\(succeeded\|failed\|cancelled\)"' benchmark-report.json && break
  grep -o '"progress":{[^}]*}' benchmark-report.json >&2 || true
done
curl -fsS "$base$location/chart.svg" -o benchmark-chart.svg || true

/usr/bin/env python3 - <<'PY' 2>/dev/null || cat benchmark-report.json
import json
r = json.load(open("benchmark-report.json"))
e, q = r["environment"], r["request"]
print(f"status {r['status']}; {q['image']['shape'][0]}x{q['image']['shape'][1]} {q['image']['fill']} image, "
      f"{q['kernel']['count']} x {q['kernel']['shape'][0]}x{q['kernel']['shape'][1]} {q['kernel']['fill']} filters, "
      f"{q['iterations']} iterations, mode {q['mode']}, stride {q['stride']}, method {r['method']} ({r['methodReason']})")
print(f"{e['cpu']}, {e['processorCount']} cores, {e['workerCount']} workers, {e['runtime']}, SIMD {e['simd']}, GC {e['gcMode']}, "
      f"other jobs during the run: {e['concurrentJobs']}")
print(f"{'strategy':<14}{'median wall s':>14}{'min':>9}{'max':>9}{'per conv ms':>13}{'speedup':>9}{'efficiency':>11}")
for s in r["results"]:
    w = s["wallMs"]
    print(f"{s['strategy']:<14}{w['median']/1000:>14.3f}{w['min']/1000:>9.3f}{w['max']/1000:>9.3f}"
          f"{s['perConvolutionMs']['median']:>13.2f}{s['speedup']:>8.2f}x{s['efficiency']:>11.2f}")
print(f"results agree: {r['resultsAgree']}")
print("tutorial (4 cores, scipy): Ray 1.74x, multiprocessing 1.11x, Dask 1.41x (serial time extrapolated from one filter)")
PY
