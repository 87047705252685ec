"""A device's timings in, its parameter document (``params.yaml``) out."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from greenflops.alpha.bounds import MAX_TRAIN_MAPE, REFERENCE
from greenflops.alpha.fitting import DEFAULT_RESIDUAL, OBJECTIVES
from greenflops.alpha.models import MODEL_NAMES, get_model, is_alpha_family, is_gpu_family
from greenflops.io.outputs import yaml_number as _num
from greenflops.io.render import to_markdown

if TYPE_CHECKING:  # the fitting stack (scipy) is imported only by the one function that needs it
    from greenflops.alpha.validation import DeviceFit

__all__ = ["device_time_model", "figure_model", "fit_markdown", "fitted_params",
           "params_document"]


def params_document(
    device_id: str, devfit: DeviceFit, files: Sequence[Mapping[str, Any]],
    timings: pd.DataFrame, settings: Mapping[str, Any],
    floor: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of ``params.yaml``: data used, method, and each model's parameters."""
    from greenflops.alpha.validation import best_model

    models: dict[str, Any] = {}
    for name in MODEL_NAMES:
        if name in devfit.notes and name not in devfit.fits:
            models[name] = {"skipped": devfit.notes[name]}
            continue
        if name not in devfit.fits:
            continue
        fit = devfit.fits[name]
        model = get_model(name)
        rep = devfit.report[devfit.report["model"] == name].set_index("scope")
        quality = {
            "mape_pct": {scope: _num(rep.loc[scope, "mape_pct"]) for scope in rep.index},
            "out_of_sample_guard": {scope: _guard_doc(g) for (m, scope), g in devfit.guards.items()
                                    if m == name},
        }
        if model.kind == "learned":
            from greenflops.alpha.learned import FEATURE_NAMES, GBT_PARAMS

            models[name] = {"description": model.description, "alpha_family": False,
                            "learned": True, "hyper_parameters": dict(GBT_PARAMS),
                            "features": list(FEATURE_NAMES), "n": fit.n,
                            "rms_log_residual": _num(fit.rms_log_residual), **quality}
            continue
        specs = {s.name: s for s in fit.specs}
        params: dict[str, Any] = {}
        for key, value in fit.params.items():
            entry: dict[str, Any] = {"value": _num(value)}
            if key in specs:
                spec = specs[key]
                entry.update(stderr=_num(fit.stderr[key]), lower=_num(spec.lower),
                             upper=_num(spec.upper), at_bound=fit.at_bound[key], unit=spec.unit,
                             doc=spec.doc)
            elif key in fit.inactive:
                entry.update(fixed=True, doc="no contrast in the fitted rows: fixed at its "
                                             "neutral value (no extrapolation)")
            else:
                entry.update(fixed=True)
            params[key] = entry
        folds = devfit.folds.get(name, {})
        models[name] = {
            "description": model.description,
            "alpha_family": is_alpha_family(name),
            "gpu_family": is_gpu_family(name),
            "parameters": params,
            "n": fit.n,
            "starts": fit.starts,
            "rms_log_residual": _num(fit.rms_log_residual),
            **quality,
            "loso_folds": {
                sweep: {k: _num(v) for k, v in f.params.items()}
                for sweep, f in folds.items() if not sweep.startswith("kfold:")
            },
            "kfold_folds": {
                label.removeprefix("kfold:"): {k: _num(v) for k, v in f.params.items()}
                for label, f in folds.items() if label.startswith("kfold:")
            },
        }
    rec = dict(devfit.recommendation)
    return {
        "device_id": device_id,
        "data": {
            "files": [dict(f) for f in files],
            "rows": len(timings),
            "sweeps": sorted(timings["sweep"].astype(str).unique().tolist()),
            "dtypes": sorted(timings["dtype"].astype(str).unique().tolist()),
            "neighbour_floor": dict(floor) if floor is not None else None,
        },
        "method": {
            "objective": OBJECTIVES[str(settings.get("residual", DEFAULT_RESIDUAL))],
            "optimizer": "scipy.optimize.least_squares, method trf, bounds, multi-start, "
                         "analytic Jacobians; weak priors on the GPU family's parameters",
            "starts": int(settings.get("starts", 8)),
            "family_starts": settings.get("family_starts"),
            "kfold": settings.get("kfold"),
            "kfold_seed": settings.get("kfold_seed"),
            "out_of_sample": "each fold warm-started at the fit on all rows (the learned model "
                             "refitted); a fold missing its own training rows by more than "
                             f"{MAX_TRAIN_MAPE:g}% MAPE falls back to the fold's {REFERENCE} fit, "
                             "as do held-out rows of a GEMM class the fold lacked, and every "
                             "held-out prediction stays within out_of_sample_bound factor of it "
                             "(greenflops.alpha.bounds)",
            "out_of_sample_bound": settings.get("bound"),
            "seed": int(settings.get("seed", 0)),
            "residual": str(settings.get("residual", DEFAULT_RESIDUAL)),
            "loss": str(settings.get("loss", "linear")),
            "f_scale": float(settings.get("f_scale", 1.0)),
            "max_rel_iqr": settings.get("max_rel_iqr"),
            "stderr": "sqrt(diag(sigma^2 (J^T J)^-1)) at the optimum, delta method for log params",
            "s": "batch * H_out * W_out",
            "kernel_classes": "k1: K_h*K_w = 1, kn: K_h*K_w > 1",
        },
        "notes": dict(sorted(devfit.notes.items())),
        "device_facts": devfit.facts.as_dict() if devfit.facts is not None else None,
        "best_alpha_model": devfit.best_alpha,
        "best_baseline_model": best_model(devfit.report, alpha=False),
        # the model to use on this device (issue 12 reads it; else best_alpha_model)
        "recommended_model": rec.get("model"),
        "recommended_scope": rec.get("scope") if rec.get("model") else None,
        "recommendation": {k: (_num(v) if isinstance(v, float) else v) for k, v in rec.items()
                           if k not in ("model", "scope")},
        "models": models,
    }


def _text(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (int, float)):
        return f"{value:.{digits}g}"
    return str(value)


def _guard_doc(guard: Mapping[str, Any]) -> dict[str, Any]:
    """What the out-of-sample guards did to one model in one scope (params.yaml)."""
    return {"fell_back_folds": list(guard.get("fell_back", [])),
            "novel_op_rows": int(guard.get("novel", 0)),
            "bounded_predictions": int(guard.get("bounded", 0)),
            "neutral_factors": {k: list(v) for k, v in (guard.get("neutral") or {}).items()},
            "mape_unguarded_pct": _num(guard.get("mape_unguarded_pct"))}


def guard_text(model: Mapping[str, Any]) -> str:
    """One line on what the guards did to a model (params.yaml ``models.<name>``), '' if
    nothing."""
    parts = []
    for scope, g in sorted((model.get("out_of_sample_guard") or {}).items()):
        bits = []
        if g.get("fell_back_folds"):
            bits.append(f"fell back to {REFERENCE} in {', '.join(g['fell_back_folds'])}")
        if g.get("novel_op_rows"):
            bits.append(f"{g['novel_op_rows']} rows of a GEMM class the fold lacked predicted "
                        f"by {REFERENCE}")
        if g.get("bounded_predictions"):
            bits.append(f"{g['bounded_predictions']} predictions bounded")
        neutral = g.get("neutral_factors") or {}
        if neutral:
            bits.append("neutral " + "; ".join(f"{', '.join(v)} in {k}"
                                                for k, v in sorted(neutral.items())))
        if bits:
            parts.append(f"{scope}: " + ", ".join(bits))
    return " / ".join(parts)


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
    recommended = params.get("recommended_model")
    rows = []
    for name in list(models) + sorted(set(quality) - set(models)):
        model = models.get(name, {}) or {}
        if model.get("skipped"):
            pars = f"skipped: {model['skipped']}"
        elif model.get("learned"):
            pars = "learned (no parameters): " + ", ".join(
                f"{k} = {v}" for k, v in (model.get("hyper_parameters") or {}).items())
        else:
            pars = "; ".join(
                f"{p} = {_text(v.get('value'))} ± {_text(v.get('stderr'), 2)}"
                + (f" {v['unit']}" if v.get("unit") else "")
                + (" †" if v.get("at_bound") else "")
                for p, v in (model.get("parameters", {}) or {}).items()
            )
        q = quality.get(name, {})
        ins, loso, kfold = q.get("in_sample", {}), q.get("loso", {}), q.get("kfold", {})
        mark = (" **(recommended)**" if name == recommended
                else " **(best)**" if name in (best_alpha, best_base) else "")
        rows.append({
            "model": name + mark,
            "description": str(model.get("description", "")),
            "parameters": pars,
            "in-sample MAPE %": _text(ins.get("mape_pct"), 3),
            "LOSO MAPE %": _text(loso.get("mape_pct"), 3),
            "LOSO median APE %": _text(loso.get("median_ape_pct"), 3),
            "k-fold MAPE %": _text(kfold.get("mape_pct"), 3),
            "n": _text(ins.get("n", loso.get("n"))),
            "out-of-sample guard": guard_text(model) or "–",
        })
    frame = pd.DataFrame(rows, columns=["model", "description", "parameters", "in-sample MAPE %",
                                        "LOSO MAPE %", "LOSO median APE %", "k-fold MAPE %",
                                        "n", "out-of-sample guard"])
    why = (params.get("recommendation") or {}).get("why") or ""
    intro = ("Fitted parameters (value ± standard error; † = at a bound) and mean absolute "
             "percentage error of the predicted time, in-sample, leave-one-sweep-out (LOSO: "
             "each sweep predicted by a fit on the others) and k-fold (rows split at random). "
             f"Recommended model: **{recommended or '–'}**"
             + (f" ({why}, {params.get('recommended_scope')})" if recommended else "")
             + f"; best α model (lowest LOSO MAPE): **{best_alpha or '–'}**; best baseline: "
             f"**{best_base or '–'}**. Rules: docs/alpha.md.")
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


def figure_model(params: Mapping[str, Any], choice: str) -> str | None:
    """The α model a device's figures draw dashed: ``choice`` itself if it was fitted, or for
    ``best`` the best α model that the fit recorded in ``params.yaml`` (``params``; chosen once,
    in :func:`greenflops.alpha.validation.best_model`). None when there is none (too few rows
    to validate a model): the figures then show measured times only."""
    if choice == "best":
        return params.get("best_alpha_model") or None
    return choice if "parameters" in (params.get("models", {}).get(choice) or {}) else None
