#!/usr/bin/env bash
# Set greenflops up from a fresh clone and run the main job:
#   creates .venv with the pinned requirements, then runs `snakemake --cores all`.
# Options: --no-run  only build the environment (test.sh uses this).
# Environment: PYTHON (default python3, must be 3.11+).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup.sh: $PYTHON is missing or older than Python 3.11" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    # Debian ships venv separately; install it when we may, else say what to do.
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv .venv
    else
      echo "setup.sh: '$PYTHON -m venv' failed; install it (Debian: sudo apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
fi

# Requirements change rarely: skip pip when the installed set already matches the file.
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--no-run" ]; then
  exit 0
fi
echo "setup.sh: environment ready; running the main job (snakemake --cores all)"
.venv/bin/snakemake --cores all
echo "setup.sh: done. Enter the environment with: source .venv/bin/activate"
