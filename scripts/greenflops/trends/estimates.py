"""GFLOPs estimates of Desislavov et al. (2021), appendix "FLOPS estimation for CV models".

EfficientNet-based models (eq. 4, the compound-scaling relation of Tan and Le, 2020)::

    GFLOPs = base GFLOPs · d_σ · w_σ² · r_σ²

with d_σ, w_σ, r_σ the ratios of depth, width and input resolution to the base network (Table 5).
The paper's eq. 3 writes ``FLOPs ∝ d + w² + r²`` but its printed numbers follow the product of
eq. 4, as does this module. Transformers (ViT-G/14): ``GFLOPs = base GFLOPs · r_σ²`` (the paper
checks the quadratic scaling on Table 6's two resolutions; :func:`resolution_exponent`).

The inputs are data (``data/raw/tables/flops_estimates.csv``); :func:`resolve_cv_gflops` puts the
computed values into the CV table, keeping the printed ones beside them.
"""

from __future__ import annotations

import math

import pandas as pd

from greenflops.io.tables import row_lines

__all__ = [
    "EstimateError",
    "compound_scaling_gflops",
    "compute_estimates",
    "resolution_exponent",
    "resolve_cv_gflops",
]


class EstimateError(ValueError):
    """An estimate cannot be computed from its inputs (message names file and line)."""


def _ratio(target: float | None, base: float | None, name: str) -> float:
    missing = [v is None or (isinstance(v, float) and math.isnan(v)) for v in (target, base)]
    if all(missing):
        return 1.0
    if any(missing):
        raise ValueError(f"{name}: give both base and target, or neither")
    return float(target) / float(base)  # type: ignore[arg-type]


def compound_scaling_gflops(
    base_gflops: float,
    d_sigma: float = 1.0,
    w_sigma: float = 1.0,
    r_sigma: float = 1.0,
) -> float:
    """Eq. 4: ``base_gflops · d_σ · w_σ² · r_σ²``."""
    if base_gflops <= 0 or d_sigma <= 0 or w_sigma <= 0 or r_sigma <= 0:
        raise ValueError("GFLOPs and scale factors must be positive")
    return base_gflops * d_sigma * w_sigma**2 * r_sigma**2


def resolution_exponent(gflops_a: float, res_a: float, gflops_b: float, res_b: float) -> float:
    """Exponent k of ``GFLOPs ∝ resolution^k`` through two measured points (2 = quadratic)."""
    if min(gflops_a, res_a, gflops_b, res_b) <= 0 or res_a == res_b:
        raise ValueError("need two positive points at different resolutions")
    return math.log(gflops_b / gflops_a) / math.log(res_b / res_a)


def compute_estimates(
    inputs: pd.DataFrame, cv_models: pd.DataFrame, inputs_path: str = "flops_estimates.csv"
) -> pd.DataFrame:
    """One row per estimate: the inputs, the scale factors, the computed ``gflops`` and the
    value printed in the CV table (``gflops_paper``), with their relative difference.

    Base GFLOPs of compound-scaling estimates come from the CV table (``base_model``,
    ``base_extra_data``), so a corrected base value flows into the estimate. Raises
    :class:`EstimateError` naming the inputs file and line when a model or base is unknown.
    """
    printed = cv_models.set_index(["model", "extra_data"])["gflops"]
    rows = []
    for line, row in zip(row_lines(inputs), inputs.to_dict("records")):
        key = (row["model"], row["extra_data"])
        if key not in printed.index:
            raise EstimateError(
                f"{inputs_path}, line {line}, column 'model': {key[0]!r} with extra_data "
                f"{key[1]!r} is not a row of the CV models table"
            )
        if row["method"] == "compound_scaling":
            base_key = (row["base_model"], row["base_extra_data"])
            if base_key not in printed.index:
                raise EstimateError(
                    f"{inputs_path}, line {line}, column 'base_model': {base_key[0]!r} with "
                    f"extra_data {base_key[1]!r} is not a row of the CV models table"
                )
            base = float(printed.loc[base_key])
        else:
            base = float(row["base_gflops"])
        try:
            d_sigma = _ratio(row.get("target_depth"), row.get("base_depth"), "depth")
            w_sigma = _ratio(row.get("target_width"), row.get("base_width"), "width")
        except ValueError as err:
            raise EstimateError(f"{inputs_path}, line {line}: {err}") from None
        r_sigma = float(row["target_resolution"]) / float(row["base_resolution"])
        if row["method"] == "resolution_scaling" and (d_sigma != 1.0 or w_sigma != 1.0):
            raise EstimateError(
                f"{inputs_path}, line {line}: resolution_scaling takes no depth or width factors"
            )
        gflops = compound_scaling_gflops(base, d_sigma, w_sigma, r_sigma)
        check = row.get("check_gflops")
        exponent = check_ratio = check_r2 = math.nan
        if check is not None and not (isinstance(check, float) and math.isnan(check)):
            if row.get("check_resolution") is None or pd.isna(row.get("check_resolution")):
                raise EstimateError(f"{inputs_path}, line {line}: check_gflops needs check_resolution")
            exponent = resolution_exponent(
                float(check), float(row["check_resolution"]), base, float(row["base_resolution"])
            )
            check_ratio = base / float(check)
            check_r2 = (float(row["base_resolution"]) / float(row["check_resolution"])) ** 2
        paper = float(printed.loc[key])
        rows.append(
            {
                "model": row["model"],
                "extra_data": row["extra_data"],
                "method": row["method"],
                "base_model": row.get("base_model") or "",
                "base_gflops": base,
                "d_sigma": d_sigma,
                "w_sigma": w_sigma,
                "r_sigma": r_sigma,
                "r_sigma_squared": r_sigma**2,
                "scale": d_sigma * w_sigma**2 * r_sigma**2,
                "check_gflops_ratio": check_ratio,
                "check_r_sigma_squared": check_r2,
                "resolution_exponent_check": exponent,
                "gflops": gflops,
                "gflops_paper": paper,
                "rel_diff": gflops / paper - 1.0,
                "source": row["source"],
            }
        )
    return pd.DataFrame(rows)


def resolve_cv_gflops(cv_models: pd.DataFrame, estimates: pd.DataFrame) -> pd.DataFrame:
    """The CV table with the computed estimates as ``gflops`` and the printed value as ``gflops_paper``.

    Every row flagged ``gflops_method == "estimated"`` must have an estimate, and every estimate
    must name such a row; otherwise :class:`EstimateError` lists the offenders.
    """
    out = cv_models.copy()
    out["gflops_paper"] = out["gflops"]
    computed = estimates.set_index(["model", "extra_data"])["gflops"]
    keys = list(zip(out["model"], out["extra_data"]))
    flagged = {k for k, m in zip(keys, out["gflops_method"]) if m == "estimated"}
    missing = sorted(flagged - set(computed.index))
    if missing:
        raise EstimateError(
            "CV models flagged gflops_method=estimated without an estimate in the estimates "
            f"table: {', '.join(f'{m} ({e})' for m, e in missing)}"
        )
    unflagged = sorted(set(computed.index) - flagged)
    if unflagged:
        raise EstimateError(
            "estimates for CV models not flagged gflops_method=estimated: "
            + ", ".join(f"{m} ({e})" for m, e in unflagged)
        )
    out["gflops"] = [
        float(computed.loc[k]) if k in flagged else float(g) for k, g in zip(keys, out["gflops"])
    ]
    return out
