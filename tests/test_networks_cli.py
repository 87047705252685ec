"""``python -m greenflops cost`` and :func:`cost_report` on any nn.Module: the report, its
formats, and clear errors for an unknown architecture, a bad shape, a device with no fit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch.nn as nn
import yaml

from greenflops.networks.architectures import UnknownArchitecture, parse_shape, resolve_target
from greenflops.networks.report import DeviceNotFitted, cost_report, load_cost_model, main

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_networks_costs import COSTS, PARAMS  # noqa: E402

DEV = "synthetic-dev"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project root with one fitted device (params.yaml, cost_model.yaml, device.yaml) and
    the trends stage's GPU table."""
    alpha = tmp_path / "data/processed/alpha" / DEV
    alpha.mkdir(parents=True)
    (alpha / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    nets = tmp_path / "data/processed/networks/devices" / DEV
    nets.mkdir(parents=True)
    model = {"device_id": DEV, "time_model": "alpha_fit", "time_model_loso_mape_pct": 12.0,
             "op_costs": {k: c.to_dict() for k, c in COSTS.items()},
             "correction": {"a_dense": 1.1, "a_grouped": 1.0, "a_other": 1.2, "c_op_ms": 0.01},
             "validated": {"networks": 10, "rows": 20, "mape_pct": 11.5,
                           "mape_pct_by_batch": {1: 13.0, 8: 10.0}, "flops_mape_pct": 40.0,
                           "flops_lono_mape_pct": 30.0, "uncorrected_mape_pct": 25.0},
             "note": ""}
    (nets / "cost_model.yaml").write_text(yaml.safe_dump(model))
    raw = tmp_path / "data/raw/timings" / DEV
    raw.mkdir(parents=True)
    (raw / "device.yaml").write_text(yaml.safe_dump(
        {"device_id": DEV, "device_type": "cuda", "name": "Tesla V100-SXM2-16GB",
         "dtype": "float32"}))
    (tmp_path / "data/processed/gpu_efficiency.csv").write_text(
        "domain,gpu,precision,tflops,watts,launch_date,type,gflops_per_watt,adapted,speedup\n"
        "cv,Tesla V100,FP32,15.7,300,2018-03-27,server,52.33333333,False,1\n")
    return tmp_path


def _net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(8, 10))


def test_cost_report_on_any_module(root):
    rep = cost_report(_net(), (2, 3, 16, 16), DEV, root, name="tiny")
    assert rep.table["share"].sum() == pytest.approx(1.0)
    assert rep.predicted_ms == pytest.approx(rep.table["ms"].sum())
    assert rep.predicted_ms == pytest.approx(rep.totals["ms_combo_corrected"])
    assert (rep.table.loc[rep.table["component"] == "free", "ms"] == 0).all()
    assert set(rep.table["kind"]) >= {"conv2d", "dwconv", "batchnorm", "relu", "linear"}
    assert "alpha_fit" in rep.model and "11.5% MAPE leave-one-network-out" in rep.validated
    text = rep.markdown(top=3)
    assert "Predicted time" in text and "The 3 slowest of" in text and "| dwconv |" in text
    # energy: the device is a V100 of Table 9: (a) and (b) with its TDP as an estimate
    v100 = rep.energy[rep.energy["device"] == DEV].iloc[0]
    assert v100["j_trends"] == pytest.approx(rep.totals["gflops"] / 52.33333333)
    assert v100["j_time_power"] == pytest.approx(rep.predicted_ms / 1e3 * 300)
    assert json.loads(json.dumps(rep.as_dict()))["predicted_ms"] == pytest.approx(
        rep.predicted_ms)


def test_cli_formats(root, capsys):
    target = "greenflops.alpha.networks:vgg_like"
    args = ["cost", target, "--input", "1,3,32,32", "--device-id", DEV, "--root", str(root)]
    assert main(args) == 0
    assert "**Predicted time:" in capsys.readouterr().out
    assert main([*args, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("index,module,") and len(lines) > 10
    assert main([*args, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["device_id"] == DEV and doc["input_shape"] == [1, 3, 32, 32] and doc["ops"]


def test_cli_errors(root, capsys):
    base = ["--device-id", DEV, "--root", str(root)]
    assert main(["cost", "greenflops.alpha.networks:vgg_like", "--input", "1,3,x,32",
                 *base]) == 2
    assert "is not a list of positive integers" in capsys.readouterr().err
    assert main(["cost", "greenflops.alpha.networks:vgg_like", "--input", "1,3,32,32",
                 "--device-id", "no-such-device", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "no-such-device" in err and "has no fit" in err and DEV in err
    assert main(["cost", "greenflops.alpha.networks:nope", "--input", "1,3,32,32", *base]) == 2
    assert "has no callable 'nope'" in capsys.readouterr().err
    # a shape the network cannot take: one clear sentence, not a traceback
    assert main(["cost", "greenflops.alpha.networks:vgg_like", "--input", "1,5,32,32",
                 *base]) == 2
    assert "does not run on an input of shape (1, 5, 32, 32)" in capsys.readouterr().err


def test_unknown_torchvision_architecture():
    pytest.importorskip("torchvision")
    with pytest.raises(UnknownArchitecture, match=r"'resnet5'.*did you mean"):
        resolve_target("torchvision:resnet5")


def test_device_without_cost_model_says_how_to_build_it(root):
    (root / "data/processed/networks/devices" / DEV / "cost_model.yaml").unlink()
    with pytest.raises(DeviceNotFitted, match="snakemake --cores all data/processed/networks"):
        load_cost_model(DEV, root)


def test_parse_shape():
    assert parse_shape("1,3,224,224") == parse_shape("1x3x224x224") == (1, 3, 224, 224)
    for bad in ("", "1", "1,0,3", "a,b", "1,-3"):
        with pytest.raises(ValueError):
            parse_shape(bad)


def test_module_runs_from_the_repository_root():
    """`PYTHONPATH=scripts python -m greenflops --help` (the documented invocation)."""
    proc = subprocess.run([sys.executable, "-m", "greenflops", "cost", "--help"], cwd=ROOT,
                          env={"PYTHONPATH": "scripts", "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "--device-id" in proc.stdout
