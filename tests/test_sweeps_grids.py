"""Sweep grids: exact FLOPs where the paper says FLOPs are equal, shapes of every family."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from greenflops.flops import conv2d_flops, dense_flops
from greenflops.timing.contract import CONFIG_COLUMNS
from greenflops.timing.grids import FAMILIES, SweepConfigError, axis_values, near_square, sweep_points

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def config() -> dict:
    with open(ROOT / "workflow" / "resources" / "sweeps.yaml", encoding="utf-8") as handle:
        return {"sweeps": yaml.safe_load(handle)}


@pytest.fixture(scope="module")
def paper(config) -> dict:
    return config["sweeps"]["profiles"]["paper"]["grids"]


def test_every_family_in_both_profiles(config):
    for profile in ("quick", "paper"):
        assert set(config["sweeps"]["profiles"][profile]["grids"]) == set(FAMILIES)


def test_fig1a_configurations_are_327_68_mflops(paper):
    points = sweep_points("dense_vs_conv", paper["dense_vs_conv"])
    at_12800 = [p for p in points if p["flops"] == 327_680_000]
    shapes = {(p["op"], p["w"], p["h"], p["c_in"], p["c_out"]) for p in at_12800}
    # The paper's Table 1a, as (op, W, H, C_in, C_out).
    assert shapes == {
        ("linear", 1, 1, 12800, 12800),
        ("conv2d", 1, 1, 12800, 12800),
        ("conv2d", 1, 2, 6400, 12800),
        ("conv2d", 2, 2, 6400, 6400),
        ("conv2d", 4, 4, 3200, 3200),
    }
    assert all(p["k_h"] == p["k_w"] == 1 for p in at_12800)


def test_dense_vs_conv_equal_flops_per_dimension(paper):
    points = sweep_points("dense_vs_conv", paper["dense_vs_conv"])
    assert len(points) == 8 * 5
    by_d = defaultdict(set)
    for p in points:
        by_d[p["flops"]].add(p["op"])
    # Eight FLOPs levels 2·(100·2^x)², each with the dense layer and four convolutions.
    assert sorted(by_d) == [2 * (100 * 2**x) ** 2 for x in range(8)]
    assert all(ops == {"linear", "conv2d"} for ops in by_d.values())
    assert all(sum(p["flops"] == f for p in points) == 5 for f in by_d)


@pytest.mark.parametrize("sweep,tol", [("k_vs_channels", 0.035), ("k_vs_spatial", 0.05)])
def test_k_sweeps_equal_flops_within_rounding(paper, sweep, tol):
    """Points of one budget have 2·M FLOPs up to the rounding of integer shapes (tolerance)."""
    grid = paper[sweep]
    points = sweep_points(sweep, grid)
    ks = axis_values(grid["k"], "k")
    assert ks == list(range(1, 31))
    assert len(points) == len(ks) * len(grid["budgets_macs"])
    for b, macs in enumerate(grid["budgets_macs"]):
        line = points[b * len(ks):(b + 1) * len(ks)]
        assert [p["k_h"] for p in line] == ks
        flops = [p["flops"] for p in line]
        assert max(flops) / min(flops) <= (1 + tol) / (1 - tol)
        assert all(abs(f / (2 * macs) - 1) <= tol for f in flops), (sweep, macs)


def test_k_vs_channels_shapes(paper):
    points = sweep_points("k_vs_channels", paper["k_vs_channels"])
    assert all((p["h"], p["w"]) == (10, 10) and p["c_in"] == p["c_out"] for p in points)
    first = {p["c_in"] for p in points if p["k_h"] == 1}
    assert first == {4500, 3000, 2214, 1500}  # C·K = sqrt(M / 100)


def test_k_vs_spatial_shapes(paper):
    points = sweep_points("k_vs_spatial", paper["k_vs_spatial"])
    assert {p["c_in"] for p in points} == {150, 100, 74, 50}
    k1 = [p for p in points if p["k_h"] == 1]
    assert all((p["h"], p["w"]) == (300, 300) for p in k1)
    k30 = [p for p in points if p["k_h"] == 30]
    assert all((p["h"], p["w"]) == (10, 10) for p in k30)
    # Channels constant within a budget line.
    for c in (150, 100, 74, 50):
        assert sum(p["c_in"] == c for p in points) == 30


def test_conv_flops_use_same_padding():
    for p in sweep_points("k_vs_spatial", {"k": [2, 3, 4], "size_at_k1": 60,
                                           "budgets_macs": [1e6]}):
        assert p["padding"] == (p["k_h"] - 1) // 2
        assert p["flops"] == conv2d_flops(p["c_in"], p["c_out"], p["h"], p["w"], p["k_h"],
                                          padding="same")


def test_cross_families_axes(paper):
    w = sweep_points("increasing_w", paper["increasing_w"])
    assert len(w) == 3 * 20 and {p["h"] for p in w} == {100} and {p["k_h"] for p in w} == {3}
    cin = sweep_points("increasing_cin", paper["increasing_cin"])
    assert {p["k_h"] for p in cin} == {1, 3, 5} and {p["c_out"] for p in cin} == {1000}
    k1 = sweep_points("increasing_cout_k1", paper["increasing_cout_k1"])
    assert {p["c_in"] for p in k1} == {50} and all(p["h"] == p["w"] for p in k1)
    batch = sweep_points("dense_batch", paper["dense_batch"])
    assert len(batch) == 3 * 64
    for p in batch:
        assert p["op"] == "linear" and p["flops"] == dense_flops(p["c_in"], p["c_out"], p["batch"])
    assert {32, 33} <= {p["batch"] for p in batch}


def test_points_have_contract_columns(config):
    for profile in ("quick", "paper"):
        for name, grid in config["sweeps"]["profiles"][profile]["grids"].items():
            for p in sweep_points(name, grid, "bfloat16"):
                assert tuple(p) == CONFIG_COLUMNS
                assert p["dtype"] == "bfloat16" and p["sweep"] == name


def test_family_key_allows_second_grid():
    points = sweep_points("dense_small", {"family": "dense_batch", "d": [8], "batch": [1, 2]})
    assert [(p["sweep"], p["batch"]) for p in points] == [("dense_small", 1), ("dense_small", 2)]


@pytest.mark.parametrize("area", [1, 2, 3, 90000 / 49, 114.8, 107.0, 5000.5])
def test_near_square(area):
    h, w = near_square(area)
    assert w - h in (0, 1)
    best = min(abs(a * b - area) for a in range(1, 200) for b in (a, a + 1))
    assert abs(h * w - area) == pytest.approx(best)


def test_axis_values_forms():
    assert axis_values({"from": 10, "to": 30, "step": 10}, "x") == [10, 20, 30]
    assert axis_values(7, "x") == [7]
    with pytest.raises(SweepConfigError, match="x"):
        axis_values([1, 1], "x")
    with pytest.raises(SweepConfigError, match="from, to"):
        axis_values({"start": 1}, "x")


def test_bad_grid_names_the_key():
    with pytest.raises(SweepConfigError, match="unknown key"):
        sweep_points("increasing_w", {"c_in": [1], "h": 1, "c_out": 1, "k": 1, "w": 1, "x": 2})
    with pytest.raises(SweepConfigError, match="unknown family"):
        sweep_points("nonsense", {})
    with pytest.raises(SweepConfigError, match="not divisible"):
        sweep_points("dense_vs_conv", {"base": 10, "exponents": [0], "spatial": [[3, 3]]})


def test_quick_is_thinner_than_paper(config):
    profiles = config["sweeps"]["profiles"]
    quick = sum(len(sweep_points(n, g)) for n, g in profiles["quick"]["grids"].items())
    paper = sum(len(sweep_points(n, g)) for n, g in profiles["paper"]["grids"].items())
    assert quick * 4 < paper
    assert math.isclose(profiles["quick"]["timing"]["min_run_time"], 0.02)
