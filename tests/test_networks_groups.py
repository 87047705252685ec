"""Grouped and depthwise convolutions in the timing contract: FLOPs by hand, the optional
``groups`` column (absent means 1), S from the output size, the depthwise/grouped sweep
families, and the α fit leaving grouped rows to the networks stage."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from greenflops.alpha.features import features_from_frame, split_grouped
from greenflops.flops import conv2d_flops
from greenflops.io.tables import TableValidationError
from greenflops.timing.contract import COLUMN_DEFAULTS, KEY_COLUMNS, TIMING_COLUMNS, point_key
from greenflops.timing.datasets import expected_flops, read_timings, validate_datasets
from greenflops.timing.grids import FAMILIES, SweepConfigError, sweep_points

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "timings.schema.yaml"
DEVICE_SCHEMA = ROOT / "workflow" / "schemas" / "device.schema.yaml"


def test_grouped_flops_by_hand():
    # depthwise 96 channels, 3x3, 56x56 in, stride 1, pad 1: 2 * K² * 1 * C_out * H_out * W_out
    assert conv2d_flops(96, 96, 56, 56, 3, padding=1, groups=96) == 2 * 9 * 96 * 56 * 56
    # stride 2, k 5, pad 2 on 112: out 56; batch 8
    assert conv2d_flops(32, 32, 112, 112, 5, stride=2, padding=2, groups=32, batch=8) == (
        2 * 25 * 32 * 56 * 56 * 8)
    # RegNet-like grouped: 48 channels in groups of 8 (6 groups): C_in/groups = 8
    assert conv2d_flops(48, 48, 28, 28, 3, padding=1, groups=6) == 2 * 9 * 8 * 48 * 28 * 28
    assert conv2d_flops(48, 48, 28, 28, 3, padding=1) == 6 * conv2d_flops(
        48, 48, 28, 28, 3, padding=1, groups=6)
    with pytest.raises(ValueError, match="groups"):
        conv2d_flops(48, 48, 28, 28, 3, padding=1, groups=5)


def test_contract_groups_is_optional_with_default_one():
    assert "groups" in TIMING_COLUMNS and "groups" in KEY_COLUMNS
    assert COLUMN_DEFAULTS == {"groups": 1}
    point = {c: 1 for c in KEY_COLUMNS if c != "groups"}
    assert point_key(point) == point_key({**point, "groups": 1})


def test_every_committed_timing_file_still_valid():
    datasets = validate_datasets(ROOT / "data" / "raw" / "timings", SCHEMA, DEVICE_SCHEMA)
    assert datasets
    for entry in datasets.values():
        for csv in entry["sweeps"].values():
            frame = read_timings(csv, SCHEMA)
            assert (frame["groups"] >= 1).all()  # absent column read as 1


def _dw_row(groups: int = 96, flops: float | None = None) -> dict:
    row = {"sweep": "depthwise_conv", "op": "conv2d", "batch": 1, "c_in": 96, "c_out": 96,
           "h": 56, "w": 56, "k_h": 3, "k_w": 3, "stride": 1, "padding": 1, "groups": groups,
           "dtype": "float32", "time_ms": 0.5, "time_ms_iqr": 0.01, "runs": 10,
           "energy_j": None}
    row["flops"] = flops if flops is not None else 2 * 9 * (96 // groups) * 96 * 56 * 56
    return row


def test_expected_flops_and_validation_with_groups(tmp_path):
    assert expected_flops(_dw_row())[0] == 2 * 9 * 96 * 56 * 56
    path = tmp_path / "depthwise_conv.csv"
    pd.DataFrame([_dw_row()], columns=list(TIMING_COLUMNS)).to_csv(path, index=False)
    assert read_timings(path, SCHEMA)["groups"].tolist() == [96]
    # FLOPs of the dense conv: wrong for a depthwise row, named with its line and column
    bad = _dw_row(flops=2 * 9 * 96 * 96 * 56 * 56)
    pd.DataFrame([bad], columns=list(TIMING_COLUMNS)).to_csv(path, index=False)
    with pytest.raises(TableValidationError, match=r"line 2, column 'flops'"):
        read_timings(path, SCHEMA)
    pd.DataFrame([_dw_row(groups=5)], columns=list(TIMING_COLUMNS)).to_csv(path, index=False)
    with pytest.raises(TableValidationError, match=r"column 'groups'.*does not divide"):
        read_timings(path, SCHEMA)


def test_s_from_the_output_size_not_divided_by_groups():
    frame = pd.DataFrame([_dw_row(), _dw_row(groups=12), _dw_row(groups=1)])
    x = features_from_frame(frame)
    assert np.all(x.s == 56 * 56)  # the snapshot gave 3136 / 96 = 33 for the depthwise row
    assert list(x.c_red) == [9.0, 8 * 9.0, 96 * 9.0]
    # weight bytes C_out · C_in/groups · K
    expect = 4 * (96 * 56 * 56 + 96 * 1 * 9 + 96 * 56 * 56)
    assert x.bytes_moved[0] == expect
    dense, grouped = split_grouped(frame)
    assert len(dense) == 1 and list(grouped["groups"]) == [96, 12]


def test_depthwise_and_grouped_families():
    assert not FAMILIES["depthwise_conv"].paper and FAMILIES["depthwise_conv"].x == "h"
    pts = sweep_points("depthwise_conv", {"k": [3, 7], "c": [16, 64], "hw": [7, 56],
                                          "stride": [1, 2], "max_elements": 64 * 56 * 56 - 1})
    assert all(p["groups"] == p["c_in"] == p["c_out"] for p in pts)
    assert not any(p["c_in"] == 64 and p["h"] == 56 for p in pts)  # above the cap
    p = next(p for p in pts if p["k_h"] == 7 and p["stride"] == 2 and p["h"] == 7)
    h_out = (7 + 2 * 3 - 7) // 2 + 1
    assert p["padding"] == 3 and p["flops"] == 2 * p["c_in"] * h_out * h_out * 49
    assert all(p["flops"] == expected_flops(p)[0] for p in pts)
    grouped = sweep_points("g", {"family": "grouped_conv", "group_width": [8], "k": [3],
                                 "c": [48, 50], "hw": [14]})
    assert [p["c_in"] for p in grouped] == [48] and grouped[0]["groups"] == 6
    with pytest.raises(SweepConfigError, match="group_width"):
        sweep_points("grouped_conv", {"k": [3], "c": [48], "hw": [14]})
    with pytest.raises(SweepConfigError, match="no point"):
        sweep_points("depthwise_conv", {"k": [7], "c": [16], "hw": [3]})


def test_alpha_fit_leaves_grouped_rows_out(tmp_path):
    """A device folder with a depthwise sweep: the conv/dense models are fitted on the dense
    rows only, and params.yaml says why the grouped rows are not there."""
    from greenflops.alpha.features import GROUPED_NOTE

    assert "{n}" in GROUPED_NOTE and "networks" in GROUPED_NOTE
    src = ROOT / "tests" / "data" / "alpha" / "timings" / "synthetic-gpu-elsewhere"
    dest = tmp_path / "synthetic-gpu-elsewhere"
    shutil.copytree(src, dest)
    pd.DataFrame([_dw_row()], columns=list(TIMING_COLUMNS)).to_csv(
        dest / "depthwise_conv.csv", index=False)
    found = validate_datasets(tmp_path, SCHEMA, DEVICE_SCHEMA)
    assert "depthwise_conv" in found["synthetic-gpu-elsewhere"]["sweeps"]
