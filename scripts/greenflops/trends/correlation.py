"""Fig. 1 of Desislavov et al. (2021): how closely parameters and FLOPs go together."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["params_flops_correlation"]


def params_flops_correlation(
    frame: pd.DataFrame,
    paper_r: Mapping[str, float],
    distinct_points: bool,
    min_points: int = 3,
) -> pd.DataFrame:
    """Pearson r of params vs GFLOPs per architecture family (and ``all``), as in Fig. 1.

    Both variants are returned: over all rows (``pearson_r_all_rows``) and over distinct
    (params, GFLOPs) points (``pearson_r_distinct``); ``pearson_r`` is the one ``distinct_points``
    selects. r is NaN for fewer than ``min_points`` points. ``paper_r`` gives the printed values.
    """
    from scipy import stats  # imported here: the table-only jobs skip its import cost

    rows = []
    families = sorted(frame["architecture"].unique()) + ["all"]
    for family in families:
        part = frame if family == "all" else frame[frame["architecture"] == family]
        distinct = part.drop_duplicates(["params_m", "gflops"])

        def r_of(p: pd.DataFrame) -> float:
            if len(p) < min_points:
                return math.nan
            return float(stats.pearsonr(p["params_m"], p["gflops"])[0])

        r_all, r_distinct = r_of(part), r_of(distinct)
        chosen = distinct if distinct_points else part
        paper = paper_r.get(family, math.nan)
        rows.append(
            {
                "family": family,
                "n": len(chosen),
                "pearson_r": r_distinct if distinct_points else r_all,
                "paper_r": paper,
                "n_rows": len(part),
                "pearson_r_all_rows": r_all,
                "n_distinct_points": len(distinct),
                "pearson_r_distinct": r_distinct,
                "pearson_r_log10": (
                    float(stats.pearsonr(np.log10(chosen["params_m"]), np.log10(chosen["gflops"]))[0])
                    if len(chosen) >= min_points
                    else math.nan
                ),
            }
        )
    return pd.DataFrame(rows)
