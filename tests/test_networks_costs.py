"""Op costs, predictions op by op and the whole-network correction, on synthetic data with
known parameters (no torch, no measurement)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from greenflops.alpha.document import device_time_model, fitted_params
from greenflops.networks.costs import (
    LinearCost,
    NetCorrection,
    fit_linear_cost,
    fit_net_correction,
    fit_op_costs,
    grouped_rows,
    kfold_mape,
    lono_predictions,
)
from greenflops.networks.predict import (
    COMBO,
    component_of,
    corrected_ops,
    matmul_rows,
    network_totals,
    predict_ops,
)
from greenflops.networks.validation import cost_model, prediction_rows, validate_device

PARAMS = {
    "device_id": "synthetic",
    "data": {"dtypes": ["float32"]},
    "best_alpha_model": "alpha_fit",
    "models": {
        "flops": {"parameters": {"scale_ms_per_gflop": {"value": 20.0}},
                  "mape_pct": {"loso": 30.0}},
        "alpha_fit": {"parameters": {"beta_k1": {"value": 0.05}, "gamma_k1": {"value": 0.8},
                                     "beta_kn": {"value": 0.01}, "gamma_kn": {"value": 0.6},
                                     "scale_ms_per_gflop": {"value": 25.0}},
                      "mape_pct": {"loso": 12.0}},
        "roofline": {"skipped": "no peak"},
    },
}
COSTS = {"default": LinearCost(0.002, 0.1), "relu": LinearCost(0.001, 0.05),
         "dwconv": LinearCost(0.01, 0.3, 5.0), "softmax": LinearCost(0.004, 0.2)}


def _op(index, kind, flops=0, bytes_in=4000, bytes_out=4000, **shape):
    row = {"index": index, "module": f"m{index}", "module_type": "M", "aten": f"aten.{kind}",
           "kind": kind, "in_shape": "", "out_shape": "", "flops": flops, "elem_flops": 0,
           "bytes_in": bytes_in, "bytes_out": bytes_out, "bytes_weight": 0}
    for c in ("batch", "c_in", "c_out", "h", "w", "k_h", "k_w", "stride", "padding", "groups",
              "heads", "seq", "seq_k", "embed"):
        row[c] = shape.get(c)
    return row


def _ops() -> pd.DataFrame:
    conv = dict(batch=1, c_in=16, c_out=32, h=28, w=28, k_h=3, k_w=3, stride=1, padding=1,
                groups=1)
    dw = dict(batch=1, c_in=32, c_out=32, h=28, w=28, k_h=3, k_w=3, stride=1, padding=1,
              groups=32)
    return pd.DataFrame([
        _op(0, "conv2d", 2 * 9 * 16 * 32 * 28 * 28, **conv),
        _op(1, "relu"),
        _op(2, "view", bytes_in=0, bytes_out=0),
        _op(3, "dwconv", 2 * 9 * 32 * 28 * 28, **dw),
        _op(4, "batchnorm"),
        _op(5, "attention", 2 * 2 * (10 * 32 * 32 + 2 * 10 * 32 * 32) + 2 * 2 * 2 * 10 * 10 * 32
            + 2 * 2 * 10 * 32 * 32, batch=2, heads=4, seq=10, seq_k=10, embed=32),
        _op(6, "linear", 2 * 4 * 64 * 10, batch=4, c_in=64, c_out=10, h=1, w=1, k_h=1, k_w=1,
            stride=1, padding=0, groups=1),
    ])


def test_linear_cost_recovers_known_parameters():
    rng = np.random.default_rng(0)
    nbytes, flops = rng.uniform(1e4, 1e8, 60), rng.uniform(1e5, 1e9, 60)
    t = 0.004 + 0.05 * nbytes / 1e6 + 2.0 * flops / 1e9
    fit = fit_linear_cost(nbytes, flops, t, use_flops=True)
    assert (fit.c0_ms, fit.ms_per_mb, fit.ms_per_gflop) == pytest.approx((0.004, 0.05, 2.0),
                                                                        rel=1e-6)
    assert fit.mape_pct < 1e-6 and fit.bandwidth_gbs == pytest.approx(20.0)
    assert kfold_mape(nbytes, flops, t, use_flops=True) < 1e-6
    noisy = t * np.exp(rng.normal(0, 0.05, len(t)))
    assert 2 < kfold_mape(nbytes, flops, noisy, use_flops=True) < 10
    assert kfold_mape(nbytes[:5], flops[:5], t[:5]) is None  # too few rows for 5 folds
    never_negative = fit_linear_cost([1e6, 2e6, 3e6], [0, 0, 0], [3.0, 2.0, 1.0])
    assert never_negative.c0_ms >= 0 and never_negative.ms_per_mb >= 0


def test_fit_op_costs_per_kind_and_default():
    rng = np.random.default_rng(1)
    rows = []
    truth = {"relu": (0.003, 0.04), "add": (0.004, 0.06), "gelu": (0.02, 0.25)}
    for kind, (c0, per_mb) in truth.items():
        for nbytes in rng.uniform(1e4, 5e7, 20):
            rows.append({"kind": kind, "bytes_moved": nbytes, "flops": 0.0,
                         "time_ms": c0 + per_mb * nbytes / 1e6})
    costs = fit_op_costs(pd.DataFrame(rows))
    assert list(costs) == ["add", "default", "gelu", "relu"]
    assert costs["gelu"].c0_ms == pytest.approx(0.02) and costs["gelu"].ms_per_gflop == 0
    assert costs["relu"].kfold_mape_pct < 1e-6
    # default pools relu and add (streaming kinds), not gelu
    assert 0.04 <= costs["default"].ms_per_mb <= 0.06


def test_grouped_rows_kinds_and_bytes():
    frame = pd.DataFrame([
        {"sweep": "depthwise_conv", "op": "conv2d", "batch": 1, "c_in": 32, "c_out": 32, "h": 14,
         "w": 14, "k_h": 3, "k_w": 3, "stride": 1, "padding": 1, "groups": 32,
         "dtype": "float32", "flops": 2 * 9 * 32 * 14 * 14, "time_ms": 0.1},
        {"sweep": "grouped_conv", "op": "conv2d", "batch": 1, "c_in": 32, "c_out": 32, "h": 14,
         "w": 14, "k_h": 3, "k_w": 3, "stride": 1, "padding": 1, "groups": 4,
         "dtype": "float32", "flops": 2 * 9 * 8 * 32 * 14 * 14, "time_ms": 0.2},
        {"sweep": "increasing_cin", "op": "conv2d", "batch": 1, "c_in": 32, "c_out": 32,
         "h": 14, "w": 14, "k_h": 3, "k_w": 3, "stride": 1, "padding": 1, "groups": 1,
         "dtype": "float32", "flops": 2 * 9 * 32 * 32 * 14 * 14, "time_ms": 0.3}])
    rows = grouped_rows(frame)
    assert list(rows["kind"]) == ["dwconv", "gconv"]
    assert rows["bytes_moved"].iloc[0] == 4 * (32 * 196 + 32 * 9 + 32 * 196)


def test_reading_the_device_model():
    assert device_time_model(PARAMS) == "alpha_fit"
    assert device_time_model({**PARAMS, "recommended_model": "flops"}) == "flops"
    assert device_time_model({}) is None
    assert fitted_params(PARAMS, "alpha_fit")["sk_slope"] == 1.0  # the model's fixed value
    assert fitted_params(PARAMS, "roofline") is None


def test_matmul_rows_add_up_to_each_ops_flops():
    ops = _ops()
    rows = matmul_rows(ops)
    sums = rows.groupby("index")["flops"].sum()
    for i in (0, 3, 5, 6):
        assert sums[i] == pytest.approx(ops.loc[ops["index"] == i, "flops"].iloc[0])
    assert list(rows[rows["index"] == 5]["part"]) == ["qkv", "qk", "pv", "out"]
    assert rows[rows["index"] == 3]["groups"].iloc[0] == 32
    assert [component_of(k) for k in ops["kind"]] == [
        "dense", "other", "free", "grouped", "other", "dense", "dense"]


def test_predict_ops_components_and_totals():
    ops = _ops()
    pred = predict_ops(ops, PARAMS, COSTS)
    assert {"ms_flops", "ms_alpha_fit", "ms_combo"} <= set(pred.columns)
    assert "ms_roofline" not in pred  # skipped in the fit
    flops_ms = 20.0 * ops["flops"].sum() / 1e9
    assert pred["ms_flops"].sum() == pytest.approx(flops_ms)
    assert pred.loc[2, "ms_combo"] == 0  # a view is free
    # relu: its own cost; batch norm: no cost of its own, the default
    assert pred.loc[1, "other_ms"] == pytest.approx(0.001 + 0.05 * 8000 / 1e6)
    assert pred.loc[4, "other_ms"] == pytest.approx(0.002 + 0.1 * 8000 / 1e6)
    assert pred.loc[3, "grouped_ms"] == pytest.approx(
        0.01 + 0.3 * 8000 / 1e6 + 5.0 * ops.loc[3, "flops"] / 1e9)
    # attention: its matrix products (dense) plus the softmax of B·heads·L² scores (other)
    assert pred.loc[5, "other_ms"] == pytest.approx(0.004 + 0.2 * 2 * 2 * 4 * 10 * 10 * 4 / 1e6)
    totals = network_totals(pred, NetCorrection(2.0, 1.0, 1.0, 0.5))
    assert totals["n_ops"] == 6
    assert totals["ms_combo"] == pytest.approx(totals["dense_ms"] + totals["grouped_ms"]
                                               + totals["other_ms"])
    assert totals["ms_combo_corrected"] == pytest.approx(
        2 * totals["dense_ms"] + totals["grouped_ms"] + totals["other_ms"] + 0.5 * 6)
    per_op = corrected_ops(pred, NetCorrection(2.0, 1.0, 1.0, 0.5))
    assert per_op.sum() == pytest.approx(totals["ms_combo_corrected"]) and per_op[2] == 0
    # without op costs: no combination, the models alone still predict
    alone = predict_ops(ops, PARAMS, None)
    assert alone["ms_combo"].isna().all() and alone["ms_flops"].sum() == pytest.approx(flops_ms)
    # bfloat16 halves the bytes the costs see
    bf16 = predict_ops(ops, {**PARAMS, "data": {"dtypes": ["bfloat16"]}}, COSTS)
    assert bf16.loc[1, "bytes_moved"] == 4000


def test_net_correction_fit_and_lono_recover_truth():
    rng = np.random.default_rng(3)
    parts = pd.DataFrame({"dense_ms": rng.uniform(5, 500, 12),
                          "grouped_ms": rng.uniform(0, 50, 12),
                          "other_ms": rng.uniform(1, 80, 12),
                          "n_ops": rng.integers(50, 900, 12).astype(float)})
    truth = NetCorrection(1.2, 2.0, 1.5, 0.01)
    measured = truth.apply(*(parts[c] for c in parts.columns))
    fit = fit_net_correction(parts, measured)
    assert (fit.a_dense, fit.a_grouped, fit.a_other, fit.c_op_ms) == pytest.approx(
        (1.2, 2.0, 1.5, 0.01), rel=1e-6)
    rest = parts["grouped_ms"] + parts["other_ms"]
    only = fit_net_correction(parts, 2 * parts["dense_ms"] + rest, terms=("a_dense",))
    assert only.a_dense == pytest.approx(2.0) and only.a_grouped == 1.0 and only.c_op_ms == 0
    nets = [f"n{i // 2}" for i in range(12)]  # two batches per network
    assert np.allclose(lono_predictions(parts, measured, nets), measured)
    two = lono_predictions(parts.iloc[:4], measured[:4], nets[:4])
    assert np.isnan(two).all()  # one other network is not enough


def _device_predictions(measured_scale: float = 1.3):
    """Three networks on a synthetic device, measured = 1.3 × the combination + 0.01 ms/op."""
    ops = _ops()
    tables = {}
    for i, name in enumerate(("a", "b", "c", "d")):
        scaled = ops.copy()
        scaled[["flops", "bytes_in", "bytes_out"]] *= (i + 1)
        tables[name] = {"1x3x8x8": scaled}
    frames = []
    for name, op_tables in tables.items():
        pred = predict_ops(op_tables["1x3x8x8"], PARAMS, COSTS)
        t = network_totals(pred)
        measured = pd.DataFrame([{"network": name, "input_shape": "1x3x8x8", "batch": 1,
                                  "threads": 1, "dtype": "float32",
                                  "time_ms": measured_scale * t["ms_combo"] + 0.01 * t["n_ops"],
                                  "time_ms_iqr": 0.1, "runs": 5, "energy_j": None}])
        rows, per_op = prediction_rows(name, op_tables, {
            "dev": {"params": PARAMS, "op_costs": COSTS, "measured": measured},
            "other": {"params": PARAMS, "op_costs": None, "measured": None}})
        frames.append(rows)
        assert per_op[per_op["device_id"] == "dev"]["share"].sum() == pytest.approx(1.0)
    return pd.concat(frames, ignore_index=True)


def test_validate_device_and_cost_model():
    predictions = _device_predictions()
    table, facts = validate_device(predictions, "dev", PARAMS)
    assert facts["networks"] == 4 and facts["recommended"] == "combo_lono"
    # the truth is in the correction's form: leave-one-network-out recovers it exactly
    assert facts["mape_pct"]["combo_lono"] == pytest.approx(0, abs=1e-6)
    assert facts["mape_pct"][COMBO] > 20
    assert facts["correction"]["a_dense"] == pytest.approx(1.3, rel=1e-6)
    assert facts["target"]["met"]
    doc = cost_model("dev", PARAMS, {"costs": {k: c.to_dict() for k, c in COSTS.items()}},
                     facts)
    assert doc["time_model"] == "alpha_fit" and doc["time_model_loso_mape_pct"] == 12.0
    assert doc["validated"]["mape_pct"] == pytest.approx(0, abs=1e-6) and not doc["note"]
    empty, none = validate_device(predictions, "other", PARAMS)
    assert empty.empty and none == {"networks": 0}
    unvalidated = cost_model("other", PARAMS, None, none)
    assert unvalidated["validated"] is None and "no op sweep" in unvalidated["note"]
    assert unvalidated["correction"] == NetCorrection().to_dict()


def test_two_measured_networks_leave_the_correction_neutral():
    """Leave-one-network-out needs 2 other networks: with 2 measured, no correction is fitted,
    so the cost model holds what its note says (neutral), not an unvalidated in-sample fit."""
    predictions = _device_predictions()
    two = predictions[predictions["network"].isin(["a", "b"])]
    _, facts = validate_device(two, "dev", PARAMS)
    assert facts["networks"] == 2 and "correction" not in facts
    doc = cost_model("dev", PARAMS, {"costs": {k: c.to_dict() for k, c in COSTS.items()}},
                     facts)
    assert doc["correction"] == NetCorrection().to_dict() and "neutral" in doc["note"]
