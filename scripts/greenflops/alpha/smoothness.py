"""How smooth a device's data is: lines of a sweep and the neighbour-interpolation floor."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from greenflops.io.outputs import yaml_number as _num

__all__ = ["flops_levels", "neighbour_floor"]


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


