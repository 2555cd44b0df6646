#!/usr/bin/env bash
# Sets up, migrates the database (SQLite at var/jiuzhu.sqlite3 unless DATABASE_URL is set),
# loads the demo county once (a second run only prints its accounts) and serves the web
# app at http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/jiuzhu migrate --no-input -v 0
# A database that already holds other households is left as it is: the demo is not mixed
# with real cases, and the server starts all the same.
.venv/bin/jiuzhu demo --url http://127.0.0.1:8000 || echo "(the demo county was not loaded; see above)"
echo
echo "Sign in at http://127.0.0.1:8000/accounts/login/ with one of the accounts above (Ctrl+C stops the server)."
exec .venv/bin/jiuzhu runserver 127.0.0.1:8000
