#!/usr/bin/env bash
# Runs every command recipe of README.md against a real service, so the README cannot quietly go stale.
#
#   scripts/check-readme.sh              # starts the service with the README's run command on 127.0.0.1:$PORT (default 5399)
#   scripts/check-readme.sh BASE_URL     # uses a service already running there (loopback only)
#
# Every ```bash block of the README that calls curl or scripts/ is run as written, with `localhost:5000` pointed at
# the service, by `bash -euo pipefail` in a scratch folder: a failing command (curl -f fails on any 4xx or 5xx) fails
# the check. The run command itself is checked by starting the service with it; the test command,
# `dotnet test ConvService.sln`, is what .ci/run runs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
readme="$repo/README.md"

port=${PORT:-5399}
base=${1:-}
service_pid=
scratch=$(mktemp -d /tmp/convservice-readme.XXXXXX)
cleanup() {
  if [ -n "$service_pid" ]; then kill -- -"$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

run_command='dotnet run -c Release --project src/ConvService'
grep -qF -- "$run_command   # serves http://localhost:5000" "$readme" || { echo "README.md no longer shows the run command '$run_command'" >&2; exit 1; }
grep -qF -- "$run_command --urls http://127.0.0.1:5100" "$readme" || { echo "README.md no longer shows how to listen elsewhere (--urls)" >&2; exit 1; }

if [ -z "$base" ]; then
  base="http://127.0.0.1:$port"
  echo "starting: $run_command --urls $base" >&2
  # Its own process group, so the host dotnet run starts is stopped with it.
  setsid $run_command --urls "$base" >"$scratch/service.log" 2>&1 &
  service_pid=$!
  for _ in $(seq 1 180); do
    curl -fsS "$base/health/ready" >/dev/null 2>&1 && break
    kill -0 "$service_pid" 2>/dev/null || { cat "$scratch/service.log" >&2; echo "the service did not start" >&2; exit 1; }
    sleep 1
  done
  curl -fsS "$base/health/ready" >/dev/null || { tail -20 "$scratch/service.log" >&2; echo "the service is not ready" >&2; exit 1; }
fi
case $base in http://127.*|http://localhost*|http://\[::1\]*) ;; *) echo "loopback targets only, not $base" >&2; exit 2 ;; esac
hostport=${base#http://}

# The README's ```bash blocks, one file each.
awk -v dir="$scratch" '
  /^[[:space:]]*```bash[[:space:]]*$/ { n++; inside = 1; file = sprintf("%s/block-%02d.sh", dir, n); next }
  /^[[:space:]]*```[[:space:]]*$/ && inside { inside = 0; close(file); next }
  inside { sub(/^   /, ""); print > file }
' "$readme"

ln -s "$repo/scripts" "$scratch/scripts"
# The recipes load results with numpy through `python3`. Where the first python3 on PATH has no numpy, one that has
# (Debian's python3-numpy, as .ci/run installs) is put first for the recipes; the commands stay as written.
if ! python3 -c 'import numpy' >/dev/null 2>&1; then
  for candidate in /usr/bin/python3 /usr/local/bin/python3; do
    if [ -x "$candidate" ] && "$candidate" -c 'import numpy' >/dev/null 2>&1; then
      mkdir -p "$scratch/bin" && ln -s "$candidate" "$scratch/bin/python3" && export PATH="$scratch/bin:$PATH"
      echo "python3 on PATH has no numpy: the recipes use $candidate" >&2
      break
    fi
  done
fi
blocks=0 commands=0 failed=0
for block in "$scratch"/block-*.sh; do
  grep -qE '(^|[^[:alnum:]_])(curl|scripts/)' "$block" || continue   # the run/test block is checked above
  blocks=$((blocks + 1))
  commands=$((commands + $(grep -cE '^[^#[:space:]]' "$block")))
  sed -i "s#localhost:5000#$hostport#g" "$block"
  echo "== $(basename "$block"): $(grep -cE '^[^#[:space:]]' "$block") commands" >&2
  if (cd "$scratch" && bash -euo pipefail "$block") >"$block.out" 2>&1; then
    if [ "$(wc -c <"$block.out")" -le 1400 ]; then cat "$block.out"; else head -c 700 "$block.out"; echo; echo "  …"; tail -c 700 "$block.out"; fi; echo
    echo "== ok" >&2
  else
    failed=$((failed + 1))
    tail -c 3000 "$block.out"; echo
    echo "== FAILED: $(basename "$block")" >&2
  fi
done

echo "README check: $blocks blocks, $commands command lines, $failed failed (against $base)"
[ "$blocks" -gt 0 ] && [ "$failed" -eq 0 ]
