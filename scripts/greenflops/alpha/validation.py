"""Fitting every model on one device and validating it out of sample.

* :func:`loso_predictions` — leave-one-sweep-out: fit on every sweep but one, predict the one left
  out, pool every left-out prediction.
* :func:`error_metrics` — MAPE and median APE in percent.
* :func:`fit_device` — everything for one device: in-sample and LOSO fits of every model, the
  report rows, the per-row predictions, and the best model of each kind, chosen here once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from greenflops.alpha.features import Features, features_from_frame
from greenflops.alpha.fitting import FitResult, fit_model
from greenflops.alpha.models import MODEL_NAMES, get_model, is_alpha_family
from greenflops.timing.contract import KEY_COLUMNS

__all__ = [
    "MIN_ROWS_PER_PARAMETER",
    "DeviceFit",
    "best_model",
    "error_metrics",
    "fit_device",
    "loso_predictions",
    "unidentifiable",
]


def error_metrics(predicted: np.ndarray, measured: np.ndarray) -> dict[str, float]:
    """MAPE and median absolute percentage error (percent) over rows with a prediction."""
    pred = np.asarray(predicted, dtype=float)
    meas = np.asarray(measured, dtype=float)
    ok = np.isfinite(pred)
    if not ok.any():
        return {"mape_pct": float("nan"), "median_ape_pct": float("nan"), "n": 0}
    ape = 100.0 * np.abs(pred[ok] - meas[ok]) / meas[ok]
    return {"mape_pct": float(np.mean(ape)), "median_ape_pct": float(np.median(ape)),
            "n": int(ok.sum())}


def loso_predictions(
    model: str,
    x: Features,
    time_ms: np.ndarray,
    sweeps: np.ndarray,
    warm_by_fold: Mapping[str, Sequence[Mapping[str, float]]] | None = None,
    use: np.ndarray | None = None,
    **fit_kwargs: Any,
) -> tuple[np.ndarray, dict[str, FitResult]]:
    """Leave-one-sweep-out predictions (NaN where a fold cannot predict) and each fold's fit.

    With a single sweep there is nothing to leave out: every prediction is NaN.
    ``warm_by_fold`` gives extra starting points per left-out sweep (see :func:`fit_model`).
    ``use`` marks the rows a fold may be fitted on (default all); every row is predicted.
    """
    sweeps = np.asarray(sweeps)
    use = np.ones(len(sweeps), bool) if use is None else np.asarray(use, bool)
    pred = np.full(len(time_ms), np.nan)
    folds: dict[str, FitResult] = {}
    names = sorted(set(sweeps[use]))
    if len(names) < 2:
        return pred, folds
    for name in sorted(set(sweeps)):
        test = sweeps == name
        train = ~test & use
        fit = fit_model(model, x.subset(train), np.asarray(time_ms)[train],
                        warm_starts=(warm_by_fold or {}).get(name, ()), **fit_kwargs)
        folds[name] = fit
        pred[test] = fit.predict(x.subset(test))
    return pred, folds


@dataclass
class DeviceFit:
    """Every model fitted on one device: fits, LOSO fold fits, report, predictions, notes."""

    fits: dict[str, FitResult]
    folds: dict[str, dict[str, FitResult]]
    report: pd.DataFrame
    by_sweep: pd.DataFrame
    predictions: pd.DataFrame
    notes: dict[str, str]

    @property
    def best_alpha(self) -> str | None:
        """The α-family model with the lowest LOSO MAPE (in-sample if no LOSO)."""
        return best_model(self.report, alpha=True)


def best_model(report: pd.DataFrame, alpha: bool) -> str | None:
    """The α-family (``alpha``) or baseline model with the lowest LOSO MAPE; ties go to the
    first name in sort order. None when no model was validated out of sample (an in-sample fit
    says nothing of other layers). The one place that chooses: ``params.yaml`` records it and
    every figure reads it from there."""
    rows = report[report["model"].map(is_alpha_family) == alpha]
    sub = rows[(rows["scope"] == "loso") & rows["mape_pct"].notna()]
    if len(sub):
        return str(sub.sort_values(["mape_pct", "model"]).iloc[0]["model"])
    return None


#: A model is fitted only on at least this many rows per fitted parameter.
MIN_ROWS_PER_PARAMETER = 5


def unidentifiable(model: str, x: Features, n_rows: int) -> str | None:
    """Why ``model`` cannot be fitted on rows ``x`` (None when it can): fewer than
    :data:`MIN_ROWS_PER_PARAMETER` rows per fitted parameter, or an α model without rows of
    both kernel classes (K = 1 and K > 1: each has its own β and γ)."""
    n_params = len(get_model(model).param_specs(list(x.dtype)))
    if n_rows < MIN_ROWS_PER_PARAMETER * max(n_params, 1):
        return (f"skipped: {n_rows} rows cannot identify {n_params} parameters (at least "
                f"{MIN_ROWS_PER_PARAMETER} rows per parameter)")
    if is_alpha_family(model) and "beta_kn" in {s.name for s in get_model(model).shape_params}:
        classes = {bool(k <= 1) for k in x.k_area}
        if len(classes) < 2:
            missing = "K > 1" if True in classes else "K = 1"
            return f"skipped: no rows with kernel area {missing}, so its β and γ cannot be fitted"
    return None


def fit_device(
    timings: pd.DataFrame,
    device: Mapping[str, Any] | None = None,
    models: Sequence[str] = MODEL_NAMES,
    starts: int = 8,
    seed: int = 0,
    loss: str = "linear",
    f_scale: float = 1.0,
    max_rel_iqr: float | None = None,
) -> DeviceFit:
    """Fit ``models`` on one device's timings (contract format), in-sample and LOSO.

    ``device`` is the device's ``device.yaml``; its ``peak_gflops`` and ``mem_bandwidth_gbs`` feed
    the roofline model, which is skipped with a note when either is missing. Rows whose
    ``time_ms_iqr / time_ms`` exceeds ``max_rel_iqr`` (too noisy) are predicted but neither
    fitted on nor counted in the metrics (``fitted`` column of the predictions). ``loss`` and
    ``f_scale`` go to :func:`fit_model`.
    """
    timings = timings.sort_values(list(KEY_COLUMNS), kind="mergesort").reset_index(drop=True)
    x = features_from_frame(timings)
    y = timings["time_ms"].to_numpy(dtype=float)
    sweeps = timings["sweep"].astype(str).to_numpy()
    use = np.ones(len(y), bool)
    notes: dict[str, str] = {}
    if max_rel_iqr is not None and "time_ms_iqr" in timings:
        rel = timings["time_ms_iqr"].to_numpy(dtype=float) / y
        use = ~(rel > max_rel_iqr)  # NaN (no IQR given) is kept
        if (~use).any():
            notes["noisy_rows"] = (f"{int((~use).sum())} of {len(y)} rows have an interquartile "
                                   f"range above {max_rel_iqr:g} x their median time: predicted, "
                                   "but not fitted on or counted in the metrics")
    if use.sum() == 0:
        raise ValueError("no timing row passes the noise filter (max_rel_iqr)")
    device = dict(device or {})
    fits: dict[str, FitResult] = {}
    folds: dict[str, dict[str, FitResult]] = {}
    report_rows: list[dict[str, Any]] = []
    sweep_rows: list[dict[str, Any]] = []
    pred_frames: list[pd.DataFrame] = []
    if len(set(sweeps[use])) < 2:
        notes["loso"] = "only one sweep: leave-one-sweep-out validation is not possible"
    for name in models:
        fixed: dict[str, float] = {}
        if name == "roofline":
            peak, bw = device.get("peak_gflops"), device.get("mem_bandwidth_gbs")
            if peak is None or bw is None:
                notes["roofline"] = ("skipped: device.yaml has no "
                                     + " / ".join(k for k, v in (("peak_gflops", peak),
                                                                 ("mem_bandwidth_gbs", bw))
                                                  if v is None))
                continue
            fixed = {"peak_gflops": float(peak), "mem_bandwidth_gbs": float(bw)}
        reason = unidentifiable(name, x.subset(use), int(use.sum()))
        if reason:
            notes[name] = reason
            continue
        # Warm starts from the α models fitted before (each α model extends the previous one).
        warm = [f.params for m, f in fits.items() if is_alpha_family(m) and is_alpha_family(name)]
        opts = dict(starts=starts, seed=seed, fixed=fixed, loss=loss, f_scale=f_scale)
        fit = fit_model(name, x.subset(use), y[use], warm_starts=warm, **opts)
        fits[name] = fit
        in_pred = fit.predict(x)
        # Each fold starts where the fit on all rows ended (its data differ by one sweep): no
        # random restarts, several times faster than fitting each fold afresh.
        lo_pred, lo_folds = loso_predictions(
            name, x, y, sweeps, use=use, **dict(opts, starts=0),
            warm_by_fold={s: [fit.params] for s in sorted(set(sweeps))})
        folds[name] = lo_folds
        for scope, pred in (("in_sample", in_pred), ("loso", lo_pred)):
            report_rows.append({"model": name, "scope": scope,
                                **error_metrics(pred[use], y[use])})
            for sweep in sorted(set(sweeps)):
                rows = (sweeps == sweep) & use
                sweep_rows.append({"model": name, "scope": scope, "sweep": sweep,
                                   **error_metrics(pred[rows], y[rows])})
            frame = timings[[*KEY_COLUMNS, "flops", "time_ms"]].copy()
            frame["model"] = name
            frame["scope"] = scope
            frame["time_ms_pred"] = pred
            frame["ape_pct"] = 100.0 * np.abs(pred - y) / y
            frame["fitted"] = use
            pred_frames.append(frame)
    report = pd.DataFrame(report_rows, columns=["model", "scope", "mape_pct", "median_ape_pct",
                                                "n"])
    by_sweep = pd.DataFrame(sweep_rows, columns=["model", "scope", "sweep", "mape_pct",
                                                 "median_ape_pct", "n"])
    columns = [*KEY_COLUMNS, "flops", "time_ms", "model", "scope", "time_ms_pred", "ape_pct",
               "fitted"]
    predictions = (pd.concat(pred_frames, ignore_index=True) if pred_frames
                   else pd.DataFrame(columns=columns))
    return DeviceFit(fits, folds, report, by_sweep, predictions, notes)

