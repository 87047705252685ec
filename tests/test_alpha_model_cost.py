"""Whole-model α-FLOPs: per-layer FLOPs from hooks (checked against flop_counter and by hand),
per-layer predictions from a params.yaml, the CLI, and the validation table."""

from __future__ import annotations

import math

import pytest
import yaml

from greenflops.alpha_fit import fit_device, params_document
from greenflops.alpha_synth import synthetic_timings
from greenflops.model_cost import (
    build_network,
    layer_table,
    predict_layers,
    validate_networks,
    validation_markdown,
)

TRUE = {"beta_k1": 0.03, "gamma_k1": 0.9, "beta_kn": 0.02, "gamma_kn": 0.6, "sk_slope": 1.0,
        "overhead_ms": 0.01, "scale_ms_per_gflop": 5.0}


@pytest.fixture(scope="module")
def params_doc():
    timings = synthetic_timings("alpha_overhead", TRUE, sweeps=("k_vs_spatial", "dense_batch",
                                                                 "increasing_cout"), seed=1)
    devfit = fit_device(timings, {}, models=["flops", "alpha_fit", "alpha_overhead"], starts=3)
    return yaml.safe_load(yaml.safe_dump(params_document("synthetic", devfit, [], timings, {})))


def test_layer_table_flops_by_hand():
    table = layer_table(build_network("vgg_like"), (1, 3, 32, 32))
    first = table.iloc[0]
    # conv 3->32, 3x3, same padding on 32x32: 2 * 9 * 3 * 32 * 32 * 32
    assert first["flops"] == 2 * 9 * 3 * 32 * 32 * 32
    assert (first["c_in"], first["c_out"], first["h"], first["k_h"]) == (3, 32, 32, 3)
    last = table.iloc[-1]
    assert last["op"] == "linear" and last["flops"] == 2 * 256 * 100
    res = layer_table(build_network("resnet_like"), (2, 3, 32, 32))
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


def test_validation_table_and_markdown(params_doc):
    table = validate_networks(["vgg_like"], [32], params_doc, threads=1, min_run_time=0.05)
    assert set(table["model"]) == {"flops", "alpha_fit", "alpha_overhead"}
    assert (table["measured_ms"] > 0).all()
    row = table[table["model"] == "flops"].iloc[0]
    assert row["ape_pct"] == pytest.approx(
        100 * abs(row["predicted_ms"] - row["measured_ms"]) / row["measured_ms"])
    text = validation_markdown(table, "synthetic")
    assert "| vgg_like | 1x3x32x32 |" in text and "**MAPE**" in text
    skipped = validate_networks([], [], params_doc, 1, 0.0, note="not validated: elsewhere")
    assert "not validated" in validation_markdown(skipped, "x")


def test_cli(tmp_path, params_doc, capsys):
    import importlib.util
    from pathlib import Path

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
