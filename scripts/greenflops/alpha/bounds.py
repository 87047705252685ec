"""The last guard on out-of-sample predictions: a fold's own reference fit (no test data used).

Every validation fold (a left-out sweep, a k-fold part) fits :data:`REFERENCE` — ``flops_overhead``,
``t = c0 + scale · FLOPs``, two parameters that cannot extrapolate wildly — on the fold's
training rows. Then, for every other model fitted on the same rows:

1. **Fall back**: a model whose fit misses its *own training rows* by more than
   :data:`MAX_TRAIN_MAPE` percent (MAPE) is not trusted to predict other rows; the fold predicts
   with the reference instead (for instance ``alpha_paper``, whose β and γ were regressed on
   the T2000, on a CPU).
2. **Op never seen**: held-out layers of a GEMM class (:func:`gemm_class`: a plain GEMM, or a
   convolution with spatial extent) that no training layer has — the left-out sweep is the only
   one of its class — are predicted by the reference (:func:`novel_op`): nothing the fold fitted
   describes them, and the reference's two parameters cannot extrapolate wildly.
3. **Bound**: each held-out prediction is kept within ``[ref / factor, factor · ref]`` of the
   reference's (config ``alpha.oos_bound``; None: no bound). The envelope is wide: it catches a
   term the fold could not fit (a sweep that is the only one of its kernel class left out)
   extrapolating by orders of magnitude, not the model's ordinary error.

These come after the GPU family's own guards (physical bounds, weak priors and neutral
fallbacks, :mod:`greenflops.alpha.gpu_models`). The fit report counts what happened per model
and scope (``fit_report.csv`` columns ``fell_back``, ``novel_op`` and ``bounded``; ``mape_unguarded_pct`` is
the MAPE without this module).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["DEFAULT_BOUND", "MAX_TRAIN_MAPE", "REFERENCE", "bound_predictions", "factor_of",
           "falls_back", "gemm_class", "novel_op"]

#: The reference model fitted on every fold.
REFERENCE = "flops_overhead"
#: A model missing its own training rows by more than this MAPE (percent) falls back.
MAX_TRAIN_MAPE = 100.0
#: The workflow's default (config ``alpha.oos_bound``).
DEFAULT_BOUND: dict[str, Any] | None = {"factor": 20.0}


def factor_of(bound: Mapping[str, Any] | None) -> float | None:
    """The envelope factor of a config ``oos_bound`` (None: unbounded)."""
    if bound is None:
        return None
    factor = float(bound.get("factor", 20.0))
    if factor < 1:
        raise ValueError("the bound's factor must be >= 1")
    return factor


def falls_back(train_pred: np.ndarray, train_y: np.ndarray) -> bool:
    """Whether a fit whose predictions of its own training rows are ``train_pred`` (measured
    ``train_y``) misses them by more than :data:`MAX_TRAIN_MAPE` (or predicts none)."""
    pred = np.asarray(train_pred, dtype=float)
    ok = np.isfinite(pred)
    if not ok.any():
        return True
    ape = 100.0 * np.abs(pred[ok] - train_y[ok]) / train_y[ok]
    return bool(np.mean(ape) > MAX_TRAIN_MAPE)


def gemm_class(x: Any) -> np.ndarray:
    """True for layers that are a plain GEMM: dense layers, and convolutions whose implicit GEMM
    is the dense layer's (a 1×1 kernel on a 1×1 input, one group: ``M = batch``); False for
    convolutions with spatial extent or a larger kernel."""
    conv = np.asarray(x.is_conv, bool)
    groups = np.ones(len(conv)) if x.groups is None else np.asarray(x.groups)
    plain = ((np.asarray(x.k_area) == 1) & (np.asarray(x.h_out) * np.asarray(x.w_out) == 1)
             & (groups == 1))
    return ~conv | plain


def novel_op(x_test: Any, x_train: Any) -> np.ndarray:
    """Held-out layers of a GEMM class (:func:`gemm_class`) that no training layer has: the
    left-out sweep is the only one of its class (a device with one convolution sweep and one GEMM
    sweep, say). A dense sweep is not novel beside 1×1 convolutions on a 1×1 input (the α-FLOPs
    paper's dense-versus-convolution sweep): they run the same GEMM."""
    return ~np.isin(gemm_class(x_test), np.unique(gemm_class(x_train)))


def bound_predictions(pred: np.ndarray, reference: np.ndarray, factor: float | None
                      ) -> np.ndarray:
    """``pred`` clipped to ``[reference / factor, factor · reference]`` (unchanged where the
    reference has no prediction, or with ``factor`` None). NaN stays NaN."""
    pred = np.asarray(pred, dtype=float)
    ref = np.asarray(reference, dtype=float)
    if factor is None:
        return pred
    ok = np.isfinite(pred) & np.isfinite(ref) & (ref > 0)
    out = pred.copy()
    out[ok] = np.clip(pred[ok], ref[ok] / factor, ref[ok] * factor)
    return out
