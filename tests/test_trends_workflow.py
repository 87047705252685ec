"""End to end: the trends stage on a copy of the project, its fidelity, determinism and incremental reruns."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_snakemake

#: Rules whose outputs together are every output of the trends stage (issue: analysis-only path).
TRENDS_RULES = [
    "fidelity_trends", "trend_fits", "figures_cv", "figures_nlp", "figures_hardware", "tables_hardware", "table01",
]
CV_JOBS = {"flops_estimates", "energy_cv", "params_flops_correlation", "table01", "figures_cv", "trend_fits", "fidelity_trends"}
NOT_CV_JOBS = {"precision_speedups", "gpu_efficiency", "figures_hardware", "tables_hardware", "energy_nlp", "figures_nlp", "human_energy"}


def _jobs(dry_run_stdout: str) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run."""
    block = dry_run_stdout.split("Job stats:", 1)[1] if "Job stats:" in dry_run_stdout else ""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", block, re.M) if m.group(1) != "total"}


def _digests(root: Path) -> dict[str, str]:
    paths = sorted((root / "figures").rglob("*.*")) + sorted((root / "data/processed").rglob("*.csv"))
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.mark.slow
def test_trends_stage_end_to_end_and_incremental(project: Path) -> None:
    run_snakemake(project, "--cores", "2", *TRENDS_RULES, check=True)

    for name in ("precision_speedups", "gpu_efficiency", "energy_cv", "energy_nlp", "trend_fits", "params_flops_correlation"):
        assert (project / f"data/processed/{name}.csv").stat().st_size > 0
    figs = sorted(p.name for p in (project / "figures/trends").glob("fig*.png"))
    assert [f[:5] for f in figs] == [f"fig{i:02d}" for i in range(1, 16)]
    assert len(list((project / "figures/trends").glob("fig*.pdf"))) == 15
    for table in ("table01_alexnet_flops", "table04_precision_speedups", "table09_gpu_efficiency", "trend_fits"):
        assert (project / f"figures/tables/{table}.md").exists() and (project / f"figures/tables/{table}.tex").exists()

    fidelity = pd.read_csv(project / "figures/tables/fidelity_trends.csv", keep_default_na=False)
    assert (fidelity["status"] != "UNEXPLAINED").all() and (fidelity["status"] != "missing").all()
    for item in ("table4_speedup", "table9_tflops", "table9_gflops_per_watt", "table3_speedup"):
        assert (fidelity.loc[fidelity["item"] == item, "status"] == "match").all(), item
    assert len(fidelity[fidelity["item"] == "table9_gflops_per_watt"]) == 36

    energy = pd.read_csv(project / "data/processed/energy_cv.csv")
    assert {"model", "release_date", "gflops", "gflops_per_watt", "joules", "top1_accuracy_pct"} <= set(energy.columns)
    vit = energy[energy["model"] == "ViT-G/14"].iloc[0]
    assert vit["gflops"] == pytest.approx(5204.13, abs=0.01)  # the computed estimate flows downstream

    # Determinism: forcing the figure and table jobs again gives identical bytes.
    before = _digests(project)
    run_snakemake(project, "--cores", "2", "--forcerun", "figures_hardware", "tables_hardware",
                  "--", *TRENDS_RULES, check=True)
    assert _digests(project) == before

    # Nothing to do when nothing changed.
    assert _jobs(run_snakemake(project, "-n", *TRENDS_RULES, check=True).stdout) == {}

    # Add one CV model (content change): only the jobs that read the CV table rerun.
    cv = project / "data/raw/tables/cv_models.csv"
    cv.write_text(
        cv.read_text()
        + 'TestNet-X,80.00,10.00,2.00,none,2021-05-01,cnn,reported,reported,"Test, 2021",paper,paper,paper\n'
    )
    jobs = _jobs(run_snakemake(project, "-n", *TRENDS_RULES, check=True).stdout)
    assert CV_JOBS <= set(jobs), jobs
    assert not (NOT_CV_JOBS & set(jobs)), jobs
