#!/usr/bin/env bash
# Create the OpenFisca reference virtualenv (benchmarks/openfisca_reference/.venv).
# Idempotent: when everything is already installed it only checks (about a second).
# OpenFisca lives in its own venv: openfisca-core pins pytest and other runtime
# dependencies that must not leak into Jiuzhu's environment.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PY="${PYTHON:-python3}"
OPENFISCA_VERSION="46.0.1"

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi

if ! "$VENV/bin/python" - "$OPENFISCA_VERSION" <<'PYCHECK' 2>/dev/null; then
import sys
from importlib.metadata import version
assert version("openfisca-core") == sys.argv[1]
import numpy, psutil, pyarrow  # noqa: F401
PYCHECK
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "openfisca-core==$OPENFISCA_VERSION" pyarrow numpy psutil
fi

# The country package is put on the venv's path with a .pth file (no build step);
# run.py also adds its own folder to sys.path, so this is for interactive use.
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$HERE" > "$SITE/openfisca_jiuzhu.pth"

"$VENV/bin/python" -c 'import openfisca_jiuzhu' >/dev/null
echo "OpenFisca reference ready: $VENV/bin/python $HERE/run.py --help"
