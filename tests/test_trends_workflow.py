"""The trends stage end to end, on the session's full build (workflow_build): every figure and
table of Desislavov et al. is made, the fidelity table explains every number, and the computed
estimates flow downstream. Its determinism and incremental reruns are checked on the same build
(tests/test_reliability_runs.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from greenflops.trends.registry import FIGURES
from workflow_build import build_jobs


@pytest.mark.slow
def test_trends_stage_makes_every_figure_and_table(built: Path) -> None:
    jobs = build_jobs()
    assert jobs["energy"] == 2  # one job per domain, cv and nlp
    for rule in ("trends_figures_cv", "trends_figures_nlp", "trends_figures_hardware",
                 "trends_tables_cv", "trends_tables_hardware", "trend_fits", "fidelity_trends"):
        assert jobs.get(rule) == 1, (rule, jobs)

    for name in ("precision_speedups", "gpu_efficiency", "energy_cv", "energy_nlp", "trend_fits",
                 "params_flops_correlation"):
        assert (built / f"data/processed/{name}.csv").stat().st_size > 0
    figs = sorted(p.name for p in (built / "figures/trends").glob("fig*.png"))
    assert [f[:5] for f in figs] == [f"fig{i:02d}" for i in range(1, 16)]
    assert len(list((built / "figures/trends").glob("fig*.pdf"))) == 15
    assert sorted(p.stem for p in (built / "figures/trends").glob("*.png")) == sorted(
        fig.stem for fig in FIGURES), "the figures made are not the registry's"
    for table in ("table01_alexnet_flops", "table04_precision_speedups", "table09_gpu_efficiency",
                  "trend_fits"):
        for ext in ("md", "tex"):
            assert (built / f"figures/tables/{table}.{ext}").stat().st_size > 0, (table, ext)


@pytest.mark.slow
def test_fidelity_explains_every_number(built: Path) -> None:
    fidelity = pd.read_csv(built / "figures/tables/fidelity_trends.csv", keep_default_na=False)
    assert (fidelity["status"] != "UNEXPLAINED").all() and (fidelity["status"] != "missing").all()
    for item in ("table4_speedup", "table9_tflops", "table9_gflops_per_watt", "table3_speedup"):
        assert (fidelity.loc[fidelity["item"] == item, "status"] == "match").all(), item
    assert len(fidelity[fidelity["item"] == "table9_gflops_per_watt"]) == 36


@pytest.mark.slow
def test_computed_estimates_flow_downstream(built: Path) -> None:
    energy = pd.read_csv(built / "data/processed/energy_cv.csv")
    assert {"model", "release_date", "gflops", "gflops_per_watt", "joules",
            "top1_accuracy_pct"} <= set(energy.columns)
    vit = energy[energy["model"] == "ViT-G/14"].iloc[0]
    assert vit["gflops"] == pytest.approx(5204.13, abs=0.01)  # the computed estimate
