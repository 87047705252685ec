"""A learned reference: gradient-boosted trees on log-scaled shape features.

No physics and nothing to interpret: the trees show what the interpretable models give up (or
gain) under the same validation. scikit-learn's
:class:`~sklearn.ensemble.HistGradientBoostingRegressor` with least squares on the log ratio of
the measured time to a baseline fitted on the same rows (:data:`BASELINE`, ``scale · FLOPs``):
the trees learn how far each shape falls short of the device's average throughput. Trees are
constant beyond the shapes they were fitted on, so a layer smaller or larger than every training
layer keeps the nearest leaf's throughput (its time scales with its FLOPs) instead of taking the
nearest training layer's time. Hyper-parameters fixed a priori (:data:`GBT_PARAMS`: no tuning
on the test folds), seeded, no early stopping (it would hold rows out at random). scikit-learn
is imported only when trees are fitted. The trees are refitted on every validation fold (no warm
start); ``params.yaml`` records the hyper-parameters and the features, not the trees, so a
learned model cannot be predicted from it and is never the recommended model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from greenflops.alpha.timemodel import TimeModel

__all__ = ["BASELINE", "FEATURE_NAMES", "GBT_PARAMS", "LEARNED_MODELS", "FittedTrees", "fit_trees",
           "shape_features"]

#: The interpretable model whose prediction the trees correct (fitted on the trees' rows). Time
#: ∝ FLOPs, not ``overhead + scale · FLOPs``: a fold without small layers overestimates the
#: overhead, and the trees' correction then multiplies that error on layers below the fold's range.
BASELINE = "flops"

#: Hyper-parameters, fixed a priori (small data: shallow trees, shrinkage, one thread; 150
#: rounds on 64 bins keep a device's 10-20 refits within the fit's time budget).
GBT_PARAMS: dict[str, Any] = {"max_iter": 150, "learning_rate": 0.1, "max_leaf_nodes": 15,
                              "min_samples_leaf": 5, "l2_regularization": 1.0, "max_bins": 64,
                              "random_state": 0}

#: The columns of :func:`shape_features`.
FEATURE_NAMES: tuple[str, ...] = (
    "log2_m", "log2_n", "log2_k", "log2_flops", "log2_bytes", "log2_batch", "log2_c_in",
    "log2_c_out", "log2_hw", "k_h", "k_w", "stride", "is_conv", "log2_intensity",
)


def shape_features(x: Any) -> np.ndarray:
    """Log-scaled layer-shape features (columns :data:`FEATURE_NAMES`) of
    :class:`~greenflops.alpha.features.Features` ``x``; the implicit GEMM's M, N, K included."""
    lg = np.log2
    k = x.c_red
    return np.column_stack([
        lg(x.s), lg(x.c_out), lg(k), lg(x.flops), lg(x.bytes_read),
        lg(x.batch.astype(float)), lg(x.c_in), lg(x.c_out), lg((x.h * x.w).astype(float)),
        x.k_h, x.k_w, x.stride, x.is_conv.astype(float), lg(x.flops / x.bytes_read),
    ]).astype(float)


@dataclass
class FittedTrees:
    """Fitted trees on top of their baseline fit; :meth:`predict` returns milliseconds."""

    estimator: Any
    baseline: Any  #: the :data:`BASELINE` fit (a FitResult) on the same rows

    def predict(self, x: Any) -> np.ndarray:
        return self.baseline.predict(x) * np.exp(self.estimator.predict(shape_features(x)))


def fit_trees(x: Any, time_ms: np.ndarray, loss: str = "linear", f_scale: float = 1.0
              ) -> FittedTrees:
    """Gradient-boosted trees fitted on features ``x`` and measured ``time_ms``: the
    :data:`BASELINE` fit first (``loss``, ``f_scale``: as the interpretable models'), then the
    trees on the log ratio of the time to its prediction."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    from greenflops.alpha.fitting import fit_model

    y = np.asarray(time_ms, dtype=float)
    # one scale per dtype, a linear least-squares problem in log space (the trees then correct
    # the log ratio, so the baseline is centred in log too): one start finds it
    baseline = fit_model(BASELINE, x, y, starts=1, loss=loss, f_scale=f_scale, residual="log")
    params = dict(GBT_PARAMS)
    # few rows: smaller leaves
    params["min_samples_leaf"] = int(min(params["min_samples_leaf"], max(len(y) // 20, 2)))
    estimator = HistGradientBoostingRegressor(early_stopping=False, **params)
    with threadpool_limits(1):  # one core: the workflow runs jobs side by side
        estimator.fit(shape_features(x), np.log(y) - np.log(baseline.predict(x)))
    return FittedTrees(estimator, baseline)


def _not_from_parameters(params: Any, x: Any, scale: Any) -> np.ndarray:
    raise ValueError("a learned model has no parameters to predict from: refit it "
                     "(greenflops.alpha.learned.fit_trees)")


#: The learned models, registered beside the interpretable ones.
LEARNED_MODELS: tuple[TimeModel, ...] = (
    TimeModel("gbt", "learned reference: gradient-boosted trees (scikit-learn "
              "HistGradientBoostingRegressor) on log-scaled shape features correcting a time ∝ "
              "FLOPs fit, fixed hyper-parameters; not interpretable, never recommended", (),
              _not_from_parameters, needs_scale=False, kind="learned"),
)
