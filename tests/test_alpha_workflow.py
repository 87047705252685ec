"""The alpha stage end to end on a project copy: a device folder that the sweeps did not produce
(a GPU measured elsewhere, tests/data/alpha) builds with no code or config change, with the
figures its sweeps allow; outputs match their schemas; the whole-network check reads raw timings
in the networks/ subfolder, which the timing-file globs ignore, and without them says "not
measured". (Determinism of the stage: the two clean builds of tests/test_reliability_runs.py; a
bad timing file: tests/test_reliability_bad_input.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT, run_snakemake
from glue.alpha_targets import alpha_targets, discover_devices, timing_inputs
from glue.inputs import load_resource
from greenflops.io.tables import read_table
from greenflops.timing.datasets import find_datasets

FIXTURE = ROOT / "tests" / "data" / "alpha" / "timings" / "synthetic-gpu-elsewhere"
DEV = "synthetic-gpu-elsewhere"
SCHEMAS = ROOT / "workflow" / "schemas"
NETWORKS = ROOT / "tests" / "data" / "alpha" / "networks" / "whole_networks.csv"


def _device_targets(project: Path) -> list[str]:
    """The default alpha targets of the fixture device only (other devices may be present),
    planned as alpha.smk plans them."""
    figures = load_resource(project, "alpha_figures")["figures"]
    devices = discover_devices(project / "data" / "raw" / "timings",
                               SCHEMAS / "timings.schema.yaml", SCHEMAS / "device.schema.yaml")
    return alpha_targets({DEV: devices[DEV]}, figures)


def _add_device(project: Path, networks: bool = False) -> Path:
    dest = project / "data" / "raw" / "timings" / DEV
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(FIXTURE, dest)
    if networks:  # raw whole-network timings, in their subfolder
        (dest / "networks").mkdir()
        shutil.copy(NETWORKS, dest / "networks" / "whole_networks.csv")
    return dest


@pytest.mark.slow
def test_new_device_folder_builds_its_outputs(project):
    dest = _add_device(project, networks=True)
    # The networks/ subfolder is not a timing file: not fitted, not in the inventory.
    assert not any("whole_networks" in p for p in timing_inputs(dest.parent, DEV))
    assert "whole_networks" not in find_datasets(dest.parent)[DEV]["sweeps"]
    targets = _device_targets(project)
    # raw whole-network timings present: the (deterministic) check is a default target
    assert f"data/processed/alpha/{DEV}/model_validation.md" in targets
    proc = run_snakemake(project, "--cores", "2", *targets, check=True)
    assert f"alpha_figures_{DEV.replace('-', '_')}" in proc.stdout + proc.stderr

    out = project / "data" / "processed" / "alpha" / DEV
    report = read_table(out / "fit_report.csv", SCHEMAS / "alpha_fit_report.schema.yaml")
    assert list(report.columns) == ["model", "scope", "mape_pct", "median_ape_pct", "n",
                                    "mape_unguarded_pct", "fell_back", "novel_op", "bounded"]
    assert set(report["scope"]) == {"in_sample", "loso", "kfold"}
    assert "roofline" not in set(report["model"])  # no peak/bandwidth in this device.yaml
    # every other configured model is fitted or skipped with a note (too few rows for its
    # parameters), and the best α model meets the goal
    configured = yaml.safe_load((project / "config.yaml").read_text())["alpha"]["models"]
    doc = yaml.safe_load((out / "params.yaml").read_text())
    skipped = {m for m, e in doc["models"].items() if "skipped" in e}
    assert set(report["model"]) == set(configured) - skipped and "roofline" in skipped
    assert all("rows" in doc["models"][m]["skipped"] for m in skipped - {"roofline"})
    assert doc["recommended_model"] in set(report["model"])
    assert doc["recommended_scope"] == "loso"
    best = doc["best_alpha_model"]
    loso = report[report["scope"] == "loso"].set_index("model")["mape_pct"]
    assert best.startswith("alpha") and loso[best] <= 10.0 and 2 * loso[best] <= loso["flops"]
    preds = read_table(out / "predictions.csv", SCHEMAS / "alpha_predictions.schema.yaml")
    assert len(preds) == 64 * report["model"].nunique() * 3  # in-sample, LOSO, k-fold
    assert "skipped" in (out / "params.yaml").read_text()

    # only the figures whose sweeps the device has (no k_vs_channels, increasing_w, ...), and
    # the GPU versions of Fig. 2 (a cuda device)
    names = sorted(p.name for p in (project / "figures" / "alpha" / DEV).iterdir())
    assert "fig01b_dense_vs_conv.png" in names and "fig07_dense_batch.pdf" in names
    assert "fig02b_k_vs_spatial.png" in names and "fig02d_k_vs_spatial_cpu.png" not in names
    assert "fig02a_k_vs_channels.png" not in names and "fig05a_increasing_w.png" not in names
    assert "pred_vs_measured.png" in names and "fig03a_table.md" in names

    table = pd.read_csv(out / "model_validation.csv")
    raw = pd.read_csv(NETWORKS)
    # measured times are the raw file's; one row per network, input and fitted model
    assert len(table) == len(raw) * table["model"].nunique() and table["model"].nunique() > 1
    merged = table.merge(raw, left_on=["network", "input"], right_on=["network", "input_shape"])
    assert (merged["measured_ms"] == merged["time_ms"]).all() and len(merged) == len(table)
    assert "**MAPE**" in (out / "model_validation.md").read_text()

    # Without the raw file: no longer a default target; asked for, it says "not measured".
    shutil.rmtree(dest / "networks")
    assert not any("model_validation" in t for t in _device_targets(project))
    run_snakemake(project, "--cores", "1", f"data/processed/alpha/{DEV}/model_validation.md",
                  check=True)
    assert "not measured on this device" in (out / "model_validation.md").read_text()
