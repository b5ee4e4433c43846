#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for development, the scale-out tests and the load script.
#
#   scripts/postgres-dev.sh [start] [DIR]   create + start a cluster in DIR (default: a new temp dir);
#                                           the LAST stdout line is the connection string:
#                                           Host=127.0.0.1;Port=...;Database=convservice;Username=convservice;Password=...
#   scripts/postgres-dev.sh stop DIR        stop it (the data stays in DIR; rm -rf DIR to drop it)
#
# Environment: PG_DEV_PORT (default: a free port from 25432 up), PG_DEV_DURABLE=1 keeps fsync on; PG_DEV_OPTS adds server options (e.g. "-c shared_preload_libraries=pg_stat_statements")
# (default off: it is a throwaway cluster and tests should not wait on the disk).
# All chatter goes to stderr, so `conn=$(scripts/postgres-dev.sh | tail -n 1)` works (.ci/run relies on it).
# It listens on 127.0.0.1 only. Installs Debian's postgresql with apt-get when run as root and it is missing.
set -euo pipefail

log() { echo "postgres-dev: $*" >&2; }

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return 0; fi
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

BINDIR=$(find_bindir || true)
if [ -z "$BINDIR" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "PostgreSQL not found; installing Debian's postgresql"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    BINDIR=$(find_bindir || true)
  fi
  [ -n "$BINDIR" ] || { log "no PostgreSQL server binaries (initdb, pg_ctl); install Debian's 'postgresql'"; exit 1; }
fi

# initdb and postgres refuse to run as root: as root, run them as the 'postgres' user the Debian package creates.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { log "running as root but there is no 'postgres' user to run the server as"; exit 1; }
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cmd=${1:-start}
case "$cmd" in
  stop)
    dir=${2:?usage: $0 stop DIR}
    as_pg "$BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >&2
    log "stopped; remove $dir to drop its data"
    exit 0
    ;;
  start) dir=${2:-} ;;
  *) dir=$1 ;; # `postgres-dev.sh DIR` is start too
esac

if [ -z "$dir" ]; then dir=$(mktemp -d /tmp/convservice-pg.XXXXXX); fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ "$(id -u)" = 0 ] && chown postgres: "$dir"

# Already running in DIR (a second call): reuse it and its port.
running_port=""
if [ -s "$dir/data/postmaster.pid" ] && as_pg "$BINDIR/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  running_port=$(sed -n 4p "$dir/data/postmaster.pid")
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=${running_port:-${PG_DEV_PORT:-}}
if [ -z "$port" ]; then
  for p in $(seq 25432 25531); do
    if port_free "$p" && [ ! -e "/tmp/.s.PGSQL.$p" ] && [ ! -e "$dir/.s.PGSQL.$p" ]; then port=$p; break; fi
  done
  [ -n "$port" ] || { log "no free port in 25432-25531"; exit 1; }
fi

# The password is kept beside the cluster, so restarting an existing cluster keeps its connection string.
if [ -s "$dir/password" ]; then
  password=$(cat "$dir/password")
else
  password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
  (umask 077 && echo "$password" >"$dir/password")
fi
if [ ! -s "$dir/data/PG_VERSION" ]; then
  log "initdb into $dir/data"
  as_pg "$BINDIR/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
fi

fsync=off
[ "${PG_DEV_DURABLE:-0}" = 1 ] && fsync=on
# Several nodes, each with a connection pool, plus the tests' per-test databases: more than the default 100.
opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=$fsync -c synchronous_commit=$fsync -c full_page_writes=$fsync ${PG_DEV_OPTS:-}"
if [ -n "$running_port" ]; then
  log "already running in $dir on port $port"
else
  log "starting on 127.0.0.1:$port (fsync=$fsync), log $dir/server.log"
  as_pg "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w -t 60 start </dev/null >&2 \
    || { tail -n 30 "$dir/server.log" >&2 || true; exit 1; }
fi

psql_admin() { as_pg "$BINDIR/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
# The service user may create databases: each scale-out test makes its own and drops it afterwards.
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'convservice'")" = 1 ]; then
  psql_admin -c "ALTER ROLE convservice WITH LOGIN CREATEDB PASSWORD '$password'" >&2
else
  psql_admin -c "CREATE ROLE convservice WITH LOGIN CREATEDB PASSWORD '$password'" >&2
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'convservice'")" != 1 ]; then
  psql_admin -c "CREATE DATABASE convservice OWNER convservice" >&2
fi

log "stop with: $0 stop $dir"
echo "Host=127.0.0.1;Port=$port;Database=convservice;Username=convservice;Password=$password"
