#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on 127.0.0.1 for the clinic's tests, sourced by .ci/run.
#
#   source .ci/postgres.sh && start_test_postgres   # exports OPENVNS_TEST_POSTGRES_URL
#   stop_test_postgres                              # stops it and removes its directory
#
# Installs Debian's postgresql when initdb is missing (as root). The cluster lives in a temporary
# directory owned by the user that runs the server (initdb refuses root: as root the `postgres`
# user runs it), listens only on 127.0.0.1 at a free port with its unix socket in that directory,
# and trusts no one without the generated password. The test role may create databases: the
# clinic's fixtures create one per test session beside the one in the URL.

_pg_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
    fi
  done | sort -V | tail -n 1
}

_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$_PG_OWNER" -- "$@"
  else
    "$@"
  fi
}

start_test_postgres() {
  local bindir port password
  bindir=$(_pg_bindir)
  if [ -z "$bindir" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "postgresql is not installed and this is not root: no PostgreSQL tests" >&2
      return 1
    fi
    echo "+ apt-get install -y postgresql"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    # Debian's package starts a cluster of its own on port 5432; ours does not need it.
    if command -v pg_ctlcluster >/dev/null 2>&1; then
      pg_lsclusters --no-header 2>/dev/null | while read -r version name _; do
        pg_ctlcluster "$version" "$name" stop || true
      done
    fi
    bindir=$(_pg_bindir)
  fi
  _PG_OWNER=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    _PG_OWNER=postgres
    id "$_PG_OWNER" >/dev/null 2>&1 || useradd --system --no-create-home "$_PG_OWNER"
  fi
  _PG_DIR=$(mktemp -d /tmp/openvns-pg.XXXXXX)
  chmod 700 "$_PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown "$_PG_OWNER" "$_PG_DIR"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  printf '%s\n' "$password" >"$_PG_DIR/pwfile"
  [ "$(id -u)" -eq 0 ] && chown "$_PG_OWNER" "$_PG_DIR/pwfile"
  _PG_BINDIR=$bindir
  _pg_as_owner "$bindir/initdb" -D "$_PG_DIR/data" -U openvns --pwfile="$_PG_DIR/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$_PG_DIR/initdb.log" 2>&1 || {
    cat "$_PG_DIR/initdb.log" >&2
    return 1
  }
  rm -f "$_PG_DIR/pwfile"
  _pg_as_owner "$bindir/pg_ctl" -D "$_PG_DIR/data" -l "$_PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $_PG_DIR -c fsync=on" start >/dev/null || {
    cat "$_PG_DIR/server.log" >&2
    return 1
  }
  PGPASSWORD=$password "$bindir/psql" -q -h 127.0.0.1 -p "$port" -U openvns -d postgres \
    -c "CREATE DATABASE openvns_test" || return 1
  export OPENVNS_TEST_POSTGRES_URL="postgresql+pg8000://openvns:$password@127.0.0.1:$port/openvns_test"
  echo "+ PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" \
    "(OPENVNS_TEST_POSTGRES_URL set)"
}

stop_test_postgres() {
  if [ -n "${_PG_DIR:-}" ] && [ -d "$_PG_DIR/data" ]; then
    _pg_as_owner "$_PG_BINDIR/pg_ctl" -D "$_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "${_PG_DIR:-}" ]; then
    rm -rf "$_PG_DIR"
  fi
  _PG_DIR=
}
