"""Unit tests of the trends library (Desislavov et al. 2021): dates, fits, selections, conversions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from greenflops.trends.energy import (
    gflops_per_watt,
    joules_per_forward_pass,
    watts_from_kcal_per_day,
    watts_from_kwh_per_year,
)
from greenflops.trends.fits import decimal_year, doubling_time_years, fit_log_linear
from greenflops.trends.selection import best_per_year, pareto_front, running_max, yearly_mean


def test_decimal_year_hand_values() -> None:
    assert decimal_year("2020-01-01") == 2020.0
    assert decimal_year("2021-07-02") == pytest.approx(2021 + 182 / 365)
    assert decimal_year("2020-12-31") == pytest.approx(2020 + 365 / 366)  # leap year


def test_fit_recovers_known_slope_and_ci_covers_it() -> None:
    rng = np.random.default_rng(7)
    x = np.linspace(2012, 2021, 60)
    slope, intercept = 0.3, -600.0
    y = 10 ** (intercept + slope * x + rng.normal(0, 0.05, x.size))
    fit = fit_log_linear(x, y)
    assert fit.n == 60
    assert fit.slope_log10_per_year == pytest.approx(slope, abs=0.01)
    assert fit.slope_ci_low < slope < fit.slope_ci_high
    assert fit.r2 > 0.98
    assert fit.doubling_time_years == pytest.approx(math.log10(2) / fit.slope_log10_per_year)
    assert fit.predict([2015.0])[0] == pytest.approx(10 ** (fit.intercept + fit.slope_log10_per_year * 2015))


def test_fit_exact_line_and_ci_width_from_t() -> None:
    x = np.array([2010.0, 2011.0, 2012.0, 2013.0])
    fit = fit_log_linear(x, 10 ** (0.5 * (x - 2010)))
    assert fit.slope_log10_per_year == pytest.approx(0.5)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.slope_ci_high - fit.slope_ci_low == pytest.approx(0.0, abs=1e-9)
    # Noisy 4-point case: half-width = t(0.975, 2) * stderr = 4.303 * stderr
    from scipy import stats

    y = 10 ** np.array([0.0, 0.6, 0.9, 1.6])
    fit = fit_log_linear(x, y)
    res = stats.linregress(x, np.log10(y))
    assert (fit.slope_ci_high - fit.slope_ci_low) / 2 == pytest.approx(4.302652730 * res.stderr)


def test_fit_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="positive"):
        fit_log_linear([2010, 2011, 2012], [1.0, 0.0, 2.0])
    with pytest.raises(ValueError, match="at least 2"):
        fit_log_linear([2010], [1.0])
    with pytest.raises(ValueError, match="all x are equal"):
        fit_log_linear([2010, 2010], [1.0, 2.0])


def test_doubling_and_halving_time() -> None:
    assert doubling_time_years(math.log10(2)) == pytest.approx(1.0)
    assert doubling_time_years(-math.log10(2) / 2) == pytest.approx(-2.0)
    assert doubling_time_years(0.0) == math.inf


def test_best_per_year_picks_most_accurate_and_breaks_ties_by_cost() -> None:
    frame = pd.DataFrame(
        {
            "model": ["a", "b", "c", "d", "e"],
            "year": [2015, 2015, 2016, 2016, 2017],
            "acc": [70.0, 75.0, 80.0, 80.0, 60.0],
            "gflops": [1.0, 9.0, 5.0, 3.0, 1.0],
        }
    )
    chosen = best_per_year(frame, "acc", cost="gflops")
    assert chosen["model"].tolist() == ["b", "d", "e"]


def test_running_max_keeps_record_setters_only() -> None:
    frame = pd.DataFrame(
        {
            "model": ["t", "elmo", "bert", "small", "gpt2", "albert", "gpt3"],
            "date": ["2017-06-12", "2018-02-15", "2018-10-11", "2018-10-11", "2019-02-14", "2019-09-26", "2020-05-28"],
            "gflops": [54.0, 26.0, 79.0, 3.7, 3400.0, 2500.0, 740000.0],
        }
    )
    assert running_max(frame, "gflops", "date")["model"].tolist() == ["t", "bert", "gpt2", "gpt3"]


def test_yearly_mean_and_midyear_x() -> None:
    frame = pd.DataFrame({"year": [2018, 2018, 2019], "j": [1.0, 3.0, 10.0]})
    means = yearly_mean(frame, "j")
    assert means["mean"].tolist() == [2.0, 10.0]
    assert means["n"].tolist() == [2, 1]
    assert means["x"].tolist() == [2018.5, 2019.5]


def test_pareto_front() -> None:
    frame = pd.DataFrame(
        {"m": ["a", "b", "c", "d", "e"], "g": [1.0, 2.0, 2.0, 5.0, 10.0], "acc": [70, 69, 75, 74, 80]}
    )
    assert pareto_front(frame, "g", "acc")["m"].tolist() == ["a", "c", "e"]


def test_energy_conversions() -> None:
    assert gflops_per_watt(15.70, 300) == pytest.approx(52.3333, abs=1e-4)
    # 1040 GFLOPs at 104 GFLOPS/W = 10 J (FLOPs / (FLOPS/W)).
    assert joules_per_forward_pass(1040.0, 104.0) == pytest.approx(10.0)
    assert joules_per_forward_pass(np.array([1.0, 2.0]), np.array([4.0, 4.0])).tolist() == [0.25, 0.5]
    with pytest.raises(ValueError):
        joules_per_forward_pass(1.0, 0.0)
    # The paper's human references: ~100 J/s and ~10,000 J/s.
    assert watts_from_kcal_per_day(2000) == pytest.approx(2000 * 4184 / 86400)
    assert watts_from_kcal_per_day(2000) == pytest.approx(96.85, abs=0.01)
    assert watts_from_kwh_per_year(79_897) == pytest.approx(79_897 * 3.6e6 / (365.25 * 86400))
    assert 9000 < watts_from_kwh_per_year(79_897) < 10_000
