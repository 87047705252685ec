"""A device's timings in, its parameter document (``params.yaml``) out."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from greenflops.alpha.models import MODEL_NAMES, get_model, is_alpha_family
from greenflops.alpha.validation import DeviceFit, best_model
from greenflops.io.outputs import yaml_number as _num
from greenflops.io.render import to_markdown

__all__ = ["device_time_model", "fit_markdown", "fitted_params", "params_document"]


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
        "best_baseline_model": best_model(devfit.report, alpha=False),
        "models": models,
    }


def _text(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (int, float)):
        return f"{value:.{digits}g}"
    return str(value)


def fit_markdown(device_id: str, params: Mapping[str, Any],
                 fit_report: Iterable[Mapping[str, Any]], data_folder: str | None = None) -> str:
    """Markdown of a device's fitted time models: parameters (value ± standard error) and MAPE.

    ``params`` is the fit's params.yaml document (``models: {name: {parameters: {p: {value,
    stderr, unit, at_bound}}}}``), ``fit_report`` the rows of fit_report.csv (model, scope,
    mape_pct, median_ape_pct, n); ``data_folder`` the device's timing folder (default
    ``data/raw/timings/<device_id>/``).
    """
    data_folder = data_folder or f"data/raw/timings/{device_id}/"
    quality: dict[str, dict[str, Mapping[str, Any]]] = {}
    for row in fit_report:
        quality.setdefault(str(row["model"]), {})[str(row["scope"])] = row
    models: Mapping[str, Any] = params.get("models", {}) or {}
    best_alpha = params.get("best_alpha_model")
    best_base = params.get("best_baseline_model")
    rows = []
    for name in list(models) + sorted(set(quality) - set(models)):
        model = models.get(name, {}) or {}
        if model.get("skipped"):
            pars = f"skipped: {model['skipped']}"
        else:
            pars = "; ".join(
                f"{p} = {_text(v.get('value'))} ± {_text(v.get('stderr'), 2)}"
                + (f" {v['unit']}" if v.get("unit") else "")
                + (" †" if v.get("at_bound") else "")
                for p, v in (model.get("parameters", {}) or {}).items()
            )
        q = quality.get(name, {})
        ins, loso = q.get("in_sample", {}), q.get("loso", {})
        rows.append({
            "model": name + (" **(best)**" if name in (best_alpha, best_base) else ""),
            "description": str(model.get("description", "")),
            "parameters": pars,
            "in-sample MAPE %": _text(ins.get("mape_pct"), 3),
            "LOSO MAPE %": _text(loso.get("mape_pct"), 3),
            "LOSO median APE %": _text(loso.get("median_ape_pct"), 3),
            "n": _text(ins.get("n", loso.get("n"))),
        })
    frame = pd.DataFrame(rows, columns=["model", "description", "parameters", "in-sample MAPE %",
                                        "LOSO MAPE %", "LOSO median APE %", "n"])
    intro = ("Fitted parameters (value ± standard error; † = at a bound) and mean absolute "
             "percentage error of the predicted time, in-sample and leave-one-sweep-out (LOSO: "
             "each sweep predicted by a fit on the others). Best α model (lowest LOSO MAPE): "
             f"**{best_alpha or '–'}**; best baseline: **{best_base or '–'}**.")
    table = to_markdown(frame, title=f"α-FLOPs time models fitted on {device_id}")
    head, _, body = table.partition("\n\n")
    return (f"{head}\n\n{intro}\n\n{body}\nData: {data_folder} ; fits: "
            f"data/processed/alpha/{device_id}/params.yaml and fit_report.csv.\n")


def device_time_model(params: Mapping[str, Any]) -> str | None:
    """The time model to use on a device, read from its ``params.yaml``: ``recommended_model``
    where the fit names one (chosen on out-of-sample error), else ``best_alpha_model``; None
    when neither is there. Every reader of "the device's model" goes through here."""
    return params.get("recommended_model") or params.get("best_alpha_model") or None


def fitted_params(params: Mapping[str, Any], model: str) -> dict[str, float] | None:
    """Every parameter of ``model`` in a ``params.yaml`` (fitted and fixed), or None when the
    model was not fitted there (skipped, or not asked for)."""
    entry = (params.get("models") or {}).get(model) or {}
    if "parameters" not in entry:
        return None
    return {**get_model(model).fixed,
            **{k: float(v["value"]) for k, v in entry["parameters"].items()}}
