"""Whole-model α-FLOPs: per-layer FLOPs from hooks (checked against flop_counter and by hand),
per-layer predictions from a params.yaml, the CLI, whole-network timing with the sweep harness,
the raw whole-network file's reader, and the (deterministic) validation table."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from greenflops.alpha.document import params_document
from greenflops.alpha.networks import (
    WHOLE_NETWORK_COLUMNS,
    build_network,
    layer_table,
    measure_networks,
    network_points,
    predict_layers,
    read_whole_networks,
    validate_networks,
    validation_markdown,
)
from greenflops.alpha.synthetic import synthetic_timings
from greenflops.alpha.validation import fit_device
from greenflops.io.outputs import write_csv
from greenflops.io.tables import TableValidationError, load_schema, validate_records

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "whole_networks.schema.yaml"
FIXTURE = ROOT / "tests" / "data" / "alpha" / "networks" / "whole_networks.csv"

TRUE = {"beta_k1": 0.03, "gamma_k1": 0.9, "beta_kn": 0.02, "gamma_kn": 0.6, "sk_slope": 1.0,
        "overhead_ms": 0.01, "scale_ms_per_gflop": 5.0}


@pytest.fixture(scope="module")
def params_doc():
    # 44 rows: at least 5 per parameter of alpha_overhead (7)
    timings = synthetic_timings("alpha_overhead", TRUE, sweeps=("k_vs_spatial", "dense_batch",
                                                                 "increasing_cout", "increasing_w"),
                                seed=1)
    devfit = fit_device(timings, {}, models=["flops", "alpha_fit", "alpha_overhead"], starts=3)
    return yaml.safe_load(yaml.safe_dump(params_document("synthetic", devfit, [], timings, {})))



def test_layer_table_cross_check_catches_a_layer_the_hooks_miss():
    import torch
    import torch.nn as nn

    class FunctionalTail(nn.Module):
        """A Linear the hooks see, then a functional linear they do not."""

        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(8, 4)
            self.tail = nn.Parameter(torch.zeros(2, 4))

        def forward(self, x):
            return nn.functional.linear(self.fc(x), self.tail)

    assert layer_table(FunctionalTail(), (1, 8))["flops"].sum() == 2 * 8 * 4
    with pytest.raises(AssertionError, match="flop_counter"):
        layer_table(FunctionalTail(), (1, 8), cross_check=True)

def test_layer_table_flops_by_hand():
    # cross_check: the hooks' total equals torch.utils.flop_counter's (raises otherwise)
    table = layer_table(build_network("vgg_like"), (1, 3, 32, 32), cross_check=True)
    first = table.iloc[0]
    # conv 3->32, 3x3, same padding on 32x32: 2 * 9 * 3 * 32 * 32 * 32
    assert first["flops"] == 2 * 9 * 3 * 32 * 32 * 32
    assert (first["c_in"], first["c_out"], first["h"], first["k_h"]) == (3, 32, 32, 3)
    last = table.iloc[-1]
    assert last["op"] == "linear" and last["flops"] == 2 * 256 * 100
    res = layer_table(build_network("resnet_like"), (2, 3, 32, 32), cross_check=True)
    # strided 1x1 shortcuts are there, batch 2 is carried
    assert ((res["k_h"] == 1) & (res["stride"] == 2)).sum() == 2
    assert (res["batch"] == 2).all()


def test_predict_layers_sums_models(params_doc):
    layers = predict_layers(layer_table(build_network("resnet_like"), (1, 3, 32, 32)),
                            params_doc)
    scale = params_doc["models"]["flops"]["parameters"]["scale_ms_per_gflop"]["value"]
    assert layers["time_ms_flops"].sum() == pytest.approx(scale * layers["flops"].sum() / 1e9)
    assert (layers["alpha"] > 0).all() and (layers["alpha_flops"] <= layers["flops"] * 1.5).all()
    p = params_doc["models"]["alpha_overhead"]["parameters"]
    assert layers["time_ms_alpha_overhead"].min() >= p["overhead_ms"]["value"] * 0.999


def test_predict_layers_when_the_best_alpha_model_has_fixed_parameters():
    # alpha_paper fits only its scale: its β and γ are the paper's, not in params.yaml.
    timings = synthetic_timings("alpha_overhead", TRUE, sweeps=("k_vs_spatial",), seed=2)
    devfit = fit_device(timings, {}, models=["alpha_paper"], starts=1)
    doc = yaml.safe_load(yaml.safe_dump(params_document("synthetic", devfit, [], timings, {})))
    doc["best_alpha_model"] = "alpha_paper"
    layers = predict_layers(layer_table(build_network("vgg_like"), (1, 3, 32, 32)), doc)
    # the dense layer at the end (K = 1, S = 1) has alpha = 1 whatever beta and gamma are
    assert layers["alpha"].iloc[-1] == pytest.approx(1.0)
    assert ((layers["alpha"] > 0) & (layers["alpha"] < 1.0 + 1e-12)).all()


def _measured(rows):
    return pd.DataFrame(rows, columns=WHOLE_NETWORK_COLUMNS)


def test_validation_table_and_markdown(params_doc):
    measured = _measured([
        ("vgg_like", "1x3x64x64", 1, 2, "float32", 8.0, 0.1, 50),
        ("vgg_like", "1x3x128x128", 1, 2, "float32", 30.0, None, 20),
    ])
    table = validate_networks(measured, params_doc)
    assert set(table["model"]) == {"flops", "alpha_fit", "alpha_overhead"}
    # sorted by input size, not as text ("1x3x128x128" < "1x3x64x64" as text)
    assert list(dict.fromkeys(table["input"])) == ["1x3x64x64", "1x3x128x128"]
    row = table[(table["model"] == "flops") & (table["input"] == "1x3x64x64")].iloc[0]
    assert row["measured_ms"] == 8.0 and row["measured_iqr_ms"] == 0.1
    # flops model by hand: scale x GFLOPs of the conv/linear layers
    scale = params_doc["models"]["flops"]["parameters"]["scale_ms_per_gflop"]["value"]
    flops = layer_table(build_network("vgg_like"), (1, 3, 64, 64))["flops"].sum()
    assert row["gflops"] == pytest.approx(flops / 1e9)
    assert row["predicted_ms"] == pytest.approx(scale * flops / 1e9)
    assert row["ape_pct"] == pytest.approx(100 * abs(row["predicted_ms"] - 8.0) / 8.0)
    text = validation_markdown(table, "synthetic")
    assert "| vgg_like | 1x3x128x128 |" in text and "**MAPE**" in text
    assert "data/raw/timings/synthetic/networks/whole_networks.csv" in text
    skipped = validate_networks(_measured([]), params_doc, note="not measured on this device")
    assert "not measured" in validation_markdown(skipped, "x")
    assert len(skipped) == 1 and skipped["measured_ms"].isna().all()


def test_validation_is_byte_identical(tmp_path, params_doc):
    """Nothing is timed: the same raw rows (in any order) give the same bytes."""
    measured = read_whole_networks(FIXTURE, SCHEMA)
    write_csv(validate_networks(measured, params_doc), tmp_path / "a.csv")
    shuffled = measured.sample(frac=1.0, random_state=3).reset_index(drop=True)
    write_csv(validate_networks(shuffled, params_doc), tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert len(pd.read_csv(tmp_path / "a.csv")) == 4 * 3


def test_read_whole_networks_errors(tmp_path):
    good = FIXTURE.read_text().splitlines()
    assert len(read_whole_networks(FIXTURE, SCHEMA)) == 4
    cases = [
        (good[2].replace(",1,2,", ",2,2,", 1), "line 3, column 'batch'"),
        (good[2].replace("resnet_like", "alexnet"), "line 3, column 'network'"),
        (good[2].replace("1x3x64x64", "1x3x64"), "line 3, column 'input_shape'"),
        (good[2].replace("17.3905", "-1"), "line 3, column 'time_ms'"),
    ]
    for bad_line, where in cases:
        path = tmp_path / "whole_networks.csv"
        path.write_text("\n".join([good[0], good[1], bad_line, *good[3:]]) + "\n")
        with pytest.raises(TableValidationError, match=where):
            read_whole_networks(path, SCHEMA)


def test_measure_networks_with_sweep_harness():
    import torch

    from greenflops.timing.harness import TimingSettings

    torch.set_num_threads(1)
    points = network_points(["vgg_like", "resnet_like"], [16])
    assert points == [("vgg_like", (1, 3, 16, 16)), ("resnet_like", (1, 3, 16, 16))]
    settings = TimingSettings(min_run_time=0.01, max_run_time=0.05, energy=False)
    frame = measure_networks(points, torch.device("cpu"), settings)
    assert list(frame.columns) == WHOLE_NETWORK_COLUMNS
    assert list(frame["input_shape"]) == ["1x3x16x16", "1x3x16x16"]
    assert (frame["time_ms"] > 0).all() and (frame["runs"] >= 4).all()
    assert (frame["threads"] == 1).all() and (frame["dtype"] == "float32").all()
    validate_records(frame.to_dict("records"), load_schema(SCHEMA), "measured")
    with pytest.raises(ValueError, match="unknown network"):
        network_points(["alexnet"], [16])


def test_cli(tmp_path, params_doc, capsys):
    import importlib.util

    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params_doc))
    spec = importlib.util.spec_from_file_location(
        "model_cost_cli", Path(__file__).resolve().parents[1] / "scripts" / "model_cost.py")
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    assert cli.main(["--device-id", "synthetic", "--model", "vgg_like", "--input", "1,3,32,32",
                     "--params", str(path), "--csv", str(tmp_path / "layers.csv")]) == 0
    out = capsys.readouterr().out
    assert "total:" in out and "alpha-GFLOPs" in out
    import pandas as pd

    layers = pd.read_csv(tmp_path / "layers.csv")
    assert layers["flops"].iloc[0] == 2 * 9 * 3 * 32 * 32 * 32
    assert math.isclose(layers["alpha_flops"].sum(), (layers["alpha"] * layers["flops"]).sum())
