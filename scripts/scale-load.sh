#!/usr/bin/env bash
# Measures ConvService under load on this machine, 127.0.0.1 only, bounded in jobs and time:
#   inmemory   1 node, InMemory storage
#   pg1        1 node on PostgreSQL
#   pg2        2 nodes on one PostgreSQL database (clients alternate between them)
#   pg2-kill   2 nodes; one is killed with SIGKILL after KILL_AFTER completed jobs (clients then submit+poll)
# Usage: scripts/scale-load.sh [SCENARIO...]   (default: all four, in that order)
# Environment: JOBS (10000), CLIENTS (32), SIZE (32), KERNEL (3), KILL_AFTER (3000), BASE_PORT (5301),
#   PG_CONN (use this PostgreSQL server instead of starting a throwaway one), NODE_ENV (extra VAR=VALUE pairs for the nodes),
#   LABEL (prefix of the report names, e.g. nofsync-).
# Reports go to artifacts/scale-load/<LABEL><scenario>.txt and stdout. Nodes and the throwaway cluster are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

JOBS=${JOBS:-10000} CLIENTS=${CLIENTS:-32} SIZE=${SIZE:-32} KERNEL=${KERNEL:-3} KILL_AFTER=${KILL_AFTER:-3000} BASE_PORT=${BASE_PORT:-5301}
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(inmemory pg1 pg2 pg2-kill)
out=artifacts/scale-load
mkdir -p "$out"

log() { echo "scale-load: $*" >&2; }

log "publishing the service and the load tool (Release)"
dotnet publish src/ConvService/ConvService.csproj -c Release -o "$out/service" >"$out/publish.log" 2>&1 || { cat "$out/publish.log" >&2; exit 1; }
dotnet publish tools/ConvService.LoadTest/ConvService.LoadTest.csproj -c Release -o "$out/tool" >>"$out/publish.log" 2>&1 || { cat "$out/publish.log" >&2; exit 1; }

pids=()
pgdir=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$pgdir" ]; then scripts/postgres-dev.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"; fi
}
trap cleanup EXIT

needs_pg=0
for s in "${scenarios[@]}"; do [[ $s == pg* ]] && needs_pg=1; done
conn=${PG_CONN:-}
if [ "$needs_pg" = 1 ] && [ -z "$conn" ]; then
  pgdir=$(mktemp -d /tmp/convservice-load-pg.XXXXXX)
  # Durable (fsync on), as a real deployment would run: the figures include commit cost.
  conn=$(PG_DEV_DURABLE=1 scripts/postgres-dev.sh "$pgdir" | tail -n 1)
fi

field() { tr ';' '\n' <<<"$conn" | sed -n "s/^$1=//p"; }
psql_server() { PGPASSWORD=$(field Password) psql -h "$(field Host)" -p "$(field Port)" -U "$(field Username)" -d "$(field Database)" -v ON_ERROR_STOP=1 -qAt "$@"; }

# A fresh database per scenario, so no run sees another's jobs.
fresh_db() {
  local name=$1
  psql_server -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
  psql_server -c "CREATE DATABASE $name" >/dev/null
  sed "s/Database=[^;]*/Database=$name/" <<<"$conn"
}

start_node() { # name port storage [connection string]
  local name=$1 port=$2 storage=$3 cs=${4:-}
  env ConvService__Storage="$storage" ConnectionStrings__ConvService="$cs" ConvService__NodeName="$name" \
      Urls="http://127.0.0.1:$port" Logging__LogLevel__Default=Warning Logging__LogLevel__Hangfire=Error \
      ${NODE_ENV:-} dotnet "$out/service/ConvService.dll" >"$out/node-$name.log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  log "node $name did not become ready; see $out/node-$name.log"
  exit 1
}

stop_nodes() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}

run_tool() { # report-name args...
  local name=${LABEL:-}$1; shift
  log "$name: $JOBS jobs of ${SIZE}x${SIZE} * ${KERNEL}x${KERNEL} from $CLIENTS clients"
  local cmd=(dotnet "$out/tool/ConvService.LoadTest.dll" --jobs "$JOBS" --concurrency "$CLIENTS" --size "$SIZE" --kernel "$KERNEL" "$@")
  { echo "# $name  ($(date -u +%FT%TZ), $(nproc) cores)"; echo "# ${cmd[*]}"; } >"$out/$name.txt"
  set +e
  "${cmd[@]}" 2>&1 | tee -a "$out/$name.txt"
  local status=${PIPESTATUS[0]}
  set -e
  [ "$status" = 0 ] || log "$name: the tool reported problems (exit $status)"
}

p1=$BASE_PORT p2=$((BASE_PORT + 1))
for s in "${scenarios[@]}"; do
  case "$s" in
    inmemory)
      start_node mem1 "$p1" InMemory
      run_tool inmemory --urls "http://127.0.0.1:$p1"
      ;;
    pg1)
      cs=$(fresh_db load_pg1)
      start_node pg1-a "$p1" PostgreSql "$cs"
      run_tool pg1 --urls "http://127.0.0.1:$p1"
      ;;
    pg2)
      cs=$(fresh_db load_pg2)
      start_node pg2-a "$p1" PostgreSql "$cs"
      start_node pg2-b "$p2" PostgreSql "$cs"
      run_tool pg2 --urls "http://127.0.0.1:$p1,http://127.0.0.1:$p2"
      ;;
    pg2-kill)
      cs=$(fresh_db load_pg2kill)
      start_node kill-a "$p1" PostgreSql "$cs"
      start_node kill-b "$p2" PostgreSql "$cs"
      victim=$last_pid
      run_tool pg2-kill --urls "http://127.0.0.1:$p1,http://127.0.0.1:$p2" --kill-pid "$victim" --kill-url "http://127.0.0.1:$p2" --kill-after "$KILL_AFTER"
      ;;
    *) log "unknown scenario $s (inmemory, pg1, pg2, pg2-kill)"; exit 2 ;;
  esac
  stop_nodes
done
