#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL 15 for tests on 127.0.0.1:${WRENN_TEST_PG_PORT:-55432}.
# Prints the DATABASE_URL to use. Idempotent: "start" on a running cluster just prints the URL.
# No autovacuum: its workers serve no purpose in databases that live for one test file, and one that is working in a
# test's database when the test drops it WITH (FORCE) belongs to no role the test user may signal, so the drop fails
# ("must be a member of the role whose process is being terminated", seen in CI).
set -euo pipefail
port="${WRENN_TEST_PG_PORT:-55432}"
dir="${WRENN_TEST_PG_DIR:-/tmp/wrenn-test-pg-$port}"
bin=/usr/lib/postgresql/15/bin
url="postgres://wrenn:wrenn@127.0.0.1:$port/wrenn?sslmode=disable"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-start}" in
  start)
    [ -x "$bin/initdb" ] || { echo "PostgreSQL 15 is missing: apt-get install -y postgresql-15" >&2; exit 1; }
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
      as_pg "$bin/initdb" -D "$dir" -A trust -U postgres >/dev/null
    fi
    if ! as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_pg "$bin/pg_ctl" -D "$dir" -w -l "$dir/server.log" \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c autovacuum=off" \
        start >/dev/null
    fi
    psql_() { as_pg psql -h 127.0.0.1 -p "$port" -U postgres -tAc "$1"; }
    [ "$(psql_ "select 1 from pg_roles where rolname='wrenn'")" = 1 ] || psql_ "create role wrenn login password 'wrenn' createdb" >/dev/null
    [ "$(psql_ "select 1 from pg_database where datname='wrenn'")" = 1 ] || psql_ "create database wrenn owner wrenn" >/dev/null
    echo "$url"
    ;;
  stop)
    as_pg "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
