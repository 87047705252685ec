"""The cost of the ops that are not dense matrix products, and the whole-network correction.

Per-kind op cost (:class:`LinearCost`, fitted by :func:`fit_op_costs`)
    ``t = c0 + ms_per_mb · MB moved (+ ms_per_gflop · GFLOPs)``: a per-call floor plus a
    bandwidth term, all coefficients ≥ 0. Grouped convolutions (kinds ``dwconv``, one channel
    per group, and ``gconv``) get the FLOPs term too: they read and write as much as a dense
    convolution of the same activations but do 1/C_out of its arithmetic, so they are bandwidth-
    and overhead-bound, not small GEMMs (the conv/dense time models of the α stage leave them
    out). They are fitted on the device's ``depthwise_conv`` and ``grouped_conv`` sweeps (timing
    contract), every other kind (batch norm, activations, pooling, add, mul, cat, softmax,
    copies) on its op sweep (``greenflops.networks.ops``); ``default``, fitted on the streaming
    kinds together, prices a kind the sweep lacks. Fits minimise the *relative* squared error
    (each row divided by its measured time, ``scipy.optimize.nnls``), so small and large ops
    count alike, as the α fits' log residuals do; each kind is also validated by seeded k-fold
    cross-validation.

Whole-network correction (:class:`NetCorrection`)
    ``T = a_dense · Σdense + a_grouped · Σgrouped + a_other · Σother + c_op · n_ops`` rescales
    the three parts of a network's per-op sum and adds a per-op overhead (the framework's work
    between kernels, caches that a layer timed alone keeps warm). Fitted on measured networks by
    NNLS on relative errors; its error is only ever reported leave-one-network-out
    (:func:`lono_predictions`: both batches of the held-out network left out of the fit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "GROUPED_KINDS",
    "STREAM_KINDS",
    "LinearCost",
    "NetCorrection",
    "fit_linear_cost",
    "fit_net_correction",
    "fit_op_costs",
    "grouped_rows",
    "kfold_mape",
    "lono_predictions",
]

#: Grouped convolutions: one channel per group (depthwise) or a few.
GROUPED_KINDS: tuple[str, ...] = ("dwconv", "gconv")
#: Kinds pooled into the ``default`` cost (streaming, memory-bound ops).
STREAM_KINDS: tuple[str, ...] = ("relu", "relu6", "add", "mul", "batchnorm", "copy", "cat")


@dataclass(frozen=True)
class LinearCost:
    """``t_ms = c0_ms + ms_per_mb · MB + ms_per_gflop · GFLOPs`` (all coefficients ≥ 0)."""

    c0_ms: float
    ms_per_mb: float
    ms_per_gflop: float = 0.0
    n: int = 0  #: rows fitted
    mape_pct: float | None = None  #: in-sample mean absolute percentage error
    kfold_mape_pct: float | None = None  #: k-fold cross-validated MAPE

    def predict(self, nbytes: Any, flops: Any = 0.0) -> np.ndarray:
        """Milliseconds for ``nbytes`` bytes moved and ``flops`` FLOPs."""
        return (self.c0_ms + self.ms_per_mb * np.asarray(nbytes, float) / 1e6
                + self.ms_per_gflop * np.asarray(flops, float) / 1e9)

    @property
    def bandwidth_gbs(self) -> float:
        """Effective bandwidth ``1 / ms_per_mb`` in GB/s (inf when the byte term is 0)."""
        return float("inf") if self.ms_per_mb <= 0 else 1.0 / self.ms_per_mb

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> LinearCost:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in names})


def _design(nbytes: Any, flops: Any, use_flops: bool) -> np.ndarray:
    cols = [np.ones(len(np.asarray(nbytes))), np.asarray(nbytes, float) / 1e6]
    if use_flops:
        cols.append(np.asarray(flops, float) / 1e9)
    return np.column_stack(cols)


def fit_linear_cost(nbytes: Sequence[float], flops: Sequence[float], time_ms: Sequence[float],
                    use_flops: bool = False) -> LinearCost:
    """Non-negative least squares of :class:`LinearCost` on relative errors (in-sample MAPE)."""
    from scipy.optimize import nnls

    t = np.asarray(time_ms, float)
    if len(t) == 0 or np.any(~np.isfinite(t)) or np.any(t <= 0):
        raise ValueError("need at least one row, every time > 0")
    a = _design(nbytes, flops, use_flops)
    coef, _ = nnls(a / t[:, None], np.ones_like(t))
    pred = a @ coef
    return LinearCost(float(coef[0]), float(coef[1]), float(coef[2]) if use_flops else 0.0,
                      n=int(len(t)), mape_pct=float(np.mean(np.abs(pred - t) / t) * 100))


def kfold_mape(nbytes: Sequence[float], flops: Sequence[float], time_ms: Sequence[float],
               use_flops: bool = False, k: int = 5, seed: int = 0) -> float | None:
    """MAPE (%) of :func:`fit_linear_cost` predicting each of ``k`` seeded folds from the
    others; None with fewer than ``2·k`` rows."""
    t = np.asarray(time_ms, float)
    if len(t) < 2 * k:
        return None
    b, f = np.asarray(nbytes, float), np.asarray(flops, float)
    fold = np.random.default_rng(seed).permutation(len(t)) % k
    pred = np.empty_like(t)
    for i in range(k):
        test = fold == i
        cost = fit_linear_cost(b[~test], f[~test], t[~test], use_flops)
        pred[test] = cost.predict(b[test], f[test])
    return float(np.mean(np.abs(pred - t) / t) * 100)


def grouped_rows(timings: pd.DataFrame) -> pd.DataFrame:
    """Grouped-convolution rows of timing-contract data as op-cost rows: ``kind`` (dwconv when
    C_in / groups = 1, else gconv), ``bytes_moved`` (input + weight + output, as the features of
    the α stage), ``flops``, ``time_ms``, ``sweep``."""
    from greenflops.alpha.features import features_from_frame, split_grouped

    _, grouped = split_grouped(timings)
    if grouped.empty:
        return pd.DataFrame(columns=["sweep", "kind", "bytes_moved", "flops", "time_ms"])
    x = features_from_frame(grouped)
    width = grouped["c_in"].to_numpy() // grouped["groups"].to_numpy()
    return pd.DataFrame({"sweep": grouped["sweep"].astype(str).to_numpy(),
                         "kind": np.where(width == 1, "dwconv", "gconv"),
                         "bytes_moved": x.bytes_moved, "flops": x.flops,
                         "time_ms": grouped["time_ms"].to_numpy(dtype=float)})


def fit_op_costs(rows: pd.DataFrame, seed: int = 0) -> dict[str, LinearCost]:
    """One :class:`LinearCost` per ``kind`` of ``rows`` (columns ``kind``, ``bytes_moved``,
    ``flops``, ``time_ms``), plus ``default`` (the :data:`STREAM_KINDS` together), sorted by
    kind. Grouped kinds get a FLOPs term; every cost its k-fold MAPE."""
    out: dict[str, LinearCost] = {}

    def fit(sub: pd.DataFrame, use_flops: bool) -> LinearCost:
        cost = fit_linear_cost(sub["bytes_moved"], sub["flops"], sub["time_ms"], use_flops)
        cv = kfold_mape(sub["bytes_moved"], sub["flops"], sub["time_ms"], use_flops, seed=seed)
        return LinearCost(cost.c0_ms, cost.ms_per_mb, cost.ms_per_gflop, cost.n, cost.mape_pct,
                          cv)

    for kind in sorted(rows["kind"].astype(str).unique()):
        out[kind] = fit(rows[rows["kind"] == kind], kind in GROUPED_KINDS)
    stream = rows[rows["kind"].isin(STREAM_KINDS)]
    if len(stream):
        out["default"] = fit(stream, False)
    return dict(sorted(out.items()))


# --------------------------------------------------------------------------------------------
# Whole-network correction
# --------------------------------------------------------------------------------------------

#: The correction's terms, the per-network columns they multiply, and their neutral values.
_TERMS: dict[str, tuple[str, float]] = {"a_dense": ("dense_ms", 1.0),
                                        "a_grouped": ("grouped_ms", 1.0),
                                        "a_other": ("other_ms", 1.0),
                                        "c_op_ms": ("n_ops", 0.0)}


@dataclass(frozen=True)
class NetCorrection:
    """Whole-network correction of the summed parts (module docstring)."""

    a_dense: float = 1.0
    a_grouped: float = 1.0
    a_other: float = 1.0
    c_op_ms: float = 0.0

    def apply(self, dense_ms: Any, grouped_ms: Any, other_ms: Any, n_ops: Any) -> np.ndarray:
        return (self.a_dense * np.asarray(dense_ms, float)
                + self.a_grouped * np.asarray(grouped_ms, float)
                + self.a_other * np.asarray(other_ms, float)
                + self.c_op_ms * np.asarray(n_ops, float))

    def factor(self, component: str) -> float:
        """The multiplier of a component (dense, grouped, other; free: 0)."""
        return {"dense": self.a_dense, "grouped": self.a_grouped,
                "other": self.a_other}.get(component, 0.0)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def fit_net_correction(parts: pd.DataFrame, measured_ms: Sequence[float],
                       terms: Sequence[str] = tuple(_TERMS)) -> NetCorrection:
    """NNLS on relative errors of the ``terms`` of :class:`NetCorrection` (the others stay at
    their neutral value). ``parts`` has columns ``dense_ms``, ``grouped_ms``, ``other_ms``,
    ``n_ops``, one row per measured network and batch."""
    from scipy.optimize import nnls

    t = np.asarray(measured_ms, float)
    cols = {name: parts[col].to_numpy(dtype=float) for name, (col, _) in _TERMS.items()}
    fixed = sum(_TERMS[k][1] * cols[k] for k in cols if k not in terms)
    a = np.column_stack([cols[k] for k in terms]) / t[:, None]
    coef, _ = nnls(a, 1.0 - fixed / t)
    values = {k: neutral for k, (_, neutral) in _TERMS.items()}
    values.update(zip(terms, map(float, coef)))
    return NetCorrection(**values)


def lono_predictions(parts: pd.DataFrame, measured_ms: Sequence[float],
                     networks: Sequence[str],
                     terms: Sequence[str] = tuple(_TERMS)) -> np.ndarray:
    """Leave-one-network-out predictions: each network's rows predicted by a
    :class:`NetCorrection` fitted on the other networks' rows only. NaN where fewer than two
    other networks are measured."""
    nets = np.asarray(networks).astype(str)
    t = np.asarray(measured_ms, float)
    out = np.full(len(t), np.nan)
    for net in sorted(set(nets)):
        train = nets != net
        if len(set(nets[train])) < 2:
            continue
        corr = fit_net_correction(parts[train], t[train], terms)
        test = ~train
        out[test] = corr.apply(*(parts.loc[test, col] for col, _ in _TERMS.values()))
    return out
