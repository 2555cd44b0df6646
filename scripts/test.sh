#!/usr/bin/env bash
# Installs what the tests need (PostgreSQL, Debian's chromium, gettext), then runs lint,
# types and the whole suite against SQLite and against a PostgreSQL server it starts.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for pkg in postgresql chromium gettext openjdk-17-jre-headless fonts-noto-cjk; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
bash scripts/setup.sh dev

echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy

# A throw-away PostgreSQL server, owned by the postgres user, on a private socket and port.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PG_DIR=$(mktemp -d /tmp/jiuzhu-pg.XXXXXX)
PG_PORT=${JIUZHU_TEST_PG_PORT:-55432}
chown postgres "$PG_DIR"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
trap 'runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1; rm -rf "$PG_DIR"' EXIT

echo "== pytest on SQLite"
.venv/bin/pytest -q -p no:cacheprovider -n 2 "$@"

echo "== pytest on PostgreSQL (the tests that use the database)"
DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/jiuzhu" \
  .venv/bin/pytest -q -p no:cacheprovider -n 2 -m "django_db or browser" "$@"
