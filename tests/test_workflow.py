"""The workflow as a whole: format, lint, a dry run of the full DAG, and the main job's output."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SNAKEMAKE, run_snakemake

VENV_BIN = Path(sys.executable).parent


def test_snakefmt_is_clean():
    proc = subprocess.run(
        [str(VENV_BIN / "snakefmt"), "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakemake_lint_is_clean():
    """Snakemake's linter also requires a log: directive on every rule."""
    proc = subprocess.run(
        [SNAKEMAKE, "--lint"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Congratulations" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_dry_run_plans_the_full_dag(project):
    proc = run_snakemake(project, "-n", "--cores", "all", "--quiet", "rules", check=True)
    output = proc.stdout + proc.stderr
    assert "table_inventory" in output


@pytest.mark.slow
def test_main_job_validates_tables_and_writes_inventory(project):
    run_snakemake(project, "--cores", "2", "data/processed/table_inventory.csv", check=True)
    with open(project / "data" / "processed" / "table_inventory.csv", encoding="utf-8") as handle:
        rows = {row["table"]: int(row["rows"]) for row in csv.DictReader(handle)}
    assert rows["cv_models"] == 94
    assert rows["nlp_models"] == 19
    assert rows["gpus"] == 48
    assert rows["precision_throughput"] == 58
