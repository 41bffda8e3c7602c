#!/bin/bash
# TEST SCAFFOLDING (test/compose/standins/README.md): the part of the official postgres image's
# entry point that docker-compose.yml relies on. On an empty $PGDATA: initdb with POSTGRES_USER as the
# superuser and its password (POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE), create POSTGRES_DB, run
# /docker-entrypoint-initdb.d/*.sql and *.sh in order on a server listening on a private socket; then
# the server for everyone, password (scram-sha-256) authentication over TCP.
set -euo pipefail
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
fi
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then password="$(cat "$POSTGRES_PASSWORD_FILE")"; else password="${POSTGRES_PASSWORD:-}"; fi
if [ -z "$password" ]; then echo 'postgres stand-in: POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE is required' >&2; exit 1; fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile="$(mktemp)"; printf '%s\n' "$password" >"$pwfile"; chown postgres "$pwfile"
  as_postgres initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
  rm -f "$pwfile"
  printf "host all all all scram-sha-256\n" >>"$PGDATA/pg_hba.conf"
  # The initialising server listens on a private socket only: no health check sees it as ready.
  init_socket="$(mktemp -d)"; chown postgres "$init_socket"
  as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=$init_socket" -w start >/dev/null
  if [ "$db" != postgres ]; then as_postgres psql -h "$init_socket" -v ON_ERROR_STOP=1 -U "$user" -d postgres -qc "CREATE DATABASE \"$db\""; fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) echo "postgres stand-in: running $f"; as_postgres psql -h "$init_socket" -v ON_ERROR_STOP=1 -U "$user" -d "$db" -q -f "$f" ;;
      *.sh) echo "postgres stand-in: running $f"; . "$f" ;;
    esac
  done
  as_postgres pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  rm -rf "$init_socket"
  echo 'postgres stand-in: database initialised'
fi
if [ "${1:-postgres}" = postgres ]; then
  shift || true
  exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c listen_addresses='*' "$@"
fi
exec "$@"
