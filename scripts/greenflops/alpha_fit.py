"""Fit the time models of :mod:`greenflops.alpha` to one device's timings and validate them.

* :func:`fit_model` — least squares on the *relative* error, i.e. on ``log(predicted) −
  log(measured)``, with bounds and several starts (:func:`scipy.optimize.least_squares`, method
  ``trf``); standard errors from the Jacobian at the optimum (``σ² (JᵀJ)⁻¹``).
* :func:`loso_predictions` — leave-one-sweep-out: fit on every sweep but one, predict the one left
  out, pool every left-out prediction.
* :func:`error_metrics` — MAPE and median APE in percent.
* :func:`fit_device` — everything for one device: in-sample and LOSO fits of every model, the
  report rows and the per-row predictions.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from greenflops.alpha import (
    MODEL_NAMES,
    Features,
    ParamSpec,
    TimeModel,
    features_from_frame,
    get_model,
    is_alpha_family,
)
from greenflops.tables import TableValidationError
from greenflops.timings_data import read_device, read_timings

__all__ = [
    "DeviceFit",
    "FitResult",
    "error_metrics",
    "fit_device",
    "fit_model",
    "flops_levels",
    "load_device",
    "neighbour_floor",
    "loso_predictions",
    "params_document",
]


@dataclass
class FitResult:
    """A fitted model: parameter values and standard errors (natural units), fit statistics."""

    model: str
    params: dict[str, float]
    stderr: dict[str, float]
    at_bound: dict[str, bool]
    n: int
    rms_log_residual: float
    starts: int
    cost: float
    specs: list[ParamSpec] = field(default_factory=list)

    def predict(self, x: Features) -> np.ndarray:
        return get_model(self.model).predict(self.params, x)


def _to_internal(spec: ParamSpec, value: float) -> float:
    return math.log(value) if spec.log else value


def _to_natural(spec: ParamSpec, value: float) -> float:
    return math.exp(value) if spec.log else value


def _bounds(specs: Sequence[ParamSpec]) -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([_to_internal(s, s.lower) for s in specs])
    hi = np.array([_to_internal(s, s.upper) for s in specs])
    return lo, hi


def _draw_start(spec: ParamSpec, rng: np.random.Generator) -> float:
    lo, hi = spec.start_range if spec.start_range is not None else (spec.lower, spec.upper)
    if spec.log:
        return float(rng.uniform(math.log(lo), math.log(hi)))
    return float(rng.uniform(lo, hi))


def _params_of(specs: Sequence[ParamSpec], u: np.ndarray) -> dict[str, float]:
    return {s.name: _to_natural(s, float(v)) for s, v in zip(specs, u)}


def fit_model(
    model: TimeModel | str,
    x: Features,
    time_ms: np.ndarray,
    *,
    starts: int = 8,
    seed: int = 0,
    fixed: Mapping[str, float] | None = None,
    warm_starts: Sequence[Mapping[str, float]] = (),
    loss: str = "linear",
    f_scale: float = 1.0,
) -> FitResult:
    """Fit ``model`` to measured ``time_ms`` by least squares on log residuals.

    ``starts`` starting points: the specs' own start values, then random ones (seeded, so the
    fit is deterministic) drawn from each parameter's ``start_range``. The scale parameters start
    at the value that zeroes the mean log residual of each dtype. ``fixed`` adds constants the
    model needs but does not fit (the roofline's peak and bandwidth). Parameters marked
    ``cap_at_min_time`` (per-call overheads) are bounded by the fastest measured time.
    """
    model = get_model(model) if isinstance(model, str) else model
    y = np.asarray(time_ms, dtype=float)
    if len(y) != len(x) or len(y) == 0:
        raise ValueError("need one measured time per feature row, and at least one row")
    if np.any(~np.isfinite(y)) or np.any(y <= 0):
        raise ValueError("measured times must be finite and > 0")
    log_y = np.log(y)
    extra = dict(fixed or {})
    specs = model.param_specs(list(x.dtype))
    if not specs:
        pred = model.predict(extra, x)
        res = np.log(pred) - log_y
        return FitResult(model.name, dict(extra), {k: 0.0 for k in extra},
                         {k: False for k in extra}, len(y),
                         float(np.sqrt(np.mean(res**2))), 0, float(0.5 * np.sum(res**2)), [])
    scale_idx = [i for i, s in enumerate(specs) if s.name.startswith("scale_ms_per_gflop")]
    lo, hi = _bounds(specs)
    for i, spec in enumerate(specs):
        if spec.cap_at_min_time:  # an overhead cannot exceed the fastest call it is part of
            hi[i] = min(hi[i], _to_internal(spec, float(y.min())))
            lo[i] = min(lo[i], hi[i] - 1e-6)

    def residuals(u: np.ndarray) -> np.ndarray:
        pred = model.predict({**extra, **_params_of(specs, u)}, x)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.log(pred) - log_y
        return np.where(np.isfinite(r), r, 1e3)

    def profiled_scale(u: np.ndarray) -> np.ndarray:
        """Set every scale so that the mean log residual of its dtype is zero."""
        u = u.copy()
        for i in scale_idx:
            u[i] = 0.0  # scale 1
        pred = model.predict({**extra, **_params_of(specs, u)}, x)
        for i in scale_idx:
            name = specs[i].name
            rows = (np.ones(len(y), bool) if name == "scale_ms_per_gflop"
                    else x.dtype == name.split(".", 1)[1])
            u[i] = float(np.mean(log_y[rows] - np.log(pred[rows])))
        return np.clip(u, lo + 1e-9, hi - 1e-9)

    rng = np.random.default_rng(seed)
    initial = [np.array([_to_internal(s, s.init) for s in specs])]
    initial += [np.array([_draw_start(s, rng) for s in specs]) for _ in range(max(1, starts) - 1)]
    for warm in warm_starts:
        initial.append(np.array([
            _to_internal(s, warm.get(s.name, s.neutral if s.neutral is not None else s.init))
            for s in specs
        ]))
    best = None
    for u0 in initial:
        u0 = profiled_scale(np.clip(u0, lo + 1e-9, hi - 1e-9))
        sol = least_squares(residuals, u0, bounds=(lo, hi), method="trf", x_scale="jac",
                            max_nfev=2000, loss=loss, f_scale=f_scale)
        if best is None or sol.cost < best.cost - 1e-12:
            best = sol
    assert best is not None
    n, p = len(y), len(specs)
    values = _params_of(specs, best.x)
    stderr = _stderr(best.jac, best.fun, specs, best.x, n, p)
    at_bound = {s.name: bool(best.active_mask[i] != 0) for i, s in enumerate(specs)}
    return FitResult(
        model=model.name,
        params={**extra, **values},
        stderr={**{k: 0.0 for k in extra}, **stderr},
        at_bound={**{k: False for k in extra}, **at_bound},
        n=n,
        rms_log_residual=float(np.sqrt(np.mean(best.fun**2))),
        starts=len(initial),
        cost=float(best.cost),
        specs=list(specs),
    )


def _stderr(jac: np.ndarray, res: np.ndarray, specs: Sequence[ParamSpec], u: np.ndarray, n: int,
            p: int) -> dict[str, float]:
    """Standard errors in natural units from ``σ² (JᵀJ)⁻¹`` (NaN where not identifiable)."""
    dof = max(n - p, 1)
    sigma2 = float(np.sum(res**2)) / dof
    jtj = jac.T @ jac
    out: dict[str, float] = {}
    try:
        eig = np.linalg.eigvalsh(jtj)
        singular = eig.min() <= eig.max() * 1e-12
        cov = np.linalg.pinv(jtj) * sigma2
    except np.linalg.LinAlgError:
        singular, cov = True, np.full((p, p), np.nan)
    for i, spec in enumerate(specs):
        var = cov[i, i]
        if singular and (np.linalg.norm(jac[:, i]) == 0 or not np.isfinite(var)):
            out[spec.name] = float("nan")
            continue
        sd = math.sqrt(max(var, 0.0))
        out[spec.name] = _to_natural(spec, float(u[i])) * sd if spec.log else sd
    return out


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
        return _best(self.report, alpha=True)


def _best(report: pd.DataFrame, alpha: bool) -> str | None:
    rows = report[report["model"].map(is_alpha_family) == alpha]
    for scope in ("loso", "in_sample"):
        sub = rows[(rows["scope"] == scope) & rows["mape_pct"].notna()]
        if len(sub):
            return str(sub.sort_values(["mape_pct", "model"]).iloc[0]["model"])
    return None


#: Columns of a timing row kept in predictions.csv (the contract's key plus flops and time).
KEY_COLUMNS = ["sweep", "op", "batch", "c_in", "c_out", "h", "w", "k_h", "k_w", "stride",
               "padding", "dtype"]


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
    timings = timings.sort_values(KEY_COLUMNS, kind="mergesort").reset_index(drop=True)
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
        # Warm starts from the α models fitted before (each α model extends the previous one).
        warm = [f.params for m, f in fits.items() if is_alpha_family(m) and is_alpha_family(name)]
        opts = dict(starts=starts, seed=seed, fixed=fixed, loss=loss, f_scale=f_scale)
        fit = fit_model(name, x.subset(use), y[use], warm_starts=warm, **opts)
        fits[name] = fit
        in_pred = fit.predict(x)
        lo_pred, lo_folds = loso_predictions(
            name, x, y, sweeps, use=use, **opts,
            warm_by_fold={s: [f.params for m, fs in folds.items() if is_alpha_family(m)
                              and is_alpha_family(name) for k, f in fs.items() if k == s]
                          for s in sorted(set(sweeps))})
        folds[name] = lo_folds
        for scope, pred in (("in_sample", in_pred), ("loso", lo_pred)):
            report_rows.append({"model": name, "scope": scope,
                                **error_metrics(pred[use], y[use])})
            for sweep in sorted(set(sweeps)):
                rows = (sweeps == sweep) & use
                sweep_rows.append({"model": name, "scope": scope, "sweep": sweep,
                                   **error_metrics(pred[rows], y[rows])})
            frame = timings[KEY_COLUMNS + ["flops", "time_ms"]].copy()
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
    predictions = pd.concat(pred_frames, ignore_index=True) if pred_frames else pd.DataFrame()
    return DeviceFit(fits, folds, report, by_sweep, predictions, notes)


def flops_levels(flops: pd.Series, gap: float = 0.25) -> pd.Series:
    """Label rows of (nearly) equal FLOPs: sorted log-FLOPs split where they jump by > ``gap``.

    Each level is labelled by the geometric mean of its FLOPs in MFLOPs, e.g. ``"900 MFLOPs"``.
    """
    values = np.log(flops.to_numpy(dtype=float))
    order = np.argsort(values, kind="mergesort")
    group = np.zeros(len(values), dtype=int)
    current = 0
    for prev, idx in zip(order[:-1], order[1:]):
        if values[idx] - values[prev] > gap:
            current += 1
        group[idx] = current
    labels = {}
    for g in np.unique(group):
        mean = float(np.exp(values[group == g].mean())) / 1e6
        labels[g] = f"{mean:.3g} MFLOPs"
    return pd.Series([labels[g] for g in group], index=flops.index)


def neighbour_floor(timings: pd.DataFrame,
                    panels: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """How smooth the data is: each inner point of a line predicted from its two neighbours.

    For each sweep in ``panels`` (``{sweep: {"x": column, "lines": [columns]}}``, as in the
    figure specs), rows are grouped into lines and sorted by ``x``; the time of each inner
    point is interpolated log-log between its neighbours. Its MAPE is a floor that no smooth
    model of the same rows can be expected to beat. Returns ``{mape_pct, median_ape_pct, n,
    by_sweep}``.
    """
    apes: list[float] = []
    by_sweep: dict[str, Any] = {}
    for sweep, spec in sorted(panels.items()):
        rows = timings[timings["sweep"] == sweep].copy()
        if rows.empty:
            continue
        rows["flops_level"] = flops_levels(rows["flops"])
        x = spec["x"]
        part: list[float] = []
        for _, line in rows.groupby(list(spec["lines"]), sort=True):
            line = line.sort_values(x, kind="mergesort")
            lx = np.log(line[x].to_numpy(dtype=float))
            lt = np.log(line["time_ms"].to_numpy(dtype=float))
            for i in range(1, len(line) - 1):
                span = lx[i + 1] - lx[i - 1]
                w = (lx[i] - lx[i - 1]) / span if span > 0 else 0.5
                pred = math.exp(lt[i - 1] * (1 - w) + lt[i + 1] * w)
                part.append(100.0 * abs(pred - math.exp(lt[i])) / math.exp(lt[i]))
        if part:
            by_sweep[sweep] = {"mape_pct": _num(np.mean(part)),
                               "median_ape_pct": _num(np.median(part)), "n": len(part)}
            apes += part
    if not apes:
        return {"mape_pct": None, "median_ape_pct": None, "n": 0, "by_sweep": {}}
    return {"mape_pct": _num(np.mean(apes)), "median_ape_pct": _num(np.median(apes)),
            "n": len(apes), "by_sweep": by_sweep}


# --------------------------------------------------------------------------------------------
# A device folder and the parameter document
# --------------------------------------------------------------------------------------------


def load_device(
    folder: str | Path, timings_schema: str | Path, device_schema: str | Path
) -> tuple[pd.DataFrame, dict[str, Any], list[dict[str, Any]]]:
    """Read and validate a device folder ``data/raw/timings/<device_id>/``.

    Returns the timing rows of every ``<sweep>.csv`` and the parsed ``device.yaml``, both
    validated as the sweeps stage does (:mod:`greenflops.timings_data`: schema, file name, FLOPs,
    ``device_id`` = folder name), and one ``{path, rows, sha256}`` per timing file.
    Raises :class:`greenflops.tables.TableValidationError` naming file, line and column.
    """
    folder = Path(folder)
    meta = read_device(folder / "device.yaml", device_schema)
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise TableValidationError(folder, None, None, "no timing files (<sweep>.csv)")
    frames, provenance = [], []
    for path in files:
        frame = read_timings(path, timings_schema)
        if frame.empty:
            raise TableValidationError(path, None, None, "no rows")
        frames.append(frame)
        provenance.append({"path": str(path), "rows": int(len(frame)),
                           "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    return pd.concat(frames, ignore_index=True), meta, provenance


def _num(value: float) -> float | None:
    value = float(value)
    return None if not math.isfinite(value) else float(f"{value:.6g}")


def params_document(
    device_id: str, devfit: DeviceFit, files: Sequence[Mapping[str, Any]],
    timings: pd.DataFrame, settings: Mapping[str, Any],
    floor: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of ``params.yaml``: data used, method, and each model's parameters."""
    models: dict[str, Any] = {}
    for name in MODEL_NAMES:
        if name in devfit.notes and name not in devfit.fits:
            models[name] = {"skipped": devfit.notes[name]}
            continue
        if name not in devfit.fits:
            continue
        fit = devfit.fits[name]
        model = get_model(name)
        specs = {s.name: s for s in fit.specs}
        params: dict[str, Any] = {}
        for key, value in fit.params.items():
            entry: dict[str, Any] = {"value": _num(value)}
            if key in specs:
                spec = specs[key]
                entry.update(stderr=_num(fit.stderr[key]), lower=spec.lower, upper=spec.upper,
                             at_bound=fit.at_bound[key], unit=spec.unit, doc=spec.doc)
            else:
                entry.update(fixed=True)
            params[key] = entry
        rep = devfit.report[devfit.report["model"] == name].set_index("scope")
        models[name] = {
            "description": model.description,
            "alpha_family": is_alpha_family(name),
            "parameters": params,
            "n": fit.n,
            "starts": fit.starts,
            "rms_log_residual": _num(fit.rms_log_residual),
            "mape_pct": {scope: _num(rep.loc[scope, "mape_pct"]) for scope in rep.index},
            "loso_folds": {
                sweep: {k: _num(v) for k, v in f.params.items()}
                for sweep, f in devfit.folds.get(name, {}).items()
            },
        }
    return {
        "device_id": device_id,
        "data": {
            "files": [dict(f) for f in files],
            "rows": int(len(timings)),
            "sweeps": sorted(timings["sweep"].astype(str).unique().tolist()),
            "dtypes": sorted(timings["dtype"].astype(str).unique().tolist()),
            "neighbour_floor": dict(floor) if floor is not None else None,
        },
        "method": {
            "objective": "least squares on log(predicted) - log(measured) (relative error)",
            "optimizer": "scipy.optimize.least_squares, method trf, bounds, multi-start",
            "starts": int(settings.get("starts", 8)),
            "seed": int(settings.get("seed", 0)),
            "loss": str(settings.get("loss", "linear")),
            "f_scale": float(settings.get("f_scale", 1.0)),
            "max_rel_iqr": settings.get("max_rel_iqr"),
            "stderr": "sqrt(diag(sigma^2 (J^T J)^-1)) at the optimum, delta method for log params",
            "s": "batch * H_out * W_out",
            "kernel_classes": "k1: K_h*K_w = 1, kn: K_h*K_w > 1",
        },
        "notes": dict(sorted(devfit.notes.items())),
        "best_alpha_model": devfit.best_alpha,
        "best_baseline_model": _best(devfit.report, alpha=False),
        "models": models,
    }
