"""The GPU time-model family (greenflops.alpha.kernels, gpu_models): each formula against a
hand-computed case, analytic vs numeric Jacobians, recovery of known parameters."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from greenflops.alpha import kernels as K
from greenflops.alpha.device_facts import DeviceFacts, device_facts
from greenflops.alpha.features import features_from_frame
from greenflops.alpha.fitting import fit_model
from greenflops.alpha.gpu_models import log_jacobian
from greenflops.alpha.models import GPU_FAMILY, get_model

DEV = DeviceFacts("gpu", n_sm=4, peak_gflops=1000.0, bandwidth_gbs=100.0)


def _rows(shapes, op="conv2d", dtype="float32") -> pd.DataFrame:
    rows = []
    for i, (b, ci, co, h, w, k, s) in enumerate(shapes):
        rows.append({"sweep": f"s{i % 4}", "op": op, "batch": b, "c_in": ci, "c_out": co,
                     "h": h, "w": w, "k_h": k, "k_w": k, "stride": s,
                     "padding": (k - 1) // 2, "dtype": dtype})
    f = pd.DataFrame(rows)
    ho = (f.h + 2 * f.padding - f.k_h) // f.stride + 1
    wo = (f.w + 2 * f.padding - f.k_w) // f.stride + 1
    f["flops"] = 2 * f.batch * f.c_out * f.c_in * f.k_h * f.k_w * ho * wo
    return f


def _x(frame, device=DEV):
    return features_from_frame(frame, device)


def _synthetic(n=400, seed=1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shapes = []
    for _ in range(n):
        shapes.append((int(rng.choice([1, 8, 32])), int(2 ** rng.integers(3, 10)),
                       int(2 ** rng.integers(3, 10)), int(rng.choice([7, 14, 28, 56])),
                       int(rng.choice([7, 14, 28, 56])), int(rng.choice([1, 3, 5])),
                       int(rng.choice([1, 1, 2]))))
    return _rows(shapes).drop_duplicates().reset_index(drop=True)


# -- kernel features ------------------------------------------------------------------------


def test_ceil_tiles_waves():
    assert K.ceil_div(7, 2) == 4 and K.ceil_div(8, 2) == 4
    assert list(K.ceil_div(np.array([1, 128, 129]), 128)) == [1, 1, 2]
    # M = 300, N = 200, 128x64 tiles: 3 * 4 = 12 tiles; on 5 SMs 3 waves (a partial one is full)
    assert K.n_tiles(300, 200, 128, 64) == 12
    assert K.waves(np.array([12]), 5)[0] == 3 and K.waves(np.array([10]), 5)[0] == 2
    assert K.waves(np.array([12]), None)[0] == 12.0  # no SM count: no quantisation


def test_padded_macs_and_split_k():
    # M = N = 100, K = 64, 64x64 tiles: 4 tiles on 3 SMs -> 2 waves -> 6 slots of 64*64*64
    assert K.padded_macs(100, 100, 64, 64, 64, 1, 3) == 6 * 64 * 64 * 64
    # split-K 2: 8 tiles of depth 32 -> 3 waves -> 9 slots of 64*64*32
    assert K.padded_macs(100, 100, 64, 64, 64, 2, 3) == 9 * 64 * 64 * 32
    assert K.padded_macs(128, 128, 10, 64, 64, 1, 4) == 128 * 128 * 10  # full: M*N*K
    assert K.split_k_allowed(np.array([300]), 1)[0]
    assert not K.split_k_allowed(np.array([300]), 2)[0]  # 150 < MIN_SPLIT_DEPTH
    assert K.split_k_allowed(np.array([4096]), 16)[0]


def test_tile_inefficiency_and_winograd_padding():
    assert K.tile_inefficiency(128, 128, 16.0) == pytest.approx(1.0)
    # 32x32, h = 16: (1 + 16/16) / (1 + 32/128) = 1.6
    assert K.tile_inefficiency(32, 32, 16.0) == pytest.approx(1.6)
    # 7x7 output in 2x2 tiles: 8x8 = 64 / 49
    assert K.winograd_padding(np.array([7]), np.array([7]))[0] == pytest.approx(64 / 49)
    assert K.winograd_padding(np.array([8]), np.array([8]))[0] == pytest.approx(1.0)


def test_m_only_candidate():
    # M = 100, N = 1000, K = 90 on 16 SMs, block (64, all of N): ceil(100/64) = 2 blocks of
    # 64 x 1008 (N padded to 16) -> 1 wave -> 16 slots * 64 * 1008 * 90
    c = K.candidates(np.array([100]), np.array([1000]), np.array([90]), 16,
                     [(np.ones(1, bool), K.M_ONLY_SET)])
    assert c.macs[0, 1] == 16 * 64 * 1008 * 90


def test_prune_keeps_the_fastest_candidate():
    rng = np.random.default_rng(0)
    m, n, k = (rng.integers(1, 5000, 60), rng.integers(1, 5000, 60), rng.integers(1, 20000, 60))
    full = K.candidates(m, n, k, 80, [(np.ones(60, bool), K.GEMM_SET)])
    pruned = K.prune(full)
    assert sum(len(r) for r, _ in pruned.blocks) == 60
    for h, w_split in ((0.0, 0.0), (16.0, 3.0), (500.0, 1.0)):
        def best(c, h=h, w_split=w_split):
            cost = c.macs * (1 + h * c.edge) + w_split * c.split_elems
            return np.where(c.valid, cost, np.inf).min(axis=1)

        got = np.empty(60)
        for rows, c in pruned.blocks:
            got[rows] = best(c)
        assert np.allclose(best(full), got)
    mask = np.arange(60) % 3 == 0  # subsets keep the row mapping
    sub = pruned.subset(np.flatnonzero(mask))
    got = np.empty(int(mask.sum()))
    for rows, c in sub.blocks:
        got[rows] = best(c)
    assert np.allclose(best(full)[mask], got)


def test_bytes_read_of_a_strided_1x1_kernel():
    # 1x1 stride 2 on 8x8: reads min(1, 1/2) of the input rows
    f = _rows([(1, 4, 4, 8, 8, 1, 2)])
    x = _x(f)
    assert x.bytes_read[0] == (4 * 64 * 0.5 + 16 + 4 * 16) * 4


# -- the members ---------------------------------------------------------------------------


def test_roofline_p_hand_computed():
    # dense 1000 -> 1000, batch 1: FLOPs 2e6, bytes (1000 + 1e6 + 1000) * 4 = 4.008e6
    x = _x(_rows([(1, 1000, 1000, 1, 1, 1, 1)], op="linear"))
    m = get_model("roofline_p")
    th = {"t0": 0.01, "P": 1000.0, "BW": 100.0, "p": 1.0}
    # compute 2e6 / 1000 GFLOP/s = 2e-3 ms; memory 4.008e6 / 100 GB/s = 0.04008 ms; p = 1 adds
    assert m.predict(th, x)[0] == pytest.approx(0.01 + 2e-3 + 0.04008)
    th["p"] = 2.0
    assert m.predict(th, x)[0] == pytest.approx(0.01 + math.hypot(2e-3, 0.04008))


def test_floor_is_a_smooth_max():
    x = _x(_rows([(1, 1000, 1000, 1, 1, 1, 1)], op="linear"))
    th = {"t0": 0.05, "q": 20.0, "P": 1000.0, "BW": 1e9, "p": 20.0, "h": 1e-9}
    assert get_model("wave").predict(th, x)[0] == pytest.approx(0.05, rel=1e-3)


def test_wave_hand_computed():
    # dense M = 256, N = 256, K = 1024 on 4 SMs: 4 tiles of 128x128, one wave
    x = _x(_rows([(256, 1024, 256, 1, 1, 1, 1)], op="linear"))
    th = {"t0": 1e-9, "q": 1.0, "P": 1000.0, "BW": 1e12, "p": 20.0, "h": 1e-9}
    expect = 2 * 4 * 128 * 128 * 1024 / 1000.0 * 1e-6
    assert get_model("wave").predict(th, x)[0] == pytest.approx(expect, rel=1e-6)


def test_cache_level_hand_computed():
    # 3 MB through a 1 MB cache at 300 GB/s and 100 GB/s beyond: 1e6/300 + 2e6/100 (ms · 1e-6)
    from greenflops.alpha.gpu_models import mem_ms

    t = mem_ms({"BW": 100.0, "BWc": 300.0, "C_MB": 1.0}, np.array([3e6]))
    assert t[0] == pytest.approx((1e6 / 300 + 2e6 / 100) * 1e-6)


def test_convolution_factors():
    f = _rows([(1, 64, 64, 32, 32, 3, 1), (1, 64, 64, 32, 32, 3, 2), (1, 64, 64, 32, 32, 1, 1),
               (1, 64, 64, 7, 7, 3, 1), (1, 64, 64, 32, 32, 5, 1)])
    x = _x(f)
    th = {"t0": 1e-9, "P": 1000.0, "BW": 1e12, "p": 20.0, "e_kn": 2.0, "g_w": 4.0, "g_f": 2.5,
          "m8": 1.0}
    t = get_model("roofline_conv").predict(th, x)
    flop_ms = f.flops.to_numpy() / 1000.0 * 1e-6
    assert t[0] == pytest.approx(flop_ms[0] * 2.0 / 4.0, rel=1e-6)  # 3x3 s1: e_kn / g_w
    assert t[3] == pytest.approx(flop_ms[3] * 2.0 * (64 / 49) / 4.0, rel=1e-6)  # padded
    assert t[4] == pytest.approx(flop_ms[4] * 2.0 / 2.5, rel=1e-6)  # 5x5 s1: FFT
    assert t[1] == pytest.approx(flop_ms[1] * 2.0, rel=1e-6)  # 3x3 s2: e_kn only
    assert t[2] == pytest.approx(flop_ms[2], rel=1e-6)  # 1x1: a plain GEMM


def test_tensor_core_padding_of_misaligned_channels():
    spec = type("Spec", (), {"name": "T4", "sm_count": 40, "fp16_tensor_tflops": 65.0,
                             "bf16_tensor_tflops": None, "memory_bandwidth_gbs": 320.0,
                             "peak_tflops": lambda self, d: 65.0,
                             "ceiling_tflops": lambda self, d: 65.0})()
    facts = device_facts({"device_type": "cuda"}, spec, ["float16"])
    assert facts.tensor_cores and facts.n_sm == 40 and facts.peak_gflops == 65000.0
    x = _x(_rows([(1, 3, 64, 32, 32, 3, 1), (1, 64, 64, 32, 32, 3, 1)], dtype="float16"), facts)
    th = {"t0": 1e-9, "P": 1000.0, "BW": 1e12, "p": 20.0, "e_kn": 1.0, "g_w": 1.0, "g_f": 1.0,
          "m8": 1.5}
    t = get_model("roofline_conv").predict(th, x)
    flop_ms = x.flops / 1000.0 * 1e-6
    assert t[0] == pytest.approx(flop_ms[0] * 1.5 * 8 / 3, rel=1e-6)  # C_in 3 padded to 8
    assert t[1] == pytest.approx(flop_ms[1], rel=1e-6)


def test_factors_without_contrast_are_fixed_at_one():
    x = _x(_rows([(1, 64, 64, 32, 32, 1, 1), (2, 64, 64, 32, 32, 1, 1)]))
    assert get_model("roofline_conv").inactive(x) == {"e_kn": 1.0, "g_w": 1.0, "g_f": 1.0,
                                                      "m8": 1.0}


def test_without_device_facts_the_terms_fall_back():
    facts = device_facts({"device_type": "cuda"}, None, ["float32"])
    assert facts.n_sm is None and facts.peak_gflops is None
    assert "unknown" in facts.sources["n_sm"]
    f = _synthetic(60)
    x = _x(f, facts)
    y = f.flops.to_numpy() / 5e8 + 0.01
    specs = {s.name: s for s in get_model("wave_c").specs_for(x, y)}
    # P from the data: 1.5 x the fastest measured rate, bounded at 10 x that
    rate = float(np.max(x.flops / (y * 1e6)))
    assert specs["P"].upper == pytest.approx(15.0 * rate)
    assert np.all(np.isfinite(get_model("wave_c").predict(
        {"t0": 0.01, "q": 2.0, "P": 500.0, "BW": 50.0, "p": 2.0, "h": 16.0}, x)))


# -- Jacobians and fits ---------------------------------------------------------------------


def test_gpu_family_analytic_jacobian_matches_numeric():
    x = _x(_synthetic(80))
    th_all = {"t0": 0.004, "q": 2.5, "P": 700.0, "BW": 80.0, "p": 3.0, "h": 20.0, "e_kn": 1.3,
              "g_w": 1.8, "g_f": 1.4, "m8": 1.0, "C_MB": 0.5, "BWc": 300.0}
    for name in GPU_FAMILY:
        m = get_model(name)
        names = [s.name for s in m.specs_for(x) if s.name != "m8"]
        th = {k: th_all[k] for k in names}
        t, jac = log_jacobian_of(name, th, x, names)
        assert np.allclose(t, m.predict(th, x))
        for k, nm in enumerate(names):
            a, b = dict(th), dict(th)
            a[nm] *= math.exp(1e-6)
            b[nm] *= math.exp(-1e-6)
            num = (np.log(m.predict(a, x)) - np.log(m.predict(b, x))) / 2e-6
            assert np.allclose(jac[:, k], num, atol=1e-5), (name, nm)


def log_jacobian_of(name, th, x, names):
    return get_model(name).jacobian_fn(th, x, names)


def test_alpha_family_analytic_jacobian_matches_numeric():
    x = _x(_synthetic(80))
    values = {"beta_k1": 0.02, "beta_kn": 0.05, "gamma_k1": 0.6, "gamma_kn": 0.8,
              "sk_slope": 1.2, "overhead_ms": 0.003, "c_red_half": 20.0, "c_out_half": 10.0,
              "ms_per_gb": 0.5, "scale_ms_per_gflop": 0.7, "q": 2.5}
    for name in ("flops", "flops_overhead", "roofline_fit", "alpha_fit", "alpha_fit_sk",
                 "alpha_overhead", "alpha_ext", "alpha_ext_mem", "alpha_roofline", "alpha_floor"):
        m = get_model(name)
        specs = m.specs_for(x)
        th = {s.name: values[s.name] for s in specs}
        t, jac = m.jacobian_fn({**m.fixed, **th}, x, [s.name for s in specs])
        assert np.allclose(t, m.predict(th, x)), name
        for k, s in enumerate(specs):
            a, b = dict(th), dict(th)
            if s.log:
                a[s.name] *= math.exp(1e-6)
                b[s.name] *= math.exp(-1e-6)
            else:
                a[s.name] += 1e-6
                b[s.name] -= 1e-6
            num = (np.log(m.predict(a, x)) - np.log(m.predict(b, x))) / 2e-6
            # the max of a roofline has a kink: compare where it is smooth
            assert np.allclose(jac[:, k], num, atol=1e-4), (name, s.name)


@pytest.mark.parametrize("name", ["roofline_conv", "wave_c"])
def test_fit_recovers_known_parameters(name):
    x = _x(_synthetic())
    m = get_model(name)
    truth = {"t0": 0.004, "q": 3.0, "P": 700.0, "BW": 80.0, "p": 3.0, "h": 20.0,
             "e_kn": 1.3, "g_w": 1.8, "g_f": 1.0, "m8": 1.0}
    truth = {s.name: truth[s.name] for s in m.specs_for(x)}
    y = m.predict(truth, x) * np.exp(np.random.default_rng(2).normal(0, 0.02, len(x)))
    r = fit_model(name, x, y, starts=3, loss="linear")
    for key in ("P", "BW", "e_kn", "g_w"):
        assert r.params[key] == pytest.approx(truth[key], rel=0.1), key
        assert np.isfinite(r.stderr[key]) and r.stderr[key] < 0.1 * truth[key], key
    assert r.rms_log_residual < 0.03


def test_direct_log_jacobian_api():
    x = _x(_synthetic(20))
    from greenflops.alpha.gpu_models import Member

    t, jac = log_jacobian(Member(("t0", "P", "BW", "p")), {"t0": 0.01, "P": 500.0, "BW": 50.0,
                                                           "p": 2.0}, x, ["P", "BW"])
    # ∂ln t/∂ln P + ∂ln t/∂ln BW + ∂ln t/∂ln t0 share of the floor = -(1 - floor share)
    assert np.all(jac <= 0) and jac.shape == (len(x), 2) and np.all(t > 0.01)
