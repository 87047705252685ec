"""α-FLOPs formulas (Asperti et al. 2021, eq. 5/6) against hand-computed values and the properties
of Section 5.1; layer features; the time models' shapes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from greenflops.alpha.features import features_from_frame
from greenflops.alpha.formula import (
    PAPER_T2000,
    alpha_factor,
    alpha_flops,
    channel_efficiency,
    kernel_class,
    predicted_time_ms,
    roofline_time_ms,
    s_k,
    smooth_max,
)
from greenflops.alpha.models import MODEL_NAMES, get_model, is_alpha_family
from greenflops.flops import conv2d_flops, dense_flops


def test_alpha_hand_computed():
    # (0.98 * 1/16 + 0.02) ** 0.99 = 0.08125 ** 0.99 = exp(0.99 * ln 0.08125)
    assert alpha_factor(16, 0.02, 0.99, 1.0) == pytest.approx(math.exp(0.99 * math.log(0.08125)))
    assert alpha_factor(16, 0.02, 0.99, 1.0) == pytest.approx(0.083315, abs=1e-6)
    # K = 3x3, S_K = 1 + ln 9 = 3.1972, S = 100, beta = 0.001, gamma = 0.56
    sk = 1 + math.log(9)
    expected = ((1 - 0.001) * sk / 100 + 0.001) ** 0.56
    assert alpha_factor(100, 0.001, 0.56, sk) == pytest.approx(expected)
    assert expected == pytest.approx(0.14789, abs=1e-5)


def test_eq5_equals_eq6():
    s, beta, gamma, sk = 37.0, 0.07, 0.8, 2.5
    eq5 = ((sk + beta * (s - sk)) / s) ** gamma
    assert alpha_factor(s, beta, gamma, sk) == pytest.approx(eq5)


@pytest.mark.parametrize("beta,gamma", [(0.02, 0.99), (0.001, 0.56), (0.5, 0.1)])
def test_alpha_1_of_1_is_one(beta, gamma):
    assert alpha_factor(1, beta, gamma, s_k(1)) == pytest.approx(1.0)


@pytest.mark.parametrize("s,gamma", [(1, 0.3), (100, 0.56), (1e6, 1.0)])
def test_beta_one_recovers_flops(s, gamma):
    assert alpha_factor(s, 1.0, gamma, 2.0) == pytest.approx(1.0)


def test_alpha_below_one_decreasing_and_limit():
    s = np.array([2.0, 10.0, 100.0, 1e4, 1e9])
    a = alpha_factor(s, 0.02, 0.9, 1.0)
    assert np.all(a < 1)
    assert np.all(np.diff(a) < 0)
    assert a[-1] == pytest.approx(0.02**0.9, rel=1e-6)


def test_s_k():
    assert s_k(1) == 1.0
    assert s_k(9) == pytest.approx(1 + math.log(9))
    assert s_k(25, slope=2.0) == pytest.approx(1 + 2 * math.log(25))
    with pytest.raises(ValueError):
        s_k(0)


def test_kernel_class_and_family():
    assert kernel_class(1) == "k1"
    assert list(kernel_class(np.array([1, 9, 25]))) == ["k1", "kn", "kn"]
    assert [m for m in MODEL_NAMES if is_alpha_family(m)] == [
        "alpha_paper", "alpha_fit", "alpha_fit_sk", "alpha_overhead", "alpha_ext", "alpha_ext_mem",
        "alpha_roofline", "alpha_floor"]
    assert "roofline_fit" in MODEL_NAMES and not is_alpha_family("roofline_fit")


def test_alpha_flops_uses_paper_params_by_default():
    flops = 327.68e6
    b1, g1 = PAPER_T2000["k1"]
    # Dense layer / 1x1 conv on a 1x1 input: no correction (alpha_1(1) = 1).
    assert alpha_flops(flops, 1, 1) == pytest.approx(flops)
    # The paper's config (4): 4x4 input, K = 1.
    assert alpha_flops(flops, 16, 1) == pytest.approx(flops * ((1 - b1) / 16 + b1) ** g1)
    bn, gn = PAPER_T2000["kn"]
    assert alpha_flops(1e9, 100, 9) == pytest.approx(
        1e9 * ((1 - bn) * (1 + math.log(9)) / 100 + bn) ** gn)


def test_predicted_time():
    # 0.0375 ms per million multiply-adds = 0.01875 ms per MFLOP = 18.75 ms per GFLOP.
    t = predicted_time_ms(327.68e6, 1, 1, scale_ms_per_gflop=18.75)
    assert t == pytest.approx(6.144)
    assert predicted_time_ms(327.68e6, 1, 1, 18.75, overhead_ms=0.5) == pytest.approx(6.644)


def test_channel_efficiency_and_roofline():
    assert channel_efficiency(100, 50, 0.0, 0.0) == 1.0
    assert channel_efficiency(100, 50, 100.0, 50.0) == pytest.approx(4.0)
    # 2 GFLOPs at 100 GFLOP/s = 20 ms; 1 GB at 10 GB/s = 100 ms -> memory bound.
    assert roofline_time_ms(2e9, 1e9, 100, 10) == pytest.approx(100.0)
    assert roofline_time_ms(2e9, 1e6, 100, 10) == pytest.approx(20.0)


def _row(**kw):
    base = dict(sweep="s", op="conv2d", batch=2, c_in=3, c_out=8, h=10, w=12, k_h=3, k_w=3,
                stride=1, padding=1, dtype="float32", time_ms=1.0)
    base.update(kw)
    if base["op"] == "linear":
        base["flops"] = dense_flops(base["c_in"], base["c_out"], base["batch"])
    else:
        base["flops"] = conv2d_flops(base["c_in"], base["c_out"], base["h"], base["w"],
                                     base["k_h"], base["k_w"], base["stride"], base["padding"],
                                     base["batch"])
    return base


def test_features_from_frame():
    frame = pd.DataFrame([_row(), _row(op="linear", batch=5, h=1, w=1, k_h=1, k_w=1, padding=0),
                          _row(stride=2, padding=0, dtype="float16")])
    x = features_from_frame(frame)
    assert list(x.s) == [2 * 10 * 12, 5, 2 * 4 * 5]
    assert list(x.k_area) == [9, 1, 9]
    # float32: input 2*3*10*12 + weights 8*3*9 + output 2*8*10*12 elements, 4 bytes each
    assert x.bytes_moved[0] == 4 * (720 + 216 + 1920)
    assert x.bytes_moved[2] == 2 * (720 + 216 + 2 * 8 * 4 * 5)
    # "same" output for an even kernel: the FLOPs say 10x12 outputs, and S follows them
    even = _row(k_h=2, k_w=2, padding=0)
    even["flops"] = 2 * 4 * 3 * 8 * 10 * 12 * 2
    assert features_from_frame(pd.DataFrame([even])).s[0] == 2 * 10 * 12


def test_models_nest():
    """alpha_ext with neutral channel terms equals alpha_overhead equals alpha_fit_sk at
    overhead 0."""
    frame = pd.DataFrame([_row(), _row(k_h=1, k_w=1, padding=0, h=40, w=40)])
    x = features_from_frame(frame)
    p = dict(beta_k1=0.1, gamma_k1=0.9, beta_kn=0.05, gamma_kn=0.6, sk_slope=1.3,
             scale_ms_per_gflop=3.0)
    a = get_model("alpha_fit_sk").predict(p, x)
    b = get_model("alpha_overhead").predict({**p, "overhead_ms": 0.0}, x)
    c = get_model("alpha_ext").predict({**p, "overhead_ms": 0.0, "c_red_half": 0.0,
                                        "c_out_half": 0.0}, x)
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(a, c)
    d = get_model("alpha_ext_mem").predict({**p, "overhead_ms": 0.0, "c_red_half": 0.0,
                                            "c_out_half": 0.0, "ms_per_gb": 2.0}, x)
    np.testing.assert_allclose(d, a + 2.0 * x.bytes_moved / 1e9)
    paper = get_model("alpha_paper").predict({"scale_ms_per_gflop": 3.0}, x)
    np.testing.assert_allclose(paper, 3.0 * alpha_flops(x.flops, x.s, x.k_area) / 1e9)
    with pytest.raises(ValueError, match="unknown model"):
        get_model("nope")


def test_roofline_fit_hand_computed():
    # Dense 1000x1000, batch 1, float32: 2e6 FLOPs; bytes 4 * (1000 + 1e6 + 1000) = 4.008e6.
    frame = pd.DataFrame([_row(op="linear", batch=1, c_in=1000, c_out=1000, h=1, w=1, k_h=1,
                               k_w=1, padding=0)])
    x = features_from_frame(frame)
    assert x.flops[0] == 2e6 and x.bytes_moved[0] == 4.008e6
    # P = 100 GFLOP/s (10 ms/GFLOP): compute 0.02 ms; W = 10 GB/s (100 ms/GB): memory 0.4008 ms.
    p = {"overhead_ms": 0.01, "scale_ms_per_gflop": 10.0, "ms_per_gb": 100.0}
    assert get_model("roofline_fit").predict(p, x)[0] == pytest.approx(0.01 + 0.4008)
    # A fast memory (1 ms/GB = 1000 GB/s): 0.004008 ms < 0.02 ms, compute bound.
    assert get_model("roofline_fit").predict({**p, "ms_per_gb": 1.0}, x)[0] == pytest.approx(0.03)
    # With c0 = 0 it is the fixed roofline at P = 1000 / scale, W = 1000 / ms_per_gb.
    np.testing.assert_allclose(
        get_model("roofline_fit").predict({**p, "overhead_ms": 0.0}, x),
        roofline_time_ms(x.flops, x.bytes_moved, 100.0, 10.0))


def test_alpha_floor_hand_computed():
    # the same 3x3 convolution (S = 256, K = 9): body = scale * alpha * FLOPs, then the floor
    frame = pd.DataFrame([_row(batch=1, c_in=64, c_out=64, h=16, w=16)])
    x = features_from_frame(frame)
    beta, gamma, flops = 0.05, 0.5, 2 * 9 * 64 * 64 * 256
    alpha = ((1 - beta) * (1 + math.log(9)) / 256 + beta) ** gamma
    body = 10.0 * alpha * flops / 1e9  # 0.0469 ms
    p = dict(beta_k1=0.2, gamma_k1=0.9, beta_kn=beta, gamma_kn=gamma, sk_slope=1.0,
             scale_ms_per_gflop=10.0, overhead_ms=0.02, q=2.0)
    model = get_model("alpha_floor")
    assert body == pytest.approx(0.0469, abs=1e-4)
    assert model.predict(p, x)[0] == pytest.approx(math.sqrt(0.02**2 + body**2))
    # q = 1: the floor adds, as alpha_overhead's overhead does
    np.testing.assert_allclose(model.predict({**p, "q": 1.0}, x),
                               get_model("alpha_overhead").predict(p, x))
    # large q: the larger of floor and work, whichever it is
    assert model.predict({**p, "q": 20.0}, x)[0] == pytest.approx(body, rel=0.01)
    assert model.predict({**p, "q": 20.0, "overhead_ms": 0.2}, x)[0] == pytest.approx(0.2, rel=0.01)
    assert smooth_max(1.0, np.array([1.0]), np.array([3.0]))[0] == 4.0
    assert smooth_max(2.0, np.array([3.0]), np.array([4.0]))[0] == pytest.approx(5.0)


def test_alpha_roofline_hand_computed():
    # 3x3 conv, 1 -> 1 channel... use c_in = c_out = 64 on 16x16, batch 1: S = 256, K = 9.
    frame = pd.DataFrame([_row(batch=1, c_in=64, c_out=64, h=16, w=16)])
    x = features_from_frame(frame)
    flops = 2 * 9 * 64 * 64 * 256
    assert x.flops[0] == flops and x.s[0] == 256
    beta, gamma = 0.05, 0.5
    alpha = ((1 - beta) * (1 + math.log(9)) / 256 + beta) ** gamma
    p = dict(beta_k1=0.2, gamma_k1=0.9, beta_kn=beta, gamma_kn=gamma, overhead_ms=0.002,
             scale_ms_per_gflop=10.0, ms_per_gb=1.0)
    compute = 10.0 * alpha * flops / 1e9
    memory = 1.0 * x.bytes_moved[0] / 1e9
    assert compute > memory
    assert get_model("alpha_roofline").predict(p, x)[0] == pytest.approx(0.002 + compute)
    slow = {**p, "ms_per_gb": 1e4}  # 0.1 GB/s: memory bound
    assert get_model("alpha_roofline").predict(slow, x)[0] == pytest.approx(
        0.002 + 1e4 * x.bytes_moved[0] / 1e9)
    # beta = 1 switches the alpha correction off: it is then roofline_fit.
    flat = {**p, "beta_k1": 1.0, "beta_kn": 1.0}
    np.testing.assert_allclose(get_model("alpha_roofline").predict(flat, x),
                               get_model("roofline_fit").predict(p, x))
