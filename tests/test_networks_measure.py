"""Measuring without a GPU: whole networks with the sweep harness (fp32 and bf16, NVML energy
through a stand-in counter), the op sweep family and its resumable runner."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
import torch.nn as nn

from greenflops.io.tables import read_table
from greenflops.networks.measure import NETWORK_COLUMNS, network_rows
from greenflops.networks.ops import (
    OP_BUILDERS,
    OP_COLUMNS,
    OP_KEY,
    OP_KIND,
    op_call,
    op_points,
    time_op_point,
)
from greenflops.timing import harness
from greenflops.timing.grids import SweepConfigError
from greenflops.timing.harness import TimingSettings
from greenflops.timing.runner import RowContract, run_sweep

ROOT = Path(__file__).resolve().parents[1]
QUICK = TimingSettings(min_run_time=0.002, max_run_time=0.01, threshold=0.5, energy=False)


def _tiny() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, 2)).eval()


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_network_rows_cpu(dtype):
    settings = TimingSettings(**{**QUICK.__dict__, "dtype": dtype})
    rows = network_rows("tiny", _tiny(), [(1, 3, 8, 8), (2, 3, 8, 8)], torch.device("cpu"),
                        settings)
    assert tuple(rows.columns) == NETWORK_COLUMNS
    assert list(rows["input_shape"]) == ["1x3x8x8", "2x3x8x8"] and list(rows["batch"]) == [1, 2]
    assert (rows["time_ms"] > 0).all() and (rows["dtype"] == dtype).all()
    assert rows["energy_j"].isna().all()  # no NVML on a CPU


def test_energy_per_forward_pass_from_the_counter(monkeypatch):
    """The GPU path's energy arithmetic, with a stand-in for NVML's millijoule counter that
    advances 5 mJ per forward pass."""
    calls = [0]
    module = _tiny()
    forward = module.forward

    def counted(x):
        calls[0] += 1
        return forward(x)

    module.forward = counted
    monkeypatch.setattr(harness, "energy_mj", lambda handle: 5.0 * calls[0])
    rows = network_rows("tiny", module, [(1, 3, 8, 8)], torch.device("cpu"), QUICK,
                        energy_handle=object())
    assert rows["energy_j"].iloc[0] == pytest.approx(0.005)


def test_every_op_builds_runs_and_is_counted():
    from greenflops.networks.graph import capture_fn

    assert set(OP_BUILDERS) == set(OP_KIND)
    for op in sorted(OP_BUILDERS):
        call = op_call({"op": op, "batch": 1, "c": 16, "hw": 8}, torch.device("cpu"),
                       torch.float32)
        with torch.inference_mode():
            call()
        records = [r for r in capture_fn(call) if not r.free]
        assert records and all(r.flops == 0 for r in records), op
        assert OP_KIND[op] in {r.kind for r in records}, op


def test_inplace_ops_do_not_drift_to_denormals():
    call = op_call({"op": "silu_", "batch": 1, "c": 4, "hw": 4}, torch.device("cpu"),
                   torch.float32)
    for _ in range(300):
        out = call()
    assert out.abs().min() > 1.0  # silu applied 300 times to a number near 0 would be ~1e-90


def test_op_points_cap_and_errors():
    pts = op_points("o", {"op": ["add", "relu_"], "c": [16, 1024], "hw": [112],
                          "max_elements": 2**20})
    assert {p["c"] for p in pts} == {16} and {p["kind"] for p in pts} == {"add", "relu"}
    with pytest.raises(SweepConfigError, match="op sweep 'o'.op"):
        op_points("o", {"op": ["nope"], "c": [1], "hw": [1]})
    with pytest.raises(SweepConfigError, match="unknown key"):
        op_points("o", {"op": ["add"], "c": [1], "hw": [1], "k": [3]})


def test_op_sweep_runs_resumes_and_validates(tmp_path):
    points = op_points("op_sweep", {"op": ["relu_", "maxpool"], "c": [8], "hw": [8, 16]})
    contract = RowContract(OP_COLUMNS, OP_KEY, time_op_point,
                           lambda p: f"{p['op']} {p['hw']}")
    csv, meta = tmp_path / "ops" / "op_sweep.csv", tmp_path / "ops" / "op_sweep.meta.yaml"
    seen = []
    out = run_sweep(points, csv, meta, torch.device("cpu"), QUICK,
                    schema_path=ROOT / "workflow/schemas/op_timings.schema.yaml",
                    contract=contract, on_point=lambda i, n: seen.append(i))
    assert out["measured"] == 4 and seen == [1, 2, 3, 4]
    frame = read_table(csv, ROOT / "workflow/schemas/op_timings.schema.yaml")
    assert tuple(frame.columns) == OP_COLUMNS and (frame["bytes_moved"] > 0).all()
    relu = frame[(frame["op"] == "relu_") & (frame["hw"] == 8)].iloc[0]
    assert relu["bytes_moved"] == 2 * 8 * 8 * 8 * 4  # in place: read and written
    # a rerun with the partial file of the first two points measures only the others
    partial = csv.with_name("op_sweep.partial.jsonl")
    import json

    partial.write_text("".join(json.dumps({"key": list(contract.key(p)), "row": r},
                                          sort_keys=True) + "\n"
                               for p, r in zip(points[:2],
                                               pd.read_csv(csv).to_dict("records")[:2])))
    again = run_sweep(points, csv, meta, torch.device("cpu"), QUICK, contract=contract)
    assert again["resumed_points"] == 2 and again["measured"] == 4
