"""A timing sweep run through Snakemake, killed with SIGKILL half-way (Snakemake and its job, the
whole process group, as a power cut or `kill -9` would), then rerun the documented way
(`snakemake --unlock`, then the same command with --rerun-incomplete): no point is lost, none is
duplicated, the points measured before the kill are kept, and the final file has exactly the rows
(keys) and columns of an uninterrupted run. (The library-level resume test, with a torn last
line, is tests/test_sweeps_timing.py::test_resume_after_sigkill_keeps_points_and_never_duplicates.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from conftest import SNAKEMAKE, copy_project, run_snakemake
from greenflops.io.tables import read_table
from greenflops.timing.contract import TIMING_COLUMNS, point_key
from greenflops.timing.grids import sweep_points

POINTS = 24
SLOW = {
    "sweeps": {
        "threads": 1,
        "profiles": {
            "slowtiny": {
                # ~0.1 s per point: the sweep lasts a few seconds, long enough to kill half-way.
                "timing": {"min_run_time": 0.1, "max_run_time": 0.2, "threshold": 0.5},
                "grids": {"dense_batch": {"d": [8, 16], "batch": {"from": 1, "to": POINTS // 2}}},
            }
        },
    }
}
GRID = SLOW["sweeps"]["profiles"]["slowtiny"]["grids"]["dense_batch"]


def _args(project: Path) -> list[str]:
    (project / "slowtiny.yaml").write_text(yaml.safe_dump(SLOW))
    # --config last: it takes every name=value argument that follows it.
    return ["data/processed/timings_inventory.csv", "--cores", "1",
            "--configfile", "slowtiny.yaml", "--config", "sweep_profile=slowtiny"]


def _partial_points(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line torn by the kill
    return out


@pytest.mark.slow
def test_sweep_killed_half_way_resumes_without_loss_or_duplicates(tmp_path: Path):
    schema = Path(__file__).resolve().parents[1] / "workflow/schemas/timings.schema.yaml"
    # What an uninterrupted run measures: every point of the grid, once, in the contract's
    # columns.
    expected = sorted(tuple(map(str, point_key(p))) for p in sweep_points("dense_batch", GRID))
    assert len(expected) == POINTS

    project = copy_project(tmp_path / "killed")
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONHASHSEED="0")
    proc = subprocess.Popen([SNAKEMAKE, *_args(project)], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    folder = None
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        found = sorted((project / "data" / "raw" / "timings").glob("*-slowtiny"))
        if found:
            folder = found[0]
            if len(_partial_points(folder / "dense_batch.partial.jsonl")) >= POINTS // 3:
                break
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert folder is not None
    before = _partial_points(folder / "dense_batch.partial.jsonl")
    assert POINTS // 3 <= len(before) < POINTS, f"not killed half-way: {len(before)} points"
    assert not (folder / "dense_batch.csv").exists(), "a CSV was written before the sweep ended"

    run_snakemake(project, "--unlock", *_args(project), check=True)
    run_snakemake(project, "--rerun-incomplete", *_args(project), timeout=600, check=True)
    final = read_table(folder / "dense_batch.csv", schema)  # validates: unique key, contract
    assert tuple(final.columns) == TIMING_COLUMNS
    keys = sorted(tuple(map(str, point_key(row))) for row in final.to_dict("records"))
    assert keys == expected, "points lost or duplicated"
    kept = {tuple(map(str, r["key"])): r["row"]["time_ms"] for r in before}
    rows = {tuple(map(str, point_key(row))): row["time_ms"] for row in final.to_dict("records")}
    assert set(kept) <= set(rows), "a point measured before the kill is missing"
    for key, time_ms in kept.items():
        assert rows[key] == pytest.approx(time_ms), "a measured point was re-measured"
    meta = yaml.safe_load((folder / "dense_batch.meta.yaml").read_text())
    assert meta["resumed_points"] == len(before) and meta["measured"] == POINTS
    assert not (folder / "dense_batch.partial.jsonl").exists()
