"""Sweeps through Snakemake: nothing is measured by default, timing jobs never overlap, and
committed timings are not measured again on a fresh copy."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import run_snakemake
from greenflops.io.tables import read_table
from workflow_build import build_jobs, job_stats

TINY = {
    "sweeps": {
        "threads": 1,  # one thread per job, so that --cores 2 could run two timing jobs at once
        "profiles": {
            "tiny": {
                "timing": {"min_run_time": 0.005, "max_run_time": 0.02, "threshold": 0.5},
                "grids": {
                    "dense_batch": {"d": [8], "batch": [1, 2, 3]},
                    "increasing_cin": {"k": [1], "h": 2, "w": 2, "c_out": 4, "c_in": [2, 4]},
                },
            }
        },
    },
    # whole-network timings (rule whole_networks): one small network, briefly
    "alpha": {"model_validation": {"networks": ["vgg_like"], "inputs": [16],
                                   "min_run_time_s": 0.01}},
}


def _tiny(project: Path) -> list[str]:
    (project / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    return ["--configfile", "tiny.yaml", "--config", "sweep_profile=tiny"]


def _span(log: Path) -> tuple[dt.datetime, dt.datetime]:
    stamps = [dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
              for line in log.read_text().splitlines() if re.match(r"\d{4}-\d\d-\d\d ", line)]
    return min(stamps), max(stamps)


@pytest.mark.slow
def test_default_run_measures_nothing(built):
    """The session's full build is the default run on a fresh copy: it times nothing and uses
    the committed timings (its inventory lists them)."""
    jobs = build_jobs()
    assert not {"sweep", "device_facts", "whole_networks"} & set(jobs), jobs
    assert jobs["timings_inventory"] == 1


@pytest.mark.slow
def test_sweeps_one_at_a_time_and_not_remeasured(project, tmp_path):
    args = _tiny(project)
    # No --workflow-profile: Snakemake must find the default profile (timing_slot=1) by itself,
    # through the top-level `profiles` link to workflow/profiles.
    import torch

    from greenflops.timing.device import hardware_id

    dataset = f"{hardware_id(torch.device('cpu'), 1)}-tiny"  # threads: 1, profile tiny
    nets_csv = f"data/raw/timings/{dataset}/networks/whole_networks.csv"
    proc = run_snakemake(project, "data/processed/timings_inventory.csv", nets_csv, "--cores",
                         "2", *args, check=True)
    folders = [p for p in (project / "data/raw/timings").iterdir() if p.name.endswith("-tiny")]
    assert len(folders) == 1, proc.stdout
    folder = folders[0]
    assert sorted(p.name for p in folder.iterdir()) == [
        "dense_batch.csv", "dense_batch.meta.yaml", "device.yaml",
        "increasing_cin.csv", "increasing_cin.meta.yaml", "networks"]
    schema = project / "workflow/schemas/timings.schema.yaml"
    assert len(read_table(folder / "dense_batch.csv", schema)) == 3
    facts = yaml.safe_load((folder / "device.yaml").read_text())
    assert facts["device_id"] == folder.name and facts["peak_gflops"] > 0
    inventory = (project / "data/processed/timings_inventory.csv").read_text()
    assert "increasing_cin" in inventory and "whole_networks" not in inventory
    # Whole networks: raw data in a subfolder, measured on the same device, by the same harness.
    nets = read_table(folder / "networks" / "whole_networks.csv",
                      project / "workflow/schemas/whole_networks.schema.yaml")
    assert list(nets["input_shape"]) == ["1x3x16x16"] and (nets["threads"] == 1).all()
    assert (nets["time_ms"] > 0).all()
    assert yaml.safe_load((folder / "networks" / "whole_networks.meta.yaml").read_text())[
        "device_id"] == folder.name

    # The guard: the four timing jobs (two sweeps, device facts, whole networks) ran one after
    # the other.
    spans = sorted(_span(log) for log in (project / "logs/sweeps").glob("*_*.log")
                   if "inventory" not in log.name)
    assert len(spans) == 4
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert end <= start, f"timing jobs overlapped: {spans}"

    # A fresh copy (no .snakemake metadata, every file's mtime newer than the data): the
    # committed timings are used as they are, no timing job is planned.
    fresh = tmp_path / "fresh"
    shutil.copytree(project, fresh, ignore=shutil.ignore_patterns(".snakemake", "logs"))
    for path in [*(fresh / "scripts").rglob("*.py"), *(fresh / "workflow").rglob("*")]:
        if path.is_file():
            os.utime(path)
    assert not (fresh / ".snakemake").exists()
    dry = run_snakemake(fresh, "-n", "--cores", "2", *args, check=True)
    planned = job_stats(dry.stdout + dry.stderr)
    assert "timings_inventory" in planned, dry.stdout + dry.stderr  # the dry run planned jobs
    assert not {"sweep", "device_facts", "whole_networks"} & set(planned), planned
