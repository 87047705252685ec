"""The networks stage through Snakemake (slow): the session's full build made it from the
committed raw data without torch, adding a network reruns only its jobs, the committed op tables
are what a fresh capture gives, and the `cost` command prices a network on a fitted device."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import ROOT, run_snakemake

DEV = "cpu-amd-epyc-1thread"


def _jobs(stdout: str) -> dict[str, int]:
    table = stdout.split("Job stats:")[-1]
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M) if m.group(1) != "total"}


@pytest.mark.slow
def test_stage_builds_and_a_new_network_reruns_only_its_jobs(built, tmp_path):
    """On the session's full build (read only: dry runs and the cost command write nothing)."""
    targets = ["figures/networks/pred_vs_measured.md", "figures/networks/flops_comparison.md",
               "figures/networks/energy.md",
               f"data/processed/networks/devices/{DEV}/cost_model.yaml"]
    assert all((built / t).is_file() for t in targets)
    # no job of the stage imported torch: the op tables are committed raw data
    assert list((built / "logs/networks").glob("network_predictions_*"))
    assert not list((built / "logs/networks").glob("network_ops_*"))
    flops = pd.read_csv(built / "figures/networks/flops_comparison.csv")
    assert (flops["gflops"] == flops["flop_counter_gflops"]).all()
    assert set(flops.dropna(subset=["paper_gflops"])["network"]) == {
        "resnet50", "vgg16", "mobilenet_v2", "efficientnet_b0", "densenet121", "vit_b_16"}
    model = yaml.safe_load(
        (built / f"data/processed/networks/devices/{DEV}/cost_model.yaml").read_text())
    assert model["time_model"]
    # a second run does nothing
    again = run_snakemake(built, "-n", "--cores", "2", *targets, check=True)
    assert "Nothing to be done" in again.stdout + again.stderr

    # Add a network to the config list: only its capture and predictions, and the tables
    # over all networks, are planned.
    config = yaml.safe_load((built / "config.yaml").read_text())
    config["networks"]["architectures"].append("resnet34")
    (tmp_path / "more.yaml").write_text(yaml.safe_dump({"networks": config["networks"]}))
    # (targets first: --configfile takes every argument after it as a file)
    dry = run_snakemake(built, "-n", "--cores", "2", *targets, "--configfile",
                        str(tmp_path / "more.yaml"), check=True)
    jobs = _jobs(dry.stdout)
    assert jobs == {"network_ops": 2, "network_predictions": 1, "networks_flops": 1,
                    "networks_validation": 1, "networks_energy": 1}, jobs
    assert "by_network/resnet34/predictions.csv" in dry.stdout

    # The cost command on a device the full build fitted.
    proc = subprocess.run(
        [sys.executable, "-m", "greenflops", "cost", "torchvision:resnet18", "--input",
         "1,3,224,224", "--device-id", DEV, "--root", str(built), "--top", "5"],
        cwd=built, env={"PYTHONPATH": "scripts", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "Predicted time" in proc.stdout and "| conv2d |" in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("network, shape", [("resnet18", "1x3x224x224"),
                                            ("vit_b_16", "1x3x224x224")])
def test_committed_op_tables_match_a_fresh_capture(network, shape, tmp_path):
    """An op table is raw data captured once; a library or torch change that would capture it
    differently shows here (recapture it: delete it and run `snakemake --cores all`)."""
    from greenflops.io.outputs import write_csv
    from greenflops.networks.architectures import build, parse_shape
    from greenflops.networks.measure import capture_op_table

    shape_t = parse_shape(shape)
    table, facts = capture_op_table(build(network, side=shape_t[-1]), shape_t)
    write_csv(table, tmp_path / "fresh.csv")
    committed = ROOT / "data/raw/networks" / network / f"{shape}.csv"
    assert (tmp_path / "fresh.csv").read_text() == committed.read_text()
    meta = yaml.safe_load(committed.with_suffix(".meta.yaml").read_text())
    assert facts["flops"] == meta["flops"] == meta["flop_counter_complete"]
