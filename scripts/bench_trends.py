"""Time the trends stage's analysis-only path: every output of the stage, from the committed tables.

Copies the project (without derived outputs, .snakemake or logs) to a temporary directory, runs
``snakemake --cores N <trends rules>`` there and prints the wall time, Snakemake's start included.
Usage: ``python scripts/bench_trends.py [--cores 2] [--repeat 3]``. Prints one line per run and the
median; exits non-zero if a run fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRENDS_RULES = [
    "fidelity_trends",
    "trend_fits",
    "figures_cv",
    "figures_nlp",
    "figures_hardware",
    "tables_hardware",
    "table01",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import copy_project  # noqa: E402

    snakemake = str(Path(sys.executable).parent / "snakemake")
    env = dict(os.environ, PYTHONHASHSEED="0")
    times = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="greenflops-bench-") as tmp:
            proj = copy_project(Path(tmp) / "project")
            start = time.perf_counter()
            proc = subprocess.run(
                [snakemake, "--cores", str(args.cores), "--quiet", "all", "--", *TRENDS_RULES],
                cwd=proj, capture_output=True, text=True, env=env,
            )
            elapsed = time.perf_counter() - start
            if proc.returncode != 0:
                print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
                return 1
            n_files = len(list((proj / "figures").rglob("*.*"))) + len(list((proj / "data/processed").rglob("*.csv")))
            times.append(elapsed)
            print(f"run {i + 1}: {elapsed:.1f} s wall ({args.cores} cores, {n_files} output files)")
    print(f"trends analysis-only path: median {statistics.median(times):.1f} s wall over {len(times)} run(s), "
          f"{args.cores} cores, Snakemake start included")
    return 0


if __name__ == "__main__":
    sys.exit(main())
