"""Energy side by side: the trends paper's FLOPs ÷ GFLOPS/W, predicted time × power, measured
joules; GPUs matched to Table 9 by name; missing values stay missing, with why."""

from __future__ import annotations

import pandas as pd
import pytest

from greenflops.networks.energy import energy_table, match_gpu, normalise
from greenflops.networks.validation import PREDICTION_COLUMNS

EFFICIENCY = pd.DataFrame([
    {"domain": "cv", "gpu": "Tesla V100", "precision": "FP32", "watts": 300.0,
     "gflops_per_watt": 50.0},
    {"domain": "cv", "gpu": "Tesla V100", "precision": "Mixed", "watts": 300.0,
     "gflops_per_watt": 120.0},
    {"domain": "cv", "gpu": "A100", "precision": "Mixed", "watts": 400.0,
     "gflops_per_watt": 130.0},
    {"domain": "nlp", "gpu": "A100", "precision": "Mixed", "watts": 400.0,
     "gflops_per_watt": 1.0},
])


def _pred(device, network="net", model="combo", predicted=10.0, energy=None, batch=1,
          gflops=4.0):
    return {"network": network, "device_id": device, "dtype": "float32",
            "input_shape": f"{batch}x3x8x8", "batch": batch, "gflops": gflops, "n_ops": 10,
            "model": model, "predicted_ms": predicted, "dense_ms": predicted / 2,
            "grouped_ms": 0.0, "other_ms": predicted / 2, "measured_ms": 12.0,
            "measured_iqr_ms": 0.1, "measured_energy_j": energy}


def test_normalise_and_match():
    assert normalise("NVIDIA A100-SXM4-40GB") == "a100"
    assert normalise("Tesla V100") == normalise("Tesla V100-PCIE-16GB") == "v100"
    assert match_gpu("NVIDIA A100-SXM4-80GB", EFFICIENCY, "Mixed")["gpu"] == "A100"
    assert match_gpu("NVIDIA A100", EFFICIENCY, "FP32") is None  # no FP32 row for the A100
    assert match_gpu("AMD EPYC", EFFICIENCY, "FP32") is None
    assert match_gpu("NVIDIA H200", EFFICIENCY, "Mixed") is None


def test_energy_three_ways_and_missing_values():
    predictions = pd.DataFrame([_pred("gpu"), _pred("cpu", predicted=100.0)],
                               columns=PREDICTION_COLUMNS)
    predictions.loc[0, "measured_energy_j"] = 1.5
    devices = {"gpu": {"name": "Tesla V100-SXM2-16GB", "device_type": "cuda",
                       "dtype": "float32"},
               "cpu": {"name": "AMD EPYC", "device_type": "cpu", "dtype": "float32"}}
    models = {"gpu": {"correction": {"a_dense": 2.0, "a_grouped": 1.0, "a_other": 1.0,
                                     "c_op_ms": 0.0}, "time_model": "alpha_fit"},
              "cpu": {"correction": None, "time_model": "alpha_fit"}}
    reference = [{"gpu": "Tesla V100", "precision": "FP32"},
                 {"gpu": "A100", "precision": "Mixed"}]
    table = energy_table(predictions, models, devices, EFFICIENCY, reference)
    gpu = table[table["device"] == "gpu"].iloc[0]
    assert gpu["j_trends"] == pytest.approx(4.0 / 50.0)  # (a) GFLOPs ÷ GFLOPS/W
    # (b) the corrected combination: 2·5 + 5 = 15 ms, × the V100's TDP, an estimate
    assert gpu["predicted_ms"] == pytest.approx(15.0)
    assert gpu["j_time_power"] == pytest.approx(15e-3 * 300)
    assert gpu["power_source"].startswith("TDP") and "estimate" in gpu["power_source"]
    assert gpu["measured_j"] == 1.5 and gpu["note"] == ""  # (c)
    cpu = table[table["device"] == "cpu"].iloc[0]
    assert pd.isna(cpu["j_trends"]) and pd.isna(cpu["j_time_power"])
    assert pd.isna(cpu["measured_j"])
    assert "not a GPU of Table 9" in cpu["note"] and "no known power" in cpu["note"]
    assert "not measured" in cpu["note"]
    # the V100 FP32 reference row is the device above: not listed twice; the A100 is
    refs = table[table["kind"] == "table9"]
    assert list(refs["device"]) == ["A100 Mixed"]
    assert refs["j_trends"].iloc[0] == pytest.approx(4.0 / 130.0)
    assert pd.isna(refs["j_time_power"].iloc[0]) and "no timing data" in refs["note"].iloc[0]


def test_power_limit_read_by_nvml_wins_over_tdp_and_per_image():
    predictions = pd.DataFrame([_pred("gpu", batch=8, gflops=32.0)], columns=PREDICTION_COLUMNS)
    devices = {"gpu": {"name": "NVIDIA A100-SXM4-40GB", "device_type": "cuda",
                       "dtype": "bfloat16", "power_limit_w": 250.0}}
    table = energy_table(predictions, {"gpu": {"correction": None}}, devices, EFFICIENCY, [])
    row = table.iloc[0]
    assert row["precision"] == "Mixed" and row["gpu"] == "A100"
    assert row["power_w"] == 250.0 and row["power_source"] == "power limit (NVML)"
    assert row["j_per_image_trends"] == pytest.approx(32.0 / 130.0 / 8)
    assert row["j_per_image_time_power"] == pytest.approx(10e-3 * 250 / 8)
