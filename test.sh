#!/usr/bin/env bash
# Run the whole greenflops test suite: builds .venv if needed (setup.sh --no-run), then pytest.
# Extra arguments go to pytest, e.g. `bash test.sh -k flops`.
set -euo pipefail
cd "$(dirname "$0")"
bash setup.sh --no-run
exec .venv/bin/python -m pytest "$@"
