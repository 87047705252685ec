"""The model to use on a device, chosen on out-of-sample error by a stated rule.

:func:`recommend`, from a device's fit report (``fit_report.csv`` rows):

1. **Eligible**: interpretable models (every model but the learned reference) validated out of
   sample, none of whose out-of-sample MAPEs (LOSO, k-fold) exceeds :data:`MAX_OOS_MAPE`.
2. **Primary scope**: leave-one-sweep-out where the device has at least :data:`MIN_SWEEPS_LOSO`
   sweeps (predicting a family of layers the fit never saw is how a model is used), else k-fold.
   When LOSO and k-fold disagree, LOSO wins.
3. **Lowest MAPE** in the primary scope; models within :data:`TIE_PCT` percentage points of the
   lowest are tied, and a tie goes to the lower MAPE in the other scope, then to fewer fitted
   parameters, then to the name.

It chooses among many models on the same folds, so the recommended model's out-of-sample MAPE
is slightly optimistic. A device whose data validate no model gets no recommendation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["MAX_OOS_MAPE", "MIN_SWEEPS_LOSO", "OOS_SCOPES", "TIE_PCT", "recommend"]

#: Out-of-sample scopes of the fit report.
OOS_SCOPES = ("loso", "kfold")
#: LOSO is the primary scope from this many sweeps on.
MIN_SWEEPS_LOSO = 3
#: No eligible model has an out-of-sample MAPE above this (percent).
MAX_OOS_MAPE = 100.0
#: Models within this many percentage points of the best are tied.
TIE_PCT = 0.5


def recommend(report: pd.DataFrame, n_sweeps: int,
              n_params: Mapping[str, int] | None = None) -> dict[str, Any]:
    """``{"model", "scope", "mape_pct", "other_scope_mape_pct", "rule", "why"}`` for the
    device whose fit report is ``report`` (model, scope, mape_pct rows) with ``n_sweeps``
    sweeps; ``model`` is None when no model qualifies. ``n_params``: fitted parameters per model
    (ties)."""
    from greenflops.alpha.models import is_learned

    n_params = dict(n_params or {})
    table = report.pivot_table(index="model", columns="scope", values="mape_pct",
                               aggfunc="first") if len(report) else pd.DataFrame()
    primary = "loso" if n_sweeps >= MIN_SWEEPS_LOSO else "kfold"
    if primary == "kfold" and "kfold" not in table.columns and "loso" in table.columns:
        primary = "loso"  # k-fold skipped (too few rows) on a device of few sweeps
    other = "kfold" if primary == "loso" else "loso"
    rule = (f"lowest {primary} MAPE among interpretable models with every out-of-sample MAPE "
            f"<= {MAX_OOS_MAPE:g}%; within {TIE_PCT:g} point(s): lower {other} MAPE, then fewer "
            "parameters")
    out: dict[str, Any] = {"model": None, "scope": primary, "mape_pct": None,
                           "other_scope_mape_pct": None, "rule": rule, "why": ""}
    if primary not in table.columns:
        out["why"] = f"no model was validated {primary}"
        return out

    def value(model: str, scope: str) -> float:
        v = table.loc[model, scope] if scope in table.columns else float("nan")
        return float(v) if v is not None and not pd.isna(v) else float("nan")

    eligible = []
    for model in table.index:
        if is_learned(model) or math.isnan(value(model, primary)):
            continue
        oos = [value(model, s) for s in OOS_SCOPES if not math.isnan(value(model, s))]
        if all(v <= MAX_OOS_MAPE for v in oos):
            eligible.append(model)
    if not eligible:
        out["why"] = f"every interpretable model has an out-of-sample MAPE above {MAX_OOS_MAPE:g}%"
        return out
    best = min(value(m, primary) for m in eligible)
    tied = [m for m in eligible if value(m, primary) <= best + TIE_PCT]

    def key(m: str) -> tuple[float, int, str]:
        v = value(m, other)
        return (v if not math.isnan(v) else math.inf, n_params.get(m, 0), m)

    win = min(tied, key=key)
    out.update(model=win, mape_pct=value(win, primary),
               other_scope_mape_pct=None if math.isnan(value(win, other)) else value(win, other))
    out["why"] = (f"lowest {primary} MAPE ({value(win, primary):.1f}%)"
                  + (f"; {len(tied)} models within {TIE_PCT:g} point(s), the tie broken by "
                     f"{other} MAPE and fewer parameters" if len(tied) > 1 else ""))
    return out
