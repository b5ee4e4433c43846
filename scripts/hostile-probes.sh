#!/usr/bin/env bash
# Issue #12's resource-exhaustion probes against a Release ConvService started on a loopback port: each probe's
# HTTP status against the expected one, /health after each, and the service's peak RSS (VmHWM from /proc/PID/status).
# Exits non-zero if a probe answers otherwise, the node stops answering, or the peak RSS reaches 1 GB.
#
#   scripts/hostile-probes.sh [-p PORT] [-n]     (-n: skip the Release build; default port 5551)
#
# Starts its own service (Release, default settings, InMemory storage) and stops it on exit; traffic goes only
# to 127.0.0.1:PORT.
set -euo pipefail

port=5551 build=1
while getopts "p:nh" opt; do
  case $opt in
    p) port=$OPTARG ;; n) build=0 ;;
    *) sed -n '2,9p' "$0"; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
base=http://127.0.0.1:$port
work=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if (( build )); then nice -n 19 dotnet build "$root/src/ConvService" -c Release -v q -nologo >/dev/null; fi
dll=$root/src/ConvService/bin/Release/net10.0/ConvService.dll
(cd "$(dirname "$dll")" && exec dotnet "$dll" --urls "$base" >"$work/service.log" 2>&1) &
pid=$!
for _ in $(seq 1 100); do curl -fsS --max-time 1 "$base/health" >/dev/null 2>&1 && break; sleep 0.2; done
# The dotnet host execs the app in the same process, so $pid is the service.
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
echo "service pid $pid on $base; RSS after start $(rss VmRSS) kB"

failures=0
check() { # name expected actual
  local health
  health=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/health" || true)
  if [[ $2 == "$3" && $health == 200 ]]; then printf 'ok    %-62s %s   health %s  RSS %s kB\n' "$1" "$3" "$health" "$(rss VmRSS)"
  else printf 'FAIL  %-62s expected %s got %s  health %s\n' "$1" "$2" "$3" "$health"; failures=$((failures + 1)); fi
}
post() { # path body-file [content-type] → status
  curl -s -o "$work/last.json" -w '%{http_code}' --max-time 120 -X POST -H "Content-Type: ${3:-application/json}" --data-binary "@$2" "$base$1"
}
json() { printf '%s' "$1" > "$work/body.json"; echo "$work/body.json"; }

# 1. Budgets that count everything.
check "benchmark of 1e8 tiny hangfire convolutions" 422 \
  "$(post /benchmarks "$(json '{"image":{"shape":[1,1]},"kernel":{"shape":[1,1],"count":1024},"iterations":100000,"strategies":["hangfire"]}')")"
long='{"image":{"shape":[1000,1000]},"kernel":{"shape":[9,9],"count":1},"iterations":2000,"method":"naive","strategies":["serial"],"stride":1}'
ids=()
for i in 1 2; do
  check "long benchmark $i of MaxQueuedBenchmarks=2" 202 "$(post /benchmarks "$(json "$long")")"
  ids+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/last.json")")
done
check "third queued benchmark (429 + Retry-After)" 429 "$(post /benchmarks "$(json "$long")")"
for id in "${ids[@]}"; do curl -s -o /dev/null -X DELETE "$base/benchmarks/$id"; done

# 2. FFT work and memory.
for method in fft auto; do
  check "2000×12500 image ⊛ 1×1,000,000 kernel, method $method" 422 \
    "$(post /convolutions "$(json "{\"image\":{\"generate\":{\"shape\":[2000,12500]}},\"kernel\":{\"generate\":{\"shape\":[1,1000000]}},\"mode\":\"same\",\"method\":\"$method\"}")")"
done

# 3. Read less before refusing: 8 slow bodies declaring 128 MiB each, held open for 3 s after 64 KiB.
python3 - "$port" <<'EOF' &
import socket, sys, time
socks = []
for _ in range(8):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"POST /arrays HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-npy\r\nContent-Length: 134217728\r\n\r\n" + b"\0" * 65536)
    socks.append(s)
time.sleep(3)
for s in socks: s.close()
EOF
slow=$!
sleep 2
check "8 slow bodies declaring 128 MiB each (RSS while they hang)" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")"
wait "$slow"
# A PNG header of 100,000² pixels, then a stalled body: the answer must come from the header, before the 100 MB.
answer=$(python3 - "$port" <<'EOF'
import socket, struct, sys, time, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
start = time.monotonic()
s.sendall(b"POST /arrays HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: 100000000\r\n\r\n"
          + b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0)) + bytes(65536))
status = s.recv(4096).split(b" ")[1].decode()
print(f"{status} {time.monotonic() - start:.2f}")
EOF
)
echo "      PNG header of 100,000² then a stalled body: status and seconds: $answer"
check "PNG header of 100,000² pixels, body stalled (answered from the header)" 413 "${answer%% *}"
python3 - "$work/rows.json" <<'EOF'
import sys
n = (134217728 - 64) // 4
with open(sys.argv[1], "w") as f:
    f.write('{"image":{"data":[' + "[0]," * (n - 1) + '[0]]},"kernel":{"data":[[1]]}}')
EOF
check "128 MiB JSON body of one-value rows" 413 "$(post /convolutions "$work/rows.json")"
rm -f "$work/rows.json"

# 4. Uploads charged by their decoded size: twelve ~3 KB one-bit PNGs of 5000² (200 MB each decoded), distinct contents.
python3 - "$work" <<'EOF'
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
row = b"\0" + bytes(625)
for i in range(12):
    raw = bytearray(row * 5000); raw[1] = i + 1
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 5000, 5000, 1, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    open(f"{sys.argv[1]}/bit{i}.png", "wb").write(png)
EOF
codes=
for i in $(seq 0 11); do codes+="$(post /arrays "$work/bit$i.png" image/png) "; done
echo "      twelve 1-bit 5000² PNGs, $(stat -c %s "$work/bit0.png") bytes each: $codes"
check "twelve 1-bit PNGs: 2 stored (400 MB), the rest 429" "201 201 429 429 429 429 429 429 429 429 429 429 " "$codes"

# 5. Decoder errors: a PNG whose zlib stream asks for a preset dictionary.
python3 - "$work/fdict.png" <<'EOF'
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
idat = bytes([0x78, 0xBB, 0, 0, 0, 1, 0x63, 0, 0])
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
EOF
check "PNG with a zlib preset dictionary" 400 "$(post /arrays "$work/fdict.png" image/png)"

# 6. Metrics labels from a fixed set.
for i in $(seq 1 20); do curl -s -o /dev/null -X "RANDOM$i" "$base/health"; done
random=$(curl -s "$base/metrics" | grep -c 'RANDOM' || true)
check "20 unknown HTTP methods add no metric series" 0 "$random"

peak=$(rss VmHWM)
echo "peak RSS (VmHWM) $peak kB; $failures failed"
(( failures == 0 && peak < 1000000 ))
