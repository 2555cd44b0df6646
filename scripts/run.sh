#!/usr/bin/env bash
# Sets up, migrates an SQLite database and serves the web app at http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python manage.py migrate --no-input -v 0
exec .venv/bin/python manage.py runserver 127.0.0.1:8000
