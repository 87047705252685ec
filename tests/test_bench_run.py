"""scripts/bench_run.py reads Snakemake's metadata: one entry per job, however many outputs."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from bench_run import job_times


def _record(project: Path, output: str, **meta) -> None:
    folder = project / ".snakemake" / "metadata"
    folder.mkdir(parents=True, exist_ok=True)
    name = base64.b64encode(output.encode()).decode().replace("/", "@")
    (folder / name).write_text(json.dumps(meta))


def test_a_job_with_several_outputs_counts_once(tmp_path):
    # two outputs of one job whose start times straddle a tenth of a second, and another job
    _record(tmp_path, "b.csv", rule="fit", job_hash=1, starttime=100.04999, endtime=110.5)
    _record(tmp_path, "a.csv", rule="fit", job_hash=1, starttime=100.05001, endtime=110.5)
    _record(tmp_path, "c.csv", rule="fit", job_hash=2, starttime=100.0, endtime=103.0)
    _record(tmp_path, "d.csv", rule="fit", job_hash=3, starttime=None, endtime=None)  # not run
    jobs = job_times(tmp_path)
    assert [(round(s, 5), rule, out) for s, rule, out in jobs] == [
        (10.44999, "fit", "a.csv"), (3.0, "fit", "c.csv")]
