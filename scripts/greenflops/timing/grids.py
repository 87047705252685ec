"""Timing-sweep grids of Asperti et al. (2021), generated from configuration.

Each sweep of ``config.yaml`` (``sweeps: profiles: <profile>: grids: <sweep>``) names a *family*
(by default the sweep's own name) and the values of its axes; the family's function turns them
into a list of layer configurations, one dict per point, with the columns of the timing contract
(``workflow/schemas/timings.schema.yaml``) up to ``flops`` and the FLOPs computed exactly with
:mod:`greenflops.flops` (a multiply-add counts 2).

Shape conventions (every choice the paper leaves open is documented in
``workflow/resources/sweeps.yaml``):

* Convolutions have stride 1 and "same" padding (output size = input size, paper Section 3).
  ``padding`` records ``(k - 1) // 2``, the padding of the top/left side; for an even kernel the
  bottom/right side gets one more, as in TensorFlow's and PyTorch's ``padding="same"``.
  FLOPs use the output size, which equals ``h × w``.
* A dense layer is ``op = linear`` with ``h = w = k_h = k_w = stride = 1`` and ``padding = 0``.
* ``groups`` is 1 except in families ``depthwise_conv`` and ``grouped_conv`` (beyond the paper),
  whose padding is torchvision's ``(k - 1) // 2`` at any stride.
* Axis values are either a list of integers or ``{from: a, to: b, step: s}`` (``b`` included).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from greenflops.flops import conv2d_flops, dense_flops
from greenflops.timing.contract import point_key

__all__ = [
    "FAMILIES",
    "SweepConfigError",
    "SweepFamily",
    "axis_values",
    "conv_point",
    "grouped_conv_point",
    "linear_point",
    "near_square",
    "sweep_lines",
    "sweep_points",
]

class SweepConfigError(ValueError):
    """A sweep's grid in config.yaml is malformed; the message names the sweep and the key."""


def conv_point(sweep: str, c_in: int, c_out: int, h: int, w: int, k: int,
               dtype: str = "float32", batch: int = 1) -> dict[str, Any]:
    """A stride-1, same-padding square-kernel convolution, with its eq.-4 FLOPs."""
    return {
        "sweep": sweep, "op": "conv2d", "batch": int(batch), "c_in": int(c_in),
        "c_out": int(c_out), "h": int(h), "w": int(w), "k_h": int(k), "k_w": int(k),
        "stride": 1, "padding": (int(k) - 1) // 2, "groups": 1, "dtype": dtype,
        "flops": conv2d_flops(c_in, c_out, h, w, k, k, stride=1, padding="same", batch=batch),
    }


def grouped_conv_point(sweep: str, c: int, hw: int, k: int, stride: int, group_width: int,
                       dtype: str = "float32", batch: int = 1) -> dict[str, Any]:
    """A grouped square-kernel convolution C → C on hw × hw with padding ``(k - 1) // 2`` (the
    padding torchvision's depthwise and grouped layers use) and ``C / group_width`` groups
    (``group_width`` 1: depthwise), with its eq.-4 FLOPs ``2·B·C·H_out·W_out·group_width·K²``."""
    pad = (int(k) - 1) // 2
    return {
        "sweep": sweep, "op": "conv2d", "batch": int(batch), "c_in": int(c), "c_out": int(c),
        "h": int(hw), "w": int(hw), "k_h": int(k), "k_w": int(k), "stride": int(stride),
        "padding": pad, "groups": int(c) // int(group_width), "dtype": dtype,
        "flops": conv2d_flops(c, c, hw, hw, k, k, stride=stride, padding=pad, batch=batch,
                              groups=int(c) // int(group_width)),
    }


def linear_point(sweep: str, d_in: int, d_out: int, dtype: str = "float32",
                 batch: int = 1) -> dict[str, Any]:
    """A dense layer D_in → D_out applied to ``batch`` samples, with its eq.-3 FLOPs."""
    return {
        "sweep": sweep, "op": "linear", "batch": int(batch), "c_in": int(d_in),
        "c_out": int(d_out), "h": 1, "w": 1, "k_h": 1, "k_w": 1, "stride": 1, "padding": 0,
        "groups": 1, "dtype": dtype, "flops": dense_flops(d_in, d_out, batch=batch),
    }


def axis_values(spec: Any, where: str) -> list[int]:
    """Integers of an axis: a list, a single integer, or ``{from, to, step}`` (``to`` included)."""
    if isinstance(spec, bool):
        raise SweepConfigError(f"{where}: expected integers, got {spec!r}")
    if isinstance(spec, int):
        values = [spec]
    elif isinstance(spec, Mapping):
        unknown = set(spec) - {"from", "to", "step"}
        if unknown or not {"from", "to"} <= set(spec):
            raise SweepConfigError(f"{where}: a range needs keys from, to (and step), got {dict(spec)}")
        start, stop, step = spec["from"], spec["to"], spec.get("step", 1)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, stop, step)):
            raise SweepConfigError(f"{where}: range bounds must be integers, got {dict(spec)}")
        if step < 1 or stop < start:
            raise SweepConfigError(f"{where}: empty range {dict(spec)}")
        values = list(range(start, stop + 1, step))
    elif isinstance(spec, Sequence) and not isinstance(spec, str):
        values = list(spec)
    else:
        raise SweepConfigError(f"{where}: expected a list, an integer or {{from, to, step}}, got {spec!r}")
    for value in values:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise SweepConfigError(f"{where}: values must be positive integers, got {value!r}")
    if len(set(values)) != len(values):
        raise SweepConfigError(f"{where}: repeated values in {values}")
    return values


def _number(params: Mapping[str, Any], key: str, where: str) -> float:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise SweepConfigError(f"{where}.{key}: expected a positive number, got {value!r}")
    return float(value)


def _axis(params: Mapping[str, Any], key: str, where: str) -> list[int]:
    if key not in params:
        raise SweepConfigError(f"{where}: missing key '{key}'")
    return axis_values(params[key], f"{where}.{key}")


def _check_keys(params: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(params) - set(allowed) - {"family"})
    if unknown:
        raise SweepConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def near_square(area: float) -> tuple[int, int]:
    """Integer ``(h, w)`` with ``w - h`` in {0, 1} whose product is closest to ``area`` (≥ 1).

    Ties go to the square. Used where a spatial size must shrink as ``size / K`` and ``size / K``
    is not an integer: a near-square rectangle keeps ``h·w`` within a few per cent of the target.
    """
    if area <= 0:
        raise ValueError(f"area must be positive, got {area}")
    best: tuple[float, int, int] | None = None
    side = max(1, int(math.isqrt(int(area))))
    for h in range(max(1, side - 1), side + 2):
        for w in (h, h + 1):
            err = abs(h * w - area)
            if best is None or err < best[0]:
                best = (err, h, w)
    assert best is not None
    return best[1], best[2]


# --- families -------------------------------------------------------------------------------


def _dense_vs_conv(sweep: str, p: Mapping[str, Any], dtype: str) -> list[dict[str, Any]]:
    """Fig. 1a/1b/3: dense D×D (D = base·2^x) and 1×1 convolutions with the same FLOPs.

    For a spatial size ``(h, w)`` the channels compensate as ``c_in = D / h``, ``c_out = D / w``
    (the paper's (W, H, C_in, C_out) = (1, 2, 6400, 12800) at D = 12800), so every point of one
    ``x`` has ``2·D²`` FLOPs exactly.
    """
    where = f"sweep '{sweep}'"
    _check_keys(p, ("base", "exponents", "spatial"), where)
    base = _axis(p, "base", where)
    if len(base) != 1:
        raise SweepConfigError(f"{where}.base: one integer expected")
    spatial = p.get("spatial")
    if not isinstance(spatial, Sequence) or not spatial:
        raise SweepConfigError(f"{where}.spatial: expected a list of [h, w] pairs")
    exponents = p.get("exponents")
    if (not isinstance(exponents, Sequence) or not exponents
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in exponents)):
        raise SweepConfigError(f"{where}.exponents: expected a list of integers >= 0")
    points = []
    for x in exponents:
        d = base[0] * 2**x
        points.append(linear_point(sweep, d, d, dtype))
        for pair in spatial:
            if not isinstance(pair, Sequence) or len(pair) != 2:
                raise SweepConfigError(f"{where}.spatial: expected [h, w] pairs, got {pair!r}")
            h, w = (int(v) for v in pair)
            if d % h or d % w:
                raise SweepConfigError(
                    f"{where}: D = {d} is not divisible by spatial size {h}x{w}")
            points.append(conv_point(sweep, d // h, d // w, h, w, 1, dtype))
    return points


def _k_vs_channels(sweep: str, p: Mapping[str, Any], dtype: str) -> list[dict[str, Any]]:
    """Fig. 2a: kernel K grows, spatial fixed, C_in = C_out = round(sqrt(M / (h·w)) / K).

    ``budgets_macs`` M are multiply-adds per call; a point's FLOPs are ``2·K²·C²·h·w ≈ 2·M``.
    """
    where = f"sweep '{sweep}'"
    _check_keys(p, ("k", "h", "w", "budgets_macs"), where)
    ks = _axis(p, "k", where)
    h, w = _axis(p, "h", where)[0], _axis(p, "w", where)[0]
    points = []
    for macs in _budgets(p, where):
        kc = math.sqrt(macs / (h * w))
        for k in ks:
            c = max(1, round(kc / k))
            points.append(conv_point(sweep, c, c, h, w, k, dtype))
    return points


def _k_vs_spatial(sweep: str, p: Mapping[str, Any], dtype: str) -> list[dict[str, Any]]:
    """Fig. 2b: kernel K grows, channels fixed per budget, spatial ``size / K`` (near-square).

    ``C = round(sqrt(M / size²))`` for a budget of M multiply-adds, and ``h·w ≈ (size / K)²``
    (:func:`near_square`), so a point's FLOPs are ``2·K²·C²·h·w ≈ 2·C²·size²``.
    """
    where = f"sweep '{sweep}'"
    _check_keys(p, ("k", "size_at_k1", "budgets_macs"), where)
    ks = _axis(p, "k", where)
    size = _axis(p, "size_at_k1", where)[0]
    points = []
    for macs in _budgets(p, where):
        c = max(1, round(math.sqrt(macs / size**2)))
        for k in ks:
            h, w = near_square((size / k) ** 2)
            points.append(conv_point(sweep, c, c, h, w, k, dtype))
    return points


def _budgets(p: Mapping[str, Any], where: str) -> list[float]:
    budgets = p.get("budgets_macs")
    if not isinstance(budgets, Sequence) or not budgets:
        raise SweepConfigError(f"{where}.budgets_macs: expected a list of positive numbers")
    return [_number({"b": b}, "b", f"{where}.budgets_macs") for b in budgets]


def _cross(sweep: str, p: Mapping[str, Any], dtype: str, axes: Sequence[str],
           build: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    where = f"sweep '{sweep}'"
    _check_keys(p, axes, where)
    values = {a: _axis(p, a, where) for a in axes}
    points: list[dict[str, Any]] = [{}]
    for axis in axes:  # first axis outermost (the auxiliary axis), last innermost (the x axis)
        points = [dict(q, **{axis: v}) for q in points for v in values[axis]]
    return [build(sweep=sweep, dtype=dtype, **q) for q in points]


def _increasing_w(sweep: str, p: Mapping[str, Any], dtype: str) -> list[dict[str, Any]]:
    """Fig. 5a: W grows for a few C_in; H, C_out and K fixed."""
    return _cross(sweep, p, dtype, ("c_in", "h", "c_out", "k", "w"), conv_point)


def _increasing_cout(sweep: str, p: Mapping[str, Any], dtype: str) -> list[dict[str, Any]]:
    """Fig. 5b: C_out grows for a few C_in; H = W and K fixed."""
    return _cross(sweep, p, dtype, ("c_in", "h", "w", "k", "c_out"), conv_point)


def _increasing_cout_k1(sweep: str, p: Mapping[str, Any], dtype: str) -> list[dict[str, Any]]:
    """Fig. 6a: C_out grows for a few spatial sizes H (= W); C_in fixed, K = 1."""
    where = f"sweep '{sweep}'"
    _check_keys(p, ("hw", "c_in", "k", "c_out"), where)

    def build(sweep: str, dtype: str, hw: int, c_in: int, k: int, c_out: int) -> dict[str, Any]:
        return conv_point(sweep, c_in, c_out, hw, hw, k, dtype)

    return _cross(sweep, p, dtype, ("hw", "c_in", "k", "c_out"), build)


def _increasing_cin(sweep: str, p: Mapping[str, Any], dtype: str) -> list[dict[str, Any]]:
    """Fig. 6b: C_in grows for kernels 1, 3, 5; H = W and C_out fixed."""
    return _cross(sweep, p, dtype, ("k", "h", "w", "c_out", "c_in"), conv_point)


def _dense_batch(sweep: str, p: Mapping[str, Any], dtype: str) -> list[dict[str, Any]]:
    """Fig. 7: square dense layers D×D applied to a growing batch."""
    where = f"sweep '{sweep}'"
    _check_keys(p, ("d", "batch"), where)

    def build(sweep: str, dtype: str, d: int, batch: int) -> dict[str, Any]:
        return linear_point(sweep, d, d, dtype, batch=batch)

    return _cross(sweep, p, dtype, ("d", "batch"), build)


def _grouped_points(sweep: str, p: Mapping[str, Any], dtype: str,
                    widths: Sequence[int]) -> list[dict[str, Any]]:
    where = f"sweep '{sweep}'"
    values = {a: (_axis(p, a, where) if a in p else [1]) for a in ("batch", "stride")}
    values.update({a: _axis(p, a, where) for a in ("k", "c", "hw")})
    cap = _number(p, "max_elements", where) if "max_elements" in p else float(2**25)
    points = []
    for gw in widths:
        for batch in values["batch"]:
            for k in values["k"]:
                for stride in values["stride"]:
                    for c in values["c"]:
                        for hw in values["hw"]:
                            if c % gw or hw <= k // 2 or batch * c * hw * hw > cap:
                                continue
                            points.append(grouped_conv_point(sweep, c, hw, k, stride, gw, dtype,
                                                             batch))
    if not points:
        raise SweepConfigError(f"{where}: no point is left (group_width must divide c; "
                               "hw > k // 2; batch·c·hw² <= max_elements)")
    return points


def _depthwise_conv(sweep: str, p: Mapping[str, Any], dtype: str) -> list[dict[str, Any]]:
    """Depthwise convolutions (beyond the paper: the layers of MobileNet, EfficientNet and
    ConvNeXt): C → C channels, one per group, kernel ``k``, input hw × hw, ``stride`` (default
    1) and ``batch`` (default 1), padding ``(k - 1) // 2``.

    Points where the kernel's half exceeds the input (``hw <= k // 2``) or whose input
    ``batch·C·hw²`` exceeds ``max_elements`` (default 2^25) are left out. Axis order, outermost
    first: batch, k, stride, c, hw.
    """
    _check_keys(p, ("batch", "k", "stride", "c", "hw", "max_elements"), f"sweep '{sweep}'")
    return _grouped_points(sweep, p, dtype, [1])


def _grouped_conv(sweep: str, p: Mapping[str, Any], dtype: str) -> list[dict[str, Any]]:
    """Grouped convolutions (beyond the paper: RegNet's and ResNeXt's 3×3 layers): as
    ``depthwise_conv`` with ``group_width`` channels per group (outermost axis); points where
    it does not divide C are left out."""
    where = f"sweep '{sweep}'"
    _check_keys(p, ("group_width", "batch", "k", "stride", "c", "hw", "max_elements"), where)
    return _grouped_points(sweep, p, dtype, _axis(p, "group_width", where))


@dataclass(frozen=True)
class SweepFamily:
    """A sweep family: how its grid becomes configurations, and how its points form lines.

    ``x`` is the column that varies along a line and ``lines`` the columns whose values tell the
    lines apart (``flops_level``: rows of nearly equal FLOPs, see
    :func:`greenflops.alpha.smoothness.flops_levels`), as the paper draws each experiment.
    """

    build: Callable[[str, Mapping[str, Any], str], list[dict[str, Any]]]
    x: str
    lines: tuple[str, ...]
    paper: bool = True  #: an experiment of Asperti et al. (False: beyond the paper)


#: Sweep families, by name: the paper's experiments, then those beyond it (``paper=False``).
FAMILIES: dict[str, SweepFamily] = {
    "dense_vs_conv": SweepFamily(_dense_vs_conv, "flops", ("op", "w", "h")),
    "k_vs_channels": SweepFamily(_k_vs_channels, "k_h", ("flops_level",)),
    "k_vs_spatial": SweepFamily(_k_vs_spatial, "k_h", ("flops_level",)),
    "increasing_w": SweepFamily(_increasing_w, "w", ("c_in",)),
    "increasing_cout": SweepFamily(_increasing_cout, "c_out", ("c_in",)),
    "increasing_cout_k1": SweepFamily(_increasing_cout_k1, "c_out", ("h",)),
    "increasing_cin": SweepFamily(_increasing_cin, "c_in", ("k_h",)),
    "dense_batch": SweepFamily(_dense_batch, "batch", ("c_in", "c_out")),
    # Beyond the paper: a line is one depthwise / grouped layer at growing input size.
    "depthwise_conv": SweepFamily(_depthwise_conv, "h", ("c_in", "k_h", "stride", "batch"),
                                  paper=False),
    "grouped_conv": SweepFamily(_grouped_conv, "h", ("groups", "c_in", "k_h", "stride", "batch"),
                                paper=False),
}


def sweep_lines(sweeps: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{sweep: {"x": column, "lines": [columns]}}`` for the sweeps named after a family
    (a dataset's other sweeps, e.g. imported ones, are one-off layers, not lines)."""
    return {s: {"x": FAMILIES[s].x, "lines": list(FAMILIES[s].lines)}
            for s in sorted(set(sweeps)) if s in FAMILIES}


def sweep_points(sweep: str, params: Mapping[str, Any], dtype: str = "float32") -> list[dict[str, Any]]:
    """Configurations of one sweep, in grid order, without duplicates.

    ``params`` is the sweep's grid from config.yaml; its optional ``family`` key picks the family
    (default: the sweep's name), so a second grid of a family can run under another name.
    ``dtype`` is the contract's dtype label of the timed calls.
    """
    if not isinstance(params, Mapping):
        raise SweepConfigError(f"sweep '{sweep}': expected a mapping of grid parameters")
    family = params.get("family", sweep)
    if family not in FAMILIES:
        raise SweepConfigError(
            f"sweep '{sweep}': unknown family '{family}' (known: {', '.join(sorted(FAMILIES))})")
    points = FAMILIES[family].build(sweep, params, dtype)
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    for point in points:
        unique.setdefault(point_key(point), point)  # rounding may map two points to one shape
    return list(unique.values())
