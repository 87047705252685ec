"""The alpha stage end to end on a project copy: a device folder that the sweeps did not produce
builds with no code or config change; outputs match their schemas and are byte-identical on rerun
(the whole-network check included: it reads raw timings in the networks/ subfolder, which the
timing-file globs ignore); a bad timing file stops the workflow before any output is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT, run_snakemake
from glue.alpha_targets import alpha_targets, discover_devices, timing_inputs
from greenflops.io.tables import read_table
from greenflops.timing.datasets import find_datasets

FIXTURE = ROOT / "tests" / "data" / "alpha" / "timings" / "synthetic-gpu-elsewhere"
DEV = "synthetic-gpu-elsewhere"
SCHEMAS = ROOT / "workflow" / "schemas"
NETWORKS = ROOT / "tests" / "data" / "alpha" / "networks" / "whole_networks.csv"


def _device_targets(project: Path) -> list[str]:
    """The default alpha targets of the fixture device only (other devices may be present)."""
    config = yaml.safe_load((project / "config.yaml").read_text())["alpha"]
    devices = discover_devices(project / "data" / "raw" / "timings",
                               SCHEMAS / "timings.schema.yaml", SCHEMAS / "device.schema.yaml")
    return alpha_targets({DEV: devices[DEV]}, config["figures"])


def devices_sweeps(project: Path) -> list[str]:
    devices = discover_devices(project / "data" / "raw" / "timings",
                               SCHEMAS / "timings.schema.yaml", SCHEMAS / "device.schema.yaml")
    return devices[DEV]["sweeps"]


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
def test_fit_report_builds_for_a_new_device_folder(project):
    dest = _add_device(project, networks=True)
    # The networks/ subfolder is not a timing file: not fitted, not in the inventory.
    assert not any("whole_networks" in p for p in timing_inputs(dest.parent, DEV))
    assert "whole_networks" not in find_datasets(dest.parent)[DEV]["sweeps"]
    run_snakemake(project, "--cores", "2", f"data/processed/alpha/{DEV}/fit_report.csv",
                  check=True)
    out = project / "data" / "processed" / "alpha" / DEV
    report = read_table(out / "fit_report.csv", SCHEMAS / "alpha_fit_report.schema.yaml")
    assert list(report.columns) == ["model", "scope", "mape_pct", "median_ape_pct", "n"]
    assert set(report["scope"]) == {"in_sample", "loso"}
    assert "roofline" not in set(report["model"])  # no peak/bandwidth in this device.yaml
    preds = read_table(out / "predictions.csv", SCHEMAS / "alpha_predictions.schema.yaml")
    assert len(preds) == 64 * report["model"].nunique() * 2
    assert "skipped" in (out / "params.yaml").read_text()
    # ... and the rest of the device's outputs: figures for the sweeps present, deterministic.
    proc = run_snakemake(project, "-n", "--cores", "2", "--quiet", "rules", "all")
    assert "alpha_figure" in proc.stdout + proc.stderr
    targets = _device_targets(project)
    assert "whole_networks" not in devices_sweeps(project)
    # raw whole-network timings present: the (deterministic) check is a default target
    assert f"data/processed/alpha/{DEV}/model_validation.md" in targets
    run_snakemake(project, "--cores", "2", *targets, check=True)
    figs = project / "figures" / "alpha" / DEV
    names = sorted(p.name for p in figs.iterdir())
    # only the figures whose sweeps the device has (no k_vs_channels, increasing_w, ...)
    assert "fig01b_dense_vs_conv.png" in names and "fig07_dense_batch.pdf" in names
    assert "fig02b_k_vs_spatial.png" in names and "fig02d_k_vs_spatial_cpu.png" not in names
    assert "fig02a_k_vs_channels.png" not in names and "fig05a_increasing_w.png" not in names
    assert "pred_vs_measured.png" in names and "fig03a_table.md" in names
    watched = [project / "data" / "processed" / "alpha" / DEV / n
               for n in ("params.yaml", "fit_report.csv", "predictions.csv")]
    watched += [figs / "fig03b_dense_vs_conv_alpha.png", figs / "fig03b_dense_vs_conv_alpha.pdf",
                figs / "fig03a_table.md"]
    watched += [project / "data" / "processed" / "alpha" / DEV / n
                for n in ("model_validation.csv", "model_validation.md")]
    before = {p: p.read_bytes() for p in watched}
    shutil.rmtree(project / "data" / "processed" / "alpha" / DEV)
    shutil.rmtree(figs)
    run_snakemake(project, "--cores", "2", *targets, check=True)
    for path, data in before.items():
        assert path.read_bytes() == data, f"{path.name} changed on rerun"
    out = project / "data" / "processed" / "alpha" / DEV
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


@pytest.mark.slow
def test_bad_timing_file_stops_before_outputs(project):
    dest = _add_device(project)
    path = dest / "dense_batch.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace(",float32,", ",float33,")
    path.write_text("\n".join(lines) + "\n")
    proc = run_snakemake(project, "--cores", "2", f"data/processed/alpha/{DEV}/fit_report.csv")
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "dense_batch.csv, line 3, column 'dtype'" in text
    assert not (project / "data" / "processed" / "alpha").exists()
