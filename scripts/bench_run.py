"""Time a clean `snakemake --cores N` of the project and show where the time goes.

Copies the project (without derived outputs, .snakemake or logs) to a temporary directory, runs
``snakemake --cores N [targets]`` there (the default target unless targets are given), and prints
the wall time (Snakemake's start included), the load average before and after, and the slowest
jobs, read from Snakemake's own metadata (start and end time of each job's outputs).

    python scripts/bench_run.py [--cores 2] [--repeat 1] [--top 10] [target ...]

Exits non-zero if a run fails. Timings on a shared machine are noisy: compare runs made together.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def job_times(project: Path) -> list[tuple[float, str, str]]:
    """``(seconds, rule, first output)`` of every job of the run, from .snakemake/metadata."""
    jobs: dict[tuple[str, float], tuple[float, str, str]] = {}
    for record in (project / ".snakemake" / "metadata").glob("*"):
        try:
            meta = json.loads(record.read_text())
            output = base64.b64decode(record.name.replace("@", "/")).decode()
        except (ValueError, UnicodeDecodeError):
            continue
        if meta.get("starttime") is None or meta.get("endtime") is None:
            continue
        # one job, several outputs: each output has its own start time (microseconds apart),
        # but the job's end time is written to all of them
        key = (meta["rule"], meta.get("job_hash"), meta["endtime"])
        seconds = meta["endtime"] - meta["starttime"]
        if key not in jobs or output < jobs[key][2]:
            jobs[key] = (seconds, meta["rule"], output)
    return sorted(jobs.values(), reverse=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--top", type=int, default=10, help="slowest jobs to list")
    parser.add_argument("targets", nargs="*", help="Snakemake targets (default: the default target)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import copy_project  # noqa: E402

    snakemake = str(Path(sys.executable).parent / "snakemake")
    env = dict(os.environ, PYTHONHASHSEED="0")
    walls = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="greenflops-bench-") as tmp:
            project = copy_project(Path(tmp) / "project")
            # a cold start: no validation recorded by earlier runs (greenflops.io.validated)
            env["GREENFLOPS_CACHE_DIR"] = str(Path(tmp) / "validated")
            load0 = os.getloadavg()[0]
            start = time.perf_counter()
            proc = subprocess.run([snakemake, "--cores", str(args.cores), "--quiet", "all",
                                   *(["--", *args.targets] if args.targets else [])],
                                  cwd=project, capture_output=True, text=True, env=env)
            wall = time.perf_counter() - start
            if proc.returncode != 0:
                print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
                return 1
            jobs = job_times(project)
            walls.append(wall)
            print(f"run {i + 1}: {wall:.1f} s wall, {len(jobs)} jobs, {args.cores} cores, "
                  f"load {load0:.2f} -> {os.getloadavg()[0]:.2f}; "
                  f"{sum(t for t, _, _ in jobs):.1f} s of job time in all")
            for seconds, rule, output in jobs[: args.top]:
                print(f"  {seconds:6.1f} s  {rule:40s} {output}")
    print(f"median {statistics.median(walls):.1f} s wall over {len(walls)} run(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
