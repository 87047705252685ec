"""The workflow as a whole: format, lint, and the main job's output in the default run."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SNAKEMAKE
from workflow_build import build_jobs

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
def test_default_target_validates_tables_and_writes_inventory(built):
    """The default target (the session's full build, workflow_build) ran the main job."""
    assert build_jobs()["table_inventory"] == 1
    with open(built / "data" / "processed" / "table_inventory.csv", encoding="utf-8") as handle:
        rows = {row["table"]: int(row["rows"]) for row in csv.DictReader(handle)}
    assert rows["cv_models"] == 94
    assert rows["nlp_models"] == 19
    assert rows["gpus"] == 48
    assert rows["precision_throughput"] == 58


@pytest.mark.slow
def test_no_model_misses_by_more_than_the_limit_out_of_sample_on_a_committed_device(built):
    """Issue 11's robustness rule on every committed device: no model (the learned reference
    included) has a pooled out-of-sample MAPE above the recommendation's limit in any scope."""
    from greenflops.alpha.recommend import MAX_OOS_MAPE, OOS_SCOPES

    reports = sorted((built / "data" / "processed" / "alpha").glob("*/fit_report.csv"))
    assert len(reports) >= 3
    for path in reports:
        with open(path, encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if r["scope"] in OOS_SCOPES]
        assert rows, path
        worst = max(rows, key=lambda r: float(r["mape_pct"]))
        assert float(worst["mape_pct"]) <= MAX_OOS_MAPE, (path.parent.name, worst)
