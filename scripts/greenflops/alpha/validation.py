"""Fitting every model on one device and validating it out of sample.

* :func:`loso_predictions` — leave-one-sweep-out: fit on every sweep but one, predict the one left
  out, pool every left-out prediction (scope ``loso``).
* :func:`kfold_masks` — a seeded k-fold partition of the rows (scope ``kfold``): some datasets
  are random shapes rather than one-factor sweeps.
* :func:`error_metrics` — MAPE and median APE in percent.
* :func:`fit_device` — everything for one device: in-sample, LOSO and k-fold fits of every model,
  the report rows, the per-row predictions, and the best model of each kind and the recommended
  model (:mod:`greenflops.alpha.recommend`), chosen here once.

Every fold starts where the fit on all rows ended (a learned model is refitted), and every
out-of-sample prediction is bounded by the fold's own training rows
(:mod:`greenflops.alpha.bounds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from greenflops.alpha.bounds import (
    DEFAULT_BOUND,
    REFERENCE,
    bound_predictions,
    factor_of,
    falls_back,
    novel_op,
)
from greenflops.alpha.device_facts import PEAK_HEADROOM, DeviceFacts, device_facts
from greenflops.alpha.features import Features, features_from_frame
from greenflops.alpha.fitting import DEFAULT_RESIDUAL, FitResult, fit_model
from greenflops.alpha.models import MODEL_NAMES, get_model, is_alpha_family, is_gpu_family
from greenflops.alpha.recommend import recommend
from greenflops.timing.contract import KEY_COLUMNS, with_defaults

__all__ = [
    "MIN_ROWS_LEARNED",
    "MIN_ROWS_PER_PARAMETER",
    "DeviceFit",
    "FoldOutcome",
    "best_model",
    "error_metrics",
    "fit_device",
    "kfold_masks",
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


def kfold_masks(n: int, k: int = 5, seed: int = 0) -> list[np.ndarray]:
    """``k`` boolean test masks partitioning ``n`` rows after a seeded shuffle."""
    perm = np.random.default_rng(seed).permutation(n)
    masks = []
    for part in np.array_split(perm, k):
        mask = np.zeros(n, bool)
        mask[part] = True
        masks.append(mask)
    return masks


@dataclass
class FoldOutcome:
    """Out-of-sample predictions of one model in one scope and what the guards did
    (:mod:`greenflops.alpha.bounds`)."""

    pred: np.ndarray  #: guarded predictions (NaN: no prediction)
    raw: np.ndarray  #: the model's own predictions, unguarded
    fits: dict[str, FitResult]  #: each fold's fit
    fell_back: list[str] = field(default_factory=list)  #: folds predicted by the reference
    bounded: int = 0  #: predictions the envelope changed
    novel: int = 0  #: held-out rows of a GEMM class no training row has (reference predicts)
    #: GPU-family factors fixed at their neutral value in a fold (but fitted on all rows)
    neutral: dict[str, list[str]] = field(default_factory=dict)


def _fold_predictions(model: str, x: Features, y: np.ndarray, tests: Sequence[tuple[str, Any]],
                      use: np.ndarray, warm: Sequence[Mapping[str, float]],
                      reference: np.ndarray | None = None, factor: float | None = None,
                      full_inactive: Mapping[str, float] | None = None, **fit_kwargs: Any
                      ) -> FoldOutcome:
    """Predictions of every ``(label, test mask)`` fold from a fit on the other ``use`` rows.
    With the reference's held-out predictions ``reference`` (same scope), a fold whose fit
    misses its own training rows falls back to them and every prediction is bounded around
    them (``factor``; :mod:`greenflops.alpha.bounds`)."""
    out = FoldOutcome(np.full(len(y), np.nan), np.full(len(y), np.nan), {})
    for label, test in tests:
        train = ~test & use
        if not train.any() or not test.any():
            continue
        xt, yt = x.subset(train), y[train]
        fit = fit_model(model, xt, yt, warm_starts=warm, **fit_kwargs)
        out.fits[label] = fit
        new = sorted(set(fit.inactive) - set(full_inactive or {}))
        if new:
            out.neutral[label] = new
        xs = x.subset(test)
        raw = fit.predict(xs)
        out.raw[test] = raw
        if reference is not None:
            ref = reference[test]
            if falls_back(fit.predict(xt), yt):
                out.fell_back.append(label)
                raw = ref
            else:
                novel = novel_op(xs, xt) & np.isfinite(ref)
                if novel.any():  # a GEMM class the fold never saw: the reference predicts it
                    out.novel += int(np.sum(novel))
                    raw = np.where(novel, ref, raw)
            guarded = bound_predictions(raw, ref, factor)
            out.bounded += int(np.sum(np.isfinite(raw) & (guarded != raw)))
            raw = guarded
        out.pred[test] = raw
    return out


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
    No bound (:func:`fit_device` bounds its folds).
    """
    sweeps = np.asarray(sweeps)
    use = np.ones(len(sweeps), bool) if use is None else np.asarray(use, bool)
    pred = np.full(len(time_ms), np.nan)
    folds: dict[str, FitResult] = {}
    if len(set(sweeps[use])) < 2:
        return pred, folds
    y = np.asarray(time_ms, dtype=float)
    for name in sorted(set(sweeps)):
        o = _fold_predictions(model, x, y, [(name, sweeps == name)], use,
                              (warm_by_fold or {}).get(name, ()), **fit_kwargs)
        pred[sweeps == name] = o.pred[sweeps == name]
        folds.update(o.fits)
    return pred, folds


@dataclass
class DeviceFit:
    """Every model fitted on one device: fits, fold fits, report, predictions, notes."""

    fits: dict[str, FitResult]
    folds: dict[str, dict[str, FitResult]]
    report: pd.DataFrame
    by_sweep: pd.DataFrame
    predictions: pd.DataFrame
    notes: dict[str, str]
    facts: DeviceFacts | None = None
    #: (model, scope) -> what the out-of-sample guards did (:mod:`greenflops.alpha.bounds`):
    #: ``fell_back`` (folds), ``bounded`` (predictions), ``neutral`` (fold -> factors fixed at 1),
    #: ``mape_unguarded_pct``
    guards: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    recommendation: dict[str, Any] = field(default_factory=dict)

    @property
    def best_alpha(self) -> str | None:
        """The α-family model with the lowest LOSO MAPE (in-sample if no LOSO)."""
        return best_model(self.report, alpha=True)

    @property
    def recommended(self) -> str | None:
        """The model to use on this device (:func:`greenflops.alpha.recommend.recommend`)."""
        return self.recommendation.get("model")


def best_model(report: pd.DataFrame, alpha: bool) -> str | None:
    """The α-family (``alpha``) or baseline model with the lowest LOSO MAPE; ties go to the
    first name in sort order. None when no model was validated out of sample (an in-sample fit
    says nothing of other layers). The one place that chooses: ``params.yaml`` records it and
    every figure reads it from there. Baselines are the FLOPs and roofline models of the paper
    (the GPU family and the learned reference are compared in the recommendation)."""
    from greenflops.alpha.models import is_learned

    if report.empty:
        return None
    family = report["model"].map(lambda m: is_alpha_family(m) == alpha and not is_gpu_family(m)
                                 and not is_learned(m)).astype(bool)
    rows = report[family.to_numpy()]
    sub = rows[(rows["scope"] == "loso") & rows["mape_pct"].notna()]
    if len(sub):
        return str(sub.sort_values(["mape_pct", "model"]).iloc[0]["model"])
    return None


#: A model is fitted only on at least this many rows per fitted parameter.
MIN_ROWS_PER_PARAMETER = 5
#: The learned reference is fitted only on at least this many rows.
MIN_ROWS_LEARNED = 50


def unidentifiable(model: str, x: Features, n_rows: int) -> str | None:
    """Why ``model`` cannot be fitted on rows ``x`` (None when it can): fewer than
    :data:`MIN_ROWS_PER_PARAMETER` rows per fitted parameter (for the learned reference, fewer
    than :data:`MIN_ROWS_LEARNED` rows), an α model without rows of both kernel classes (K = 1
    and K > 1: each has its own β and γ), or a GPU-family model on rows of several dtypes (its
    throughput and bandwidth are per dtype)."""
    spec = get_model(model)
    if spec.kind == "learned":
        if n_rows < MIN_ROWS_LEARNED:
            return (f"skipped: {n_rows} rows are too few for the learned reference (at least "
                    f"{MIN_ROWS_LEARNED})")
        return None
    if spec.uses_device and len(set(x.dtype)) > 1:
        return "skipped: rows of several dtypes (the GPU family is fitted per dtype)"
    n_params = len(spec.specs_for(x))
    if n_rows < MIN_ROWS_PER_PARAMETER * max(n_params, 1):
        return (f"skipped: {n_rows} rows cannot identify {n_params} parameters (at least "
                f"{MIN_ROWS_PER_PARAMETER} rows per parameter)")
    if is_alpha_family(model) and "beta_kn" in {s.name for s in spec.shape_params}:
        classes = {bool(k <= 1) for k in x.k_area}
        if len(classes) < 2:
            missing = "K > 1" if True in classes else "K = 1"
            return f"skipped: no rows with kernel area {missing}, so its β and γ cannot be fitted"
    return None


def _group(name: str) -> str | None:
    """Models that warm-start each other: each α model extends the one before, and so does
    each GPU-family member."""
    if is_alpha_family(name):
        return "alpha"
    return get_model(name).group


def fit_device(
    timings: pd.DataFrame,
    device: Mapping[str, Any] | None = None,
    models: Sequence[str] = MODEL_NAMES,
    starts: int = 8,
    seed: int = 0,
    loss: str = "linear",
    f_scale: float = 1.0,
    max_rel_iqr: float | None = None,
    residual: str = DEFAULT_RESIDUAL,
    *,
    spec: Any | None = None,
    kfold: int | None = None,
    kfold_seed: int = 0,
    bound: Mapping[str, Any] | None = DEFAULT_BOUND,
    family_starts: int | None = None,
) -> DeviceFit:
    """Fit ``models`` on one device's timings (contract format), in-sample and out of sample.

    ``device`` is the device's ``device.yaml`` and ``spec`` its row of the GPU spec table (or
    None): the device facts (:func:`greenflops.alpha.device_facts.device_facts`) feed the roofline
    model, skipped with a note when peak or bandwidth is unknown, and the GPU family, which falls
    back without them. Rows whose ``time_ms_iqr / time_ms`` exceeds ``max_rel_iqr`` (too noisy)
    are predicted but neither fitted on nor counted in the metrics (``fitted`` column of the
    predictions), and so are 1×1 layers faster than the datasheet allows
    (:meth:`~greenflops.alpha.device_facts.DeviceFacts.faster_than_peak`). ``loss``,
    ``f_scale`` and ``residual`` go to :func:`fit_model`; ``starts`` is the number of starts of
    each full fit (``family_starts`` for the GPU family, default ``starts``).

    Out of sample: leave-one-sweep-out with at least two sweeps, and with ``kfold`` a seeded
    ``kfold``-fold cross-validation (``kfold_seed``); each fold warm-started at the full fit and
    its predictions bounded by its own training rows (``bound``, None: unbounded;
    :mod:`greenflops.alpha.bounds`).
    """
    timings = with_defaults(timings)  # optional contract columns (groups) filled in
    timings = timings.sort_values(list(KEY_COLUMNS), kind="mergesort").reset_index(drop=True)
    dtypes = timings["dtype"].astype(str).unique().tolist()
    facts = device_facts(device, spec, dtypes)
    x = features_from_frame(timings, facts)
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
    too_fast = facts.faster_than_peak(x.flops, y, x.k_area)
    if too_fast.any():
        use &= ~too_fast
        rows = "; ".join(_row_text(timings, i) for i in np.flatnonzero(too_fast)[:5])
        notes["faster_than_peak"] = (
            f"{int(too_fast.sum())} of {len(y)} rows of 1x1 kernels would run above "
            f"{PEAK_HEADROOM:g} x the datasheet's {facts.ceiling_gflops:g} GFLOP/s ({rows}"
            + (", ..." if too_fast.sum() > 5 else "") + "): no execution of their FLOPs, so "
            "predicted, but not fitted on or counted in the metrics")
    if use.sum() == 0:
        raise ValueError("no timing row passes the noise filter (max_rel_iqr) and the "
                         "datasheet's peak")
    fits: dict[str, FitResult] = {}
    folds: dict[str, dict[str, FitResult]] = {}
    guards: dict[tuple[str, str], dict[str, Any]] = {}
    scopes_pred: dict[str, dict[str, np.ndarray]] = {}
    loso_tests = [(s, sweeps == s) for s in sorted(set(sweeps))]
    if len(set(sweeps[use])) < 2:
        notes["loso"] = "only one sweep: leave-one-sweep-out validation is not possible"
        loso_tests = []
    kfold_tests = []
    if kfold:
        if int(use.sum()) < 2 * kfold:
            notes["kfold"] = f"{int(use.sum())} rows: too few for {kfold}-fold cross-validation"
        else:
            kfold_tests = [(f"fold{i + 1}", m) for i, m in enumerate(
                kfold_masks(len(y), kfold, kfold_seed))]
    xu = x.subset(use)
    factor = factor_of(bound)
    tests_of = {"loso": loso_tests, "kfold": kfold_tests}
    # The guards' reference (greenflops.alpha.bounds), fitted on every fold once for all models.
    ref_pred: dict[str, np.ndarray | None] = {"loso": None, "kfold": None}
    if bound is not None and not unidentifiable(REFERENCE, xu, int(use.sum())):
        ref_opts = {"seed": seed, "loss": loss, "f_scale": f_scale, "residual": residual}
        ref_full = fit_model(REFERENCE, xu, y[use], starts=starts, **ref_opts)
        for scope, tests in tests_of.items():
            if tests:
                ref_pred[scope] = _fold_predictions(REFERENCE, x, y, tests, use,
                                                    [ref_full.params], starts=0, **ref_opts).pred
    elif bound is not None and (loso_tests or kfold_tests):
        notes["guard"] = f"no out-of-sample guard: {REFERENCE} cannot be fitted on these rows"
    for name in models:
        fixed: dict[str, float] = {}
        if name == "roofline":
            peak, bw = facts.peak_gflops, facts.bandwidth_gbs
            if peak is None or bw is None:
                notes["roofline"] = ("skipped: device.yaml has no "
                                     + " / ".join(k for k, v in (("peak_gflops", peak),
                                                                 ("mem_bandwidth_gbs", bw))
                                                  if v is None)
                                     + " and no gpu_specs.csv row gives it")
                continue
            fixed = {"peak_gflops": float(peak), "mem_bandwidth_gbs": float(bw)}
        reason = unidentifiable(name, xu, int(use.sum()))
        if reason:
            notes[name] = reason
            continue
        group = _group(name)
        warm = [f.params for m, f in fits.items() if group is not None and _group(m) == group]
        n_starts = family_starts if (family_starts is not None and group == "gpu") else starts
        opts = {"seed": seed, "fixed": fixed, "loss": loss, "f_scale": f_scale,
                "residual": residual}
        fit = fit_model(name, xu, y[use], warm_starts=warm, starts=n_starts, **opts)
        fits[name] = fit
        preds = {"in_sample": fit.predict(x)}
        folds[name] = {}
        for scope, tests in tests_of.items():
            if not tests and scope == "kfold":
                continue
            # Each fold starts where the fit on all rows ended (its data differ by one sweep or
            # fold): no random restarts, several times faster than fitting each fold afresh.
            outcome = _fold_predictions(
                name, x, y, tests, use, [fit.params],
                reference=ref_pred[scope] if name != REFERENCE else None, factor=factor,
                full_inactive=fit.inactive, starts=0, **opts)
            preds[scope] = outcome.pred
            guards[(name, scope)] = {
                "fell_back": outcome.fell_back, "bounded": outcome.bounded,
                "novel": outcome.novel,
                "neutral": outcome.neutral,
                "mape_unguarded_pct": error_metrics(outcome.raw[use], y[use])["mape_pct"]}
            folds[name].update({(label if scope == "loso" else f"kfold:{label}"): f
                                for label, f in outcome.fits.items()})
        scopes_pred[name] = preds
    report, by_sweep, predictions = _tables(timings, scopes_pred, y, sweeps, use, guards)
    devfit = DeviceFit(fits, folds, report, by_sweep, predictions, notes, facts, guards)
    devfit.recommendation = recommend(report, n_sweeps=len(set(sweeps[use])),
                                      n_params={m: len(f.specs) for m, f in fits.items()})
    return devfit


def _row_text(timings: pd.DataFrame, i: int) -> str:
    """One timing row in a note: its sweep and shape, FLOPs and time."""
    r = timings.iloc[i]
    return (f"{r['sweep']}: {r['op']} batch {r['batch']}, {r['c_in']}->{r['c_out']}, "
            f"{r['h']}x{r['w']}, kernel {r['k_h']}x{r['k_w']}, {r['flops'] / 1e9:.3g} GFLOP in "
            f"{r['time_ms']:.3g} ms")


def _tables(timings: pd.DataFrame, preds: Mapping[str, Mapping[str, np.ndarray]], y: np.ndarray,
            sweeps: np.ndarray, use: np.ndarray,
            guards: Mapping[tuple[str, str], Mapping[str, Any]] | None = None
            ) -> tuple[pd.DataFrame, ...]:
    """fit_report, fit_report_by_sweep and predictions of every model and scope."""
    report_rows: list[dict[str, Any]] = []
    sweep_rows: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    base = timings[[*KEY_COLUMNS, "flops", "time_ms"]]
    for name, scopes in preds.items():
        for scope, pred in scopes.items():
            guard = (guards or {}).get((name, scope), {})
            report_rows.append({"model": name, "scope": scope,
                                **error_metrics(pred[use], y[use]),
                                "mape_unguarded_pct": guard.get("mape_unguarded_pct",
                                                                float("nan")),
                                "fell_back": len(guard.get("fell_back", [])),
                                "novel_op": int(guard.get("novel", 0)),
                                "bounded": int(guard.get("bounded", 0))})
            for sweep in sorted(set(sweeps)):
                rows = (sweeps == sweep) & use
                sweep_rows.append({"model": name, "scope": scope, "sweep": sweep,
                                   **error_metrics(pred[rows], y[rows])})
            frame = base.copy()
            frame["model"] = name
            frame["scope"] = scope
            frame["time_ms_pred"] = pred
            frame["ape_pct"] = 100.0 * np.abs(pred - y) / y
            frame["fitted"] = use
            frames.append(frame)
    report = pd.DataFrame(report_rows, columns=["model", "scope", "mape_pct", "median_ape_pct",
                                                "n", "mape_unguarded_pct", "fell_back",
                                                "novel_op", "bounded"])
    by_sweep = pd.DataFrame(sweep_rows, columns=["model", "scope", "sweep", "mape_pct",
                                                 "median_ape_pct", "n"])
    columns = [*KEY_COLUMNS, "flops", "time_ms", "model", "scope", "time_ms_pred", "ape_pct",
               "fitted"]
    predictions = (pd.concat(frames, ignore_index=True) if frames
                   else pd.DataFrame(columns=columns))
    return report, by_sweep, predictions
