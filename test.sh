#!/usr/bin/env bash
# Run the greenflops test suite (docs/testing.md): builds .venv if needed (setup.sh --no-run),
# then pytest.
#   bash test.sh          the whole suite (what CI runs, through .ci/run)
#   bash test.sh --fast   the fast tier: everything not marked slow (no Snakemake run end to end)
# Other arguments go to pytest, e.g. `bash test.sh -k flops` or `bash test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")"
bash setup.sh --no-run
args=()
for arg in "$@"; do
  if [ "$arg" = --fast ]; then args+=(-m "not slow"); else args+=("$arg"); fi
done
exec .venv/bin/python -m pytest "${args[@]}"
