"""Hardware efficiency, energy per forward pass and the paper's human-energy references.

Desislavov et al. (2021), eqs. 1-2: efficiency in FLOPS/W equals FLOPs per Joule, so the energy of
one forward pass is ``FLOPs / (FLOPS/W)``. With FLOPs in GFLOPs and efficiency in GFLOPS/W the
factors of 10^9 cancel: ``joules = gflops / gflops_per_watt``.

Only physical constants live here; the inputs of the human references of Figs. 13-14 (2000
kcal/day, 79,897 kWh/year) are the paper's, in its specification
(``workflow/resources/trends.yaml``, ``human_energy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "JOULES_PER_KCAL",
    "JOULES_PER_KWH",
    "SECONDS_PER_DAY",
    "SECONDS_PER_YEAR",
    "gflops_per_watt",
    "human_energy_references",
    "joules_per_forward_pass",
    "watts_from_kcal_per_day",
    "watts_from_kwh_per_year",
]

#: Thermochemical kilocalorie (the food "Calorie"), in joules.
JOULES_PER_KCAL = 4184.0
#: Kilowatt-hour, in joules.
JOULES_PER_KWH = 3.6e6
SECONDS_PER_DAY = 86_400.0
#: Julian year (365.25 days), in seconds.
SECONDS_PER_YEAR = 365.25 * SECONDS_PER_DAY


def gflops_per_watt(tflops: float | np.ndarray, watts: float | np.ndarray) -> float | np.ndarray:
    """Efficiency in GFLOPS/W from throughput in TFLOPS and power in W: ``1000 * tflops / watts``."""
    watts_arr = np.asarray(watts, dtype=float)
    if np.any(watts_arr <= 0):
        raise ValueError("power must be positive")
    result = 1000.0 * np.asarray(tflops, dtype=float) / watts_arr
    return result if result.ndim else float(result)


def joules_per_forward_pass(
    gflops: float | np.ndarray, efficiency_gflops_per_watt: float | np.ndarray
) -> float | np.ndarray:
    """Energy of one forward pass (eq. 2): ``FLOPs / (FLOPS/W)`` = ``gflops·1e9 / (GFLOPS/W·1e9)`` J."""
    eff = np.asarray(efficiency_gflops_per_watt, dtype=float)
    if np.any(eff <= 0):
        raise ValueError("efficiency must be positive")
    result = np.asarray(gflops, dtype=float) * 1e9 / (eff * 1e9)
    return result if result.ndim else float(result)


def watts_from_kcal_per_day(kcal_per_day: float) -> float:
    """Mean power (J/s) of an intake of ``kcal_per_day`` kilocalories per day."""
    return kcal_per_day * JOULES_PER_KCAL / SECONDS_PER_DAY


def watts_from_kwh_per_year(kwh_per_year: float) -> float:
    """Mean power (J/s) of a consumption of ``kwh_per_year`` kilowatt-hours per (Julian) year."""
    return kwh_per_year * JOULES_PER_KWH / SECONDS_PER_YEAR


def human_energy_references(cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Figs. 13-14 references: a human's internal (food) and external (all energy) use per second.

    ``cfg`` is the ``human_energy`` section of the trends specification; the result has one row per reference with its
    input, unit, Joules per second and source.
    """
    return pd.DataFrame(
        [
            {
                "reference": "internal",
                "input_value": float(cfg["internal_kcal_per_day"]),
                "input_unit": "kcal/day",
                "joules_per_second": watts_from_kcal_per_day(float(cfg["internal_kcal_per_day"])),
                "source": cfg["internal_source"],
            },
            {
                "reference": "external",
                "input_value": float(cfg["external_kwh_per_year"]),
                "input_unit": "kWh/year",
                "joules_per_second": watts_from_kwh_per_year(float(cfg["external_kwh_per_year"])),
                "source": cfg["external_source"],
            },
        ]
    )
