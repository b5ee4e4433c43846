#!/usr/bin/env bash
# Measures ConvService under load on this machine, 127.0.0.1 only, bounded in jobs and time:
#   inmemory   1 node, InMemory storage
#   pg1        1 node on PostgreSQL
#   pg2        2 nodes on one PostgreSQL database (clients alternate between them)
#   pg3        3 nodes on one PostgreSQL database
#   pg2-kill   2 nodes; one is killed with SIGKILL after KILL_AFTER completed jobs (clients then submit+poll)
#   pg-kill    2 nodes; PostgreSQL itself (postmaster and its children) is killed with SIGKILL PG_KILL_AT s into the
#              run and restarted PG_OUTAGE s later on the same data directory (needs the throwaway cluster, not PG_CONN);
#              every accepted job must finish correctly, once, and the service must answer 503 + Retry-After, never 500
#   commits-batch  the same, the jobs sent BATCH (50) at a time through POST /convolutions/batch
#   commits    1 node: PostgreSQL transactions (pg_stat_database.xact_commit), WAL flushes and writes (pg_stat_wal) per job
#   compute1, compute2   1 or 2 nodes, the seed's compute-bound convolution (3000² ⊛ 4², full, stride 5; one image,
#              a kernel per job), COMPUTE_JOBS jobs from COMPUTE_CLIENTS clients
#   table      the scaling table: WORKERS=1 per node, durable PostgreSQL; pg1 pg2 pg3 (small jobs), compute1 compute2,
#              pg-kill, pg2-kill, then a summary (artifacts/scale-load/<LABEL>table.txt)
# Usage: scripts/scale-load.sh [SCENARIO...]   (default: inmemory pg1 pg2 pg2-kill)
# Environment: JOBS (10000), CLIENTS (32), SIZE (32), KERNEL (3), KILL_AFTER (3000), BASE_PORT (5301),
#   WORKERS (Hangfire workers per node; default: the node's cores), COMPUTE_JOBS (200), COMPUTE_CLIENTS (8),
#   PG_KILL_AT (15 s), PG_OUTAGE (50 s: longer than Hangfire's ~45 s of state-change retries, the case that lost jobs),
#   PG_CONN (use this PostgreSQL server instead of starting a throwaway one), NODE_ENV (extra VAR=VALUE pairs for the nodes),
#   LABEL (prefix of the report names, e.g. nofsync-), SKIP_PUBLISH=1 (reuse the last build in artifacts/scale-load).
# Reports go to artifacts/scale-load/<LABEL><scenario>.txt and stdout. Nodes and the throwaway cluster are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

JOBS=${JOBS:-10000} CLIENTS=${CLIENTS:-32} SIZE=${SIZE:-32} KERNEL=${KERNEL:-3} KILL_AFTER=${KILL_AFTER:-3000} BASE_PORT=${BASE_PORT:-5301}
COMPUTE_JOBS=${COMPUTE_JOBS:-200} COMPUTE_CLIENTS=${COMPUTE_CLIENTS:-8} PG_KILL_AT=${PG_KILL_AT:-15} PG_OUTAGE=${PG_OUTAGE:-50}
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(inmemory pg1 pg2 pg2-kill)
if [ "${scenarios[*]}" = table ]; then
  WORKERS=${WORKERS:-1} CLIENTS=${CLIENTS_TABLE:-16}
  scenarios=(pg1 pg2 pg3 compute1 compute2 pg-kill pg2-kill summary)
fi
out=artifacts/scale-load
mkdir -p "$out"

log() { echo "scale-load: $*" >&2; }

if [ "${SKIP_PUBLISH:-0}" != 1 ] || [ ! -f "$out/service/ConvService.dll" ]; then
log "publishing the service and the load tool (Release)"
dotnet publish src/ConvService/ConvService.csproj -c Release -o "$out/service" >"$out/publish.log" 2>&1 || { cat "$out/publish.log" >&2; exit 1; }
dotnet publish tools/ConvService.LoadTest/ConvService.LoadTest.csproj -c Release -o "$out/tool" >>"$out/publish.log" 2>&1 || { cat "$out/publish.log" >&2; exit 1; }
fi

pids=()
pgdir=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$pgdir" ]; then scripts/postgres-dev.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"; fi
}
trap cleanup EXIT

needs_pg=0
for s in "${scenarios[@]}"; do [[ $s == pg* || $s == compute* || $s == commits* ]] && needs_pg=1; done
conn=${PG_CONN:-}
if [ "$needs_pg" = 1 ] && [ -z "$conn" ]; then
  pgdir=$(mktemp -d /tmp/convservice-load-pg.XXXXXX)
  # Durable (fsync on), as a real deployment would run: the figures include commit cost.
  conn=$(PG_DEV_DURABLE=1 scripts/postgres-dev.sh "$pgdir" | tail -n 1)
  pg_port=$(sed -n 's/.*Port=\([0-9]*\).*/\1/p' <<<"$conn")
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
      Urls="http://127.0.0.1:$port" Logging__LogLevel__Default=Warning Logging__LogLevel__Hangfire=Error ${WORKERS:+ConvService__Workers=$WORKERS} \
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

run_tool() { # report-name args... (later --jobs/--size/... override the defaults)
  local name=${LABEL:-}$1; shift
  log "$name: $* (defaults: $JOBS jobs of ${SIZE}x${SIZE} * ${KERNEL}x${KERNEL} from $CLIENTS clients, workers ${WORKERS:-cores})"
  local cmd=(dotnet "$out/tool/ConvService.LoadTest.dll" --jobs "$JOBS" --concurrency "$CLIENTS" --size "$SIZE" --kernel "$KERNEL" "$@")
  { echo "# $name  ($(date -u +%FT%TZ), $(nproc) cores)"; echo "# ${cmd[*]}"; } >"$out/$name.txt"
  set +e
  "${cmd[@]}" 2>&1 | tee -a "$out/$name.txt"
  local status=${PIPESTATUS[0]}
  set -e
  [ "$status" = 0 ] || log "$name: the tool reported problems (exit $status)"
}

# Cluster-wide counters: transactions committed in the database, WAL flushes (fsyncs) and writes, WAL records.
pg_counters() { # db
  psql_server -F ' ' -c "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = '$1'), wal_sync, wal_write, wal_records FROM pg_stat_wal"
}

kill_postgres() { # SIGKILL the postmaster and every child, as a crash would
  local pm kids
  pm=$(head -n 1 "$pgdir/data/postmaster.pid")
  kids=$(pgrep -P "$pm" || true)
  kill -9 "$pm"
  for k in $kids; do kill -9 "$k" 2>/dev/null || true; done
}

p1=$BASE_PORT p2=$((BASE_PORT + 1)) p3=$((BASE_PORT + 2))
compute_args=(--size 3000 --kernel 4 --mode full --stride 5 --shared-image true --jobs "$COMPUTE_JOBS" --concurrency "$COMPUTE_CLIENTS")
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
    pg3)
      cs=$(fresh_db load_pg3)
      start_node pg3-a "$p1" PostgreSql "$cs"
      start_node pg3-b "$p2" PostgreSql "$cs"
      start_node pg3-c "$p3" PostgreSql "$cs"
      run_tool pg3 --urls "http://127.0.0.1:$p1,http://127.0.0.1:$p2,http://127.0.0.1:$p3"
      ;;
    compute1)
      cs=$(fresh_db load_compute1)
      start_node compute1-a "$p1" PostgreSql "$cs"
      run_tool compute1 --urls "http://127.0.0.1:$p1" "${compute_args[@]}"
      ;;
    compute2)
      cs=$(fresh_db load_compute2)
      start_node compute2-a "$p1" PostgreSql "$cs"
      start_node compute2-b "$p2" PostgreSql "$cs"
      run_tool compute2 --urls "http://127.0.0.1:$p1,http://127.0.0.1:$p2" "${compute_args[@]}"
      ;;
    commits|commits-batch)
      cs=$(fresh_db load_commits)
      start_node commits-a "$p1" PostgreSql "$cs"
      sleep 2
      before=$(pg_counters load_commits)
      extra=()
      [ "$s" = commits-batch ] && extra=(--batch "${BATCH:-50}")
      run_tool "$s" --urls "http://127.0.0.1:$p1" "${extra[@]}"
      sleep 2 # statistics reach the views within a second of a transaction's end
      after=$(pg_counters load_commits)
      read -r x0 s0 w0 r0 <<<"$before"; read -r x1 s1 w1 r1 <<<"$after"
      awk -v n="$JOBS" -v x=$((x1 - x0)) -v s=$((s1 - s0)) -v w=$((w1 - w0)) -v r=$((r1 - r0)) 'BEGIN {
        printf "per job: %.2f transactions committed (xact_commit), %.2f WAL flushes (wal_sync), %.2f WAL writes, %.1f WAL records\n", x/n, s/n, w/n, r/n }' \
        | tee -a "$out/${LABEL:-}$s.txt"
      ;;
    pg-kill)
      [ -n "$pgdir" ] || { log "pg-kill needs the throwaway cluster (unset PG_CONN)"; exit 2; }
      cs=$(fresh_db load_pgkill)
      start_node pgkill-a "$p1" PostgreSql "$cs"
      start_node pgkill-b "$p2" PostgreSql "$cs"
      run_tool pg-kill --urls "http://127.0.0.1:$p1,http://127.0.0.1:$p2" --poll true --job-timeout 300 &
      tool_pid=$!
      sleep "$PG_KILL_AT"
      kill_postgres
      log "pg-kill: PostgreSQL killed (SIGKILL) at $(date -u +%T); restarting it in $PG_OUTAGE s"
      sleep "$PG_OUTAGE"
      PG_DEV_PORT=$pg_port PG_DEV_DURABLE=1 scripts/postgres-dev.sh start "$pgdir" >/dev/null
      log "pg-kill: PostgreSQL restarted at $(date -u +%T)"
      wait "$tool_pid" || true
      # What the database holds afterwards: every record finished, and none unfinished left behind.
      psql_server -d load_pgkill -c "SELECT 'records by status: ' || string_agg(status || '=' || n, ', ') FROM (SELECT status, count(*) n FROM convservice.jobs GROUP BY 1) s" \
        | tee -a "$out/${LABEL:-}pg-kill.txt"
      grep -h -c "state change attempt(s) failed" "$out"/node-pgkill-*.log | paste -sd+ | sed 's/^/Hangfire gave up state changes (jobs the reconciler put back): /' | tee -a "$out/${LABEL:-}pg-kill.txt" || true
      ;;
    summary)
      table=$out/${LABEL:-}table.txt
      { echo "# scaling table ($(date -u +%FT%TZ), $(nproc) cores, workers per node ${WORKERS:-cores}, PostgreSQL durable)"
        for r in pg1 pg2 pg3 compute1 compute2 pg-kill pg2-kill; do
          f=$out/${LABEL:-}$r.txt
          [ -f "$f" ] || continue
          echo "$r: $(grep -h -o 'accepted.*' "$f" | head -n 1)"
          echo "$r: $(grep -h -o 'throughput.*' "$f" | head -n 1)"
          grep -h -E '^(refusals|killed|records by status|Hangfire gave up)' "$f" | sed "s/^/$r: /"
        done
        c1=$(grep -h -o 'throughput [0-9.]*' "$out/${LABEL:-}compute1.txt" 2>/dev/null | awk '{print $2}')
        c2=$(grep -h -o 'throughput [0-9.]*' "$out/${LABEL:-}compute2.txt" 2>/dev/null | awk '{print $2}')
        [ -n "$c1" ] && [ -n "$c2" ] && awk -v a="$c1" -v b="$c2" 'BEGIN { if (a > 0) printf "compute-bound speedup 1 -> 2 nodes: %.2fx\n", b / a }'
      } | tee "$table"
      continue
      ;;
    pg2-kill)
      cs=$(fresh_db load_pg2kill)
      start_node kill-a "$p1" PostgreSql "$cs"
      start_node kill-b "$p2" PostgreSql "$cs"
      victim=$last_pid
      run_tool pg2-kill --urls "http://127.0.0.1:$p1,http://127.0.0.1:$p2" --kill-pid "$victim" --kill-url "http://127.0.0.1:$p2" --kill-after "$KILL_AFTER"
      ;;
    *) log "unknown scenario $s (inmemory, pg1, pg2, pg3, pg2-kill, pg-kill, commits, commits-batch, compute1, compute2, table)"; exit 2 ;;
  esac
  stop_nodes
done
