"""A time model family for GPUs (and CPUs) built on how the libraries run a layer.

Every layer is an implicit GEMM (:mod:`greenflops.alpha.kernels`). A member predicts the time of
one call, in milliseconds, as::

    t      = (t0^q + G^q)^(1/q)                            per-call floor: q = 1 adds, large q → max
    G      = min over kernel candidates c of ((f · T_flop,c)^p + T_mem,c^p)^(1/p)   smooth roofline
    T_flop = 2 · padded_MACs_c · ineff_c / P,   ineff = (1 + h(1/m_t + 1/n_t)) / (1 + h·2/128)
    T_mem  = mem(bytes + (s − 1)·2·M·N·elem)           split-K partials go through memory
    mem(b) = b / BW   or, with a cache level:  min(b, C)/BWc + max(b − C, 0)/BW
    f      = e_kn [K_h·K_w > 1 conv] · min(1, wino_pad / g_w) [3×3 stride 1] / g_f [stride 1,
             kernel ≥ 5×5] · m8 · tc_pad [half precision on tensor cores, C % 8 ≠ 0]

Members without tiles (``roofline_p``, ``roofline_conv``) use ``FLOPs / P`` and the compulsory
bytes. Parameters, all positive and fitted on a log scale, each with a weak prior (one
pseudo-residual) and a standard error:

=====  ========  ==========================================================================
t0     ms        per-call floor (launch, framework); ≤ the fastest measured call
q      1         how the floor overlaps the work (1: adds … 20: max)
P      GFLOP/s   achieved throughput of full 128×128-tile waves (≤ 1.25 × peak)
BW     GB/s      achieved bandwidth of the compulsory traffic (≤ 1.5 × spec)
C_MB   MB        capacity of a cache level serving small working sets
BWc    GB/s      that cache's bandwidth (0.5–50 × BW)
p      1         compute/memory overlap (1: sum … 20: max)
h      elements  tile-edge half-performance length (operand loads per multiply-add)
e_kn   1         implicit-GEMM (im2col) cost of a K_h·K_w > 1 convolution vs a GEMM
g_w    1         Winograd speed-up of 3×3 stride-1 convolutions, used only where it beats the GEMM
                 once its 2×2 output-tile padding is counted
g_f    1         FFT speed-up of stride-1 convolutions with kernels of 5×5 or more
m8     1         remaining tensor-core penalty for channels that are not multiples of 8 (the
                 padding to 8 is counted as work)
=====  ========  ==========================================================================

No wild extrapolation, in this order: *bound* (P, BW, m8 capped at physical values; t0 at the
fastest call), *regularise* (the weak priors), *fall back* (a factor with no contrast in the
fitted rows — no K > 1 convolution, no Winograd-eligible or FFT-eligible row, no misaligned
half-precision row — is fixed at its neutral value 1: a fold that saw no K > 1 convolution
predicts one as a plain GEMM). Device facts (:mod:`greenflops.alpha.device_facts`) set bounds,
starts, waves and split-K; without them the terms fall back as described there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from greenflops.alpha.device_facts import PEAK_HEADROOM, DeviceFacts
from greenflops.alpha.formula import smooth_max
from greenflops.alpha.kernels import KernelView, kernel_view
from greenflops.alpha.timemodel import ParamSpec, TimeModel

__all__ = ["GPU_MODELS", "Member", "conv_factor", "log_jacobian", "mem_ms", "predict"]

_LN3 = math.log(3.0)


@dataclass(frozen=True)
class Member:
    """A member of the family: its parameters and which kernels it assumes."""

    names: tuple[str, ...]
    tiles: bool = False
    conv_set: str = "gemm"  #: tile set of convolution kernels (:func:`kernel_view`)
    conv_rows: str = "all"  #: convolutions that use it: all, or kn (K_h·K_w > 1 only)

    def view(self, x) -> KernelView:
        return kernel_view(x, self.tiles, self.conv_set, self.conv_rows)


def _spec(name, unit, doc, init, lower, upper, neutral=None, prior=None, sd=None) -> ParamSpec:
    init = min(max(init, lower * 1.0001), upper / 1.0001)
    return ParamSpec(name, init, lower, upper, log=True, unit=unit, doc=doc,
                     start_range=(max(init / 4, lower), min(init * 4, upper)),
                     neutral=neutral, prior=prior, prior_sd=sd)


def _specs(names: Sequence[str], x, time_ms: np.ndarray | None) -> list[ParamSpec]:
    """Parameter specs with starts and bounds from the device facts and the data."""
    dev = x.device
    peak = dev.peak_gflops if dev is not None else None
    bw = dev.bandwidth_gbs if dev is not None else None
    have_y = time_ms is not None and len(time_ms)
    # the per-call floor t0 is at most the fastest call (or the measured floor)
    tmin = (dev or DeviceFacts()).fastest_call_ms(time_ms) if have_y else 1.0
    p_hi, bw_hi = PEAK_HEADROOM, 1.5
    if peak is None:  # from the data: the fastest achieved rate
        rate = float(np.max(x.flops / (time_ms * 1e6))) if have_y else 1e3
        peak, p_hi = 1.5 * rate, 10.0
    if bw is None:
        bw, bw_hi = 0.1 * peak, 10.0  # a machine balance of 10 FLOP/byte
    out = {
        "t0": _spec("t0", "ms", "per-call floor (launch and framework overhead)", 0.5 * tmin,
                    min(1e-7, 1e-3 * tmin), tmin, 1e-7, math.log(0.25 * tmin), 2 * _LN3),
        "q": _spec("q", "1", "overlap of the floor and the work (1: adds, 20: max)", 2.0, 1.0,
                   20.0, 1.0, math.log(2.0), 2 * _LN3),
        "P": _spec("P", "GFLOP/s", "achieved throughput of full 128x128-tile waves", 0.6 * peak,
                   1e-3 * peak, p_hi * peak),
        "BW": _spec("BW", "GB/s", "achieved bandwidth of the compulsory traffic", 0.7 * bw,
                    1e-3 * bw, bw_hi * bw),
        "C_MB": _spec("C_MB", "MB", "capacity of the cache that serves small working sets",
                      4.0, 0.05, 512.0, None, math.log(4.0), 2 * _LN3),
        "BWc": _spec("BWc", "GB/s", "bandwidth of that cache", 3.0 * bw, 0.5 * bw, 50.0 * bw,
                     None, math.log(3.0 * bw), 2 * _LN3),
        "p": _spec("p", "1", "overlap of compute and memory (1: sum, 20: max)", 2.0, 1.0, 20.0,
                   20.0, math.log(2.0), 2 * _LN3),
        "h": _spec("h", "elements", "tile-edge half-performance length (operand loads per "
                   "multiply-add)", 16.0, 0.1, 1000.0, 0.1, math.log(16.0), 2 * _LN3),
        "e_kn": _spec("e_kn", "1", "implicit-GEMM (im2col) cost of a K_h*K_w > 1 convolution "
                      "vs a GEMM", 1.2, 0.25, 8.0, 1.0, 0.0, _LN3),
        "g_w": _spec("g_w", "1", "Winograd speed-up of 3x3 stride-1 convolutions", 1.5, 1.0, 4.0,
                     1.0, 0.0, _LN3),
        "g_f": _spec("g_f", "1", "FFT speed-up of stride-1 convolutions with kernels >= 5x5",
                     1.5, 1.0, 8.0, 1.0, 0.0, _LN3),
        "m8": _spec("m8", "1", "tensor-core penalty for channels not a multiple of 8 (beyond "
                    "the padding to 8, counted as work)", 1.5, 1.0, 4.0, 1.0, 0.0, _LN3),
    }
    return [out[n] for n in names]


def _inactive(member: Member, x) -> dict[str, float]:
    """Factors whose indicator has no contrast in ``x``: fixed at 1 (never extrapolated)."""
    v = member.view(x)
    out: dict[str, float] = {}
    names = set(member.names)
    if "e_kn" in names and (not v.kn.any() or v.kn.all()):
        out["e_kn"] = 1.0
    if "g_w" in names and (not v.wino.any() or np.array_equal(v.wino, v.kn)):
        out["g_w"] = 1.0
    if "m8" in names and (not v.misaligned.any() or v.misaligned.all()):
        out["m8"] = 1.0
    if "g_f" in names and not v.fft.any():
        out["g_f"] = 1.0
    return out


def mem_ms(theta: Mapping[str, float], nbytes: np.ndarray) -> np.ndarray:
    """Memory time of ``nbytes``: all at ``BW``, or with a cache level (``C_MB``, ``BWc``) the
    first ``C_MB`` megabytes at ``BWc`` and the rest at ``BW``."""
    if "C_MB" not in theta:
        return nbytes / theta["BW"] * 1e-6
    cap = theta["C_MB"] * 1e6
    return (np.minimum(nbytes, cap) / theta["BWc"]
            + np.maximum(nbytes - cap, 0.0) / theta["BW"]) * 1e-6


def _mem_dlog(theta: Mapping[str, float], nbytes: np.ndarray) -> tuple[np.ndarray, dict]:
    """``mem_ms`` and its derivatives ∂ ln t / ∂ ln θ for BW, BWc, C_MB."""
    t = mem_ms(theta, nbytes)
    if "C_MB" not in theta:
        return t, {"BW": -np.ones(len(nbytes))}
    bw, bwc, cap = theta["BW"], theta["BWc"], theta["C_MB"] * 1e6
    return t, {"BW": -(np.maximum(nbytes - cap, 0.0) / bw * 1e-6) / t,
               "BWc": -(np.minimum(nbytes, cap) / bwc * 1e-6) / t,
               "C_MB": np.where(nbytes > cap, cap * (1 / bwc - 1 / bw) * 1e-6, 0.0) / t}


def conv_factor(theta: Mapping[str, float], view: KernelView) -> np.ndarray:
    """``f`` of every layer (1 for a plain GEMM; see the module docstring)."""
    f = np.where(view.kn, theta.get("e_kn", 1.0), 1.0)
    f = f * np.where(view.wino, np.minimum(1.0, view.wino_pad / theta.get("g_w", 1.0)), 1.0)
    f = f / np.where(view.fft, theta.get("g_f", 1.0), 1.0)
    return f * np.where(view.misaligned, theta.get("m8", 1.0) * view.tc_pad, 1.0)


def _candidate_terms(theta, x, view: KernelView, f: np.ndarray, rows, c) -> list[np.ndarray]:
    """The two roofs of every kernel candidate of the layers ``rows`` (rows × width)."""
    h = theta.get("h", 0.0)
    macs = c.macs * (1.0 + h * c.edge) / (1.0 + h * 2.0 / 128.0) if h else c.macs
    elem = x.elem_bytes[rows][:, None]
    return [f[rows][:, None] * (2.0 * macs / theta["P"] * 1e-6),
            mem_ms(theta, x.bytes_read[rows][:, None] + c.split_elems * elem)]


def _best(theta, x, view, f, rows, c) -> tuple[np.ndarray, np.ndarray]:
    """Time of the fastest candidate of each layer in ``rows`` and its column."""
    t = smooth_max(theta.get("p", 20.0), *_candidate_terms(theta, x, view, f, rows, c))
    t = np.where(c.valid, t, np.inf)
    j = t.argmin(axis=1)
    return t[np.arange(len(rows)), j], j


def _body(member: Member, theta: Mapping[str, float], x, view: KernelView) -> np.ndarray:
    f = conv_factor(theta, view)
    if not member.tiles or view.blocks is None:
        return smooth_max(theta.get("p", 20.0), f * x.flops / theta["P"] * 1e-6,
                          mem_ms(theta, x.bytes_read))
    out = np.empty(len(x))
    for rows, c in view.blocks.blocks:
        out[rows] = _best(theta, x, view, f, rows, c)[0]
    return out


def predict(member: Member, theta: Mapping[str, float], x) -> np.ndarray:
    """Predicted milliseconds, ``(t0^q + G^q)^(1/q)``."""
    view = member.view(x)
    body = _body(member, theta, x, view)
    t0, q = theta.get("t0", 0.0), theta.get("q", 1.0)
    return t0 + body if q == 1.0 else smooth_max(q, np.full_like(body, t0), body)


def log_jacobian(member: Member, theta: Mapping[str, float], x, names: Sequence[str]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Predicted ms and ``∂ ln t / ∂ ln θ`` for each parameter in ``names`` (rows × names):
    analytic, at the fastest candidate of each layer (the min is piecewise smooth; its
    derivative is the chosen candidate's)."""
    view = member.view(x)
    f = conv_factor(theta, view)
    n = len(x)
    p = theta.get("p", 20.0)
    wino_on = view.wino & (view.wino_pad < theta.get("g_w", 1.0))
    cf = {"e_kn": view.kn.astype(float), "g_w": -wino_on.astype(float),
          "m8": view.misaligned.astype(float), "g_f": -view.fft.astype(float)}
    if member.tiles and view.blocks is not None:
        macs, edge, split = np.empty(n), np.empty(n), np.empty(n)
        for rows, c in view.blocks.blocks:
            _, j = _best(theta, x, view, f, rows, c)
            at = np.arange(len(rows))
            macs[rows], edge[rows], split[rows] = c.macs[at, j], c.edge[at, j], c.split_elems[at, j]
        h = theta.get("h", 0.0)
        ineff = (1.0 + h * edge) / (1.0 + h * 2.0 / 128.0) if h else np.ones(n)
        compute = f * 2.0 * macs * ineff / theta["P"] * 1e-6
        dc = {"P": -np.ones(n), **cf}
        if h:
            dc["h"] = h * (edge / (1.0 + h * edge) - (2.0 / 128.0) / (1.0 + h * 2.0 / 128.0))
        memory, dm = _mem_dlog(theta, x.bytes_read + split * x.elem_bytes)
    else:
        compute = f * x.flops / theta["P"] * 1e-6
        dc = {"P": -np.ones(n), **cf}
        memory, dm = _mem_dlog(theta, x.bytes_read)
    g = smooth_max(p, compute, memory)
    shares = [(compute / g) ** p, (memory / g) ** p]
    dlog_g_dlog_p = sum(s * np.log(v / g) for s, v in zip(shares, (compute, memory))) / p
    t0, q = theta.get("t0", 0.0), theta.get("q", 1.0)
    if q == 1.0:
        t = t0 + g
        w_t0, w_g, dq = t0 / t, g / t, np.zeros(n)
    else:
        t = smooth_max(q, np.full(n, t0), g)
        w_t0, w_g = (t0 / t) ** q, (g / t) ** q
        dq = (w_t0 * np.log(t0 / t) + w_g * np.log(g / t)) / q
    jac = np.zeros((n, len(names)))
    for k, name in enumerate(names):
        if name == "t0":
            jac[:, k] = w_t0
        elif name == "q":
            jac[:, k] = dq * q
        elif name == "p":
            jac[:, k] = w_g * dlog_g_dlog_p * p
        else:
            jac[:, k] = w_g * (shares[0] * dc.get(name, 0.0) + shares[1] * dm.get(name, 0.0))
    return t, jac


def _model(name: str, description: str, member: Member) -> TimeModel:
    return TimeModel(
        name, description, (), lambda p, x, scale: predict(member, p, x), needs_scale=False,
        group="gpu", specs_fn=lambda x, y: _specs(member.names, x, y),
        inactive_fn=lambda x: _inactive(member, x),
        jacobian_fn=lambda p, x, names: log_jacobian(member, p, x, names), tol=1e-6,
        uses_device=True)


_ROOF = ("t0", "P", "BW", "p")
_CONV = ("e_kn", "g_w", "g_f", "m8")
_WAVE = ("t0", "q", "P", "BW", "p", "h") + _CONV
_CACHE = ("t0", "q", "P", "BW", "C_MB", "BWc", "p", "h") + _CONV

#: The family, from the simplest member to the fullest (warm starts flow down the list).
GPU_MODELS: tuple[TimeModel, ...] = (
    _model("roofline_p", "GPU family: t0 + smooth roofline ((FLOPs/P)^p + (bytes/BW)^p)^(1/p)",
           Member(_ROOF)),
    _model("roofline_conv", "GPU family: roofline_p with the convolution factors e_kn (K>1), "
           "g_w (Winograd 3x3 s1), g_f (FFT, s1 kernels >= 5x5), m8 (fp16 channels % 8)",
           Member(_ROOF + _CONV)),
    _model("wave", "GPU family: fastest (tile, split-K) kernel of padded MACs with tile-edge "
           "cost h, wave quantisation over the SMs, smooth roofline, floor t0 (q); GEMM tiles "
           "for convolutions too", Member(_WAVE, tiles=True)),
    _model("wave_c", "GPU family: wave with convolutions on cuDNN's 128-position x "
           "32/64/128-filter tiles (no split-K)", Member(_WAVE, True, "cudnn")),
    _model("wave_m", "GPU family: wave with K>1 convolutions on blocks of output positions that "
           "loop over all filters (1x1 convolutions as GEMMs)", Member(_WAVE, True, "m_only", "kn")),
    _model("wave_cc", "GPU family: wave_c with a cache level (the first C_MB of traffic at BWc)",
           Member(_CACHE, True, "cudnn")),
    _model("wave_mc", "GPU family: wave_m with a cache level (the first C_MB of traffic at BWc)",
           Member(_CACHE, True, "m_only", "kn")),
)
