"""greenflops.alpha.reproduction: the paper's form refitted under several objectives, and the
sentence that says from the numbers whether the printed K > 1 values come back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from greenflops.alpha.formula import KNOWN_IMPL_SCALE_MS_PER_GFLOP, predicted_time_ms
from greenflops.alpha.reproduction import (
    Arrays,
    PaperFit,
    fidelity_fits,
    fidelity_frame,
    paper_form_fit,
    recovery_sentence,
    t2000_arrays,
)


def _rows(params: dict, noise: float = 0.0, seed: int = 0) -> Arrays:
    """Convolutions and dense layers timed exactly (or with noise) by the paper's form."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in (1, 3, 5):
        for hw in (2, 5, 10, 30, 100):
            for c in (64, 256):
                rows.append({"batch": 1, "h": hw, "w": hw, "k_h": k, "k_w": k,
                             "flops": 2.0 * c * c * k * k * hw * hw})
    x = t2000_arrays(pd.DataFrame([dict(r, time_ms=1.0) for r in rows]))
    t = predicted_time_ms(x.flops, x.s, x.k, KNOWN_IMPL_SCALE_MS_PER_GFLOP, params)
    t = t * np.exp(noise * rng.standard_normal(len(t)))
    return Arrays(x.s, x.k, x.flops, t)


def test_the_form_is_recovered_from_exact_data():
    truth = {"beta_k1": 0.03, "gamma_k1": 0.9, "beta_kn": 0.002, "gamma_kn": 0.6}
    x = _rows(truth)
    for objective, scale in (("log", None), ("abs", 0.0375)):
        fit = paper_form_fit(x, objective, scale_fixed=scale)
        for p, v in truth.items():
            assert fit.params[p] == pytest.approx(v, rel=1e-3), (objective, p)
        assert fit.scale_ms_per_mmac == pytest.approx(0.0375, rel=1e-3)
        assert fit.mape[0] < 1e-3 and fit.stderr["gamma_kn"] < 1e-3


def _fit(objective: str, beta_kn: float, gamma_kn: float, se: float = 0.002) -> PaperFit:
    params = {"beta_k1": 0.02, "gamma_k1": 0.99, "beta_kn": beta_kn, "gamma_kn": gamma_kn}
    return PaperFit(objective, "fixed", (), params, stderr={p: se for p in params},
                    scale_ms_per_mmac=0.0375, mape=(20.0, 25.0, 17.0))


def test_the_sentence_names_the_fits_that_recover_the_printed_values():
    frame = fidelity_frame([_fit("abs", 0.0011, 0.5649), _fit("log", 0.0018, 0.598)])
    assert list(frame["recovers_printed_kn"]) == [True, False]
    sentence = recovery_sentence(frame)
    assert sentence.startswith("The printed K > 1 values (β = 0.001, γ = 0.56) are recovered at "
                               "the printed digits by 1 of 2 fits: time (ms), least squares")


def test_the_sentence_when_nothing_recovers():
    frame = fidelity_frame([_fit("abs", 0.0011, 0.5701), _fit("log", 0.0057, 0.88)])
    sentence = recovery_sentence(frame)
    assert "are not recovered at the printed digits by any of the 2 fits" in sentence
    assert "closest is time (ms), least squares, scale fixed: β_K>1 = 0.00110, γ_K>1 = 0.570 ± " \
           "0.002 (γ_K>1 rounds to 0.57, β_K>1 to 0.001)" in sentence


@pytest.mark.slow
def test_every_objective_on_noisy_data_made_by_the_printed_values():
    printed = {"beta_k1": 0.02, "gamma_k1": 0.99, "beta_kn": 0.001, "gamma_kn": 0.56}
    frame = fidelity_frame(fidelity_fits(_rows(printed, noise=0.01)))
    assert len(frame) == 13 and frame.loc[0, "objective"] == "printed"
    assert 0.2 < frame.loc[0, "mape_pct"] < 2  # the printed values on 1% noise
    assert frame["recovers_printed_kn"].iloc[1:].sum() >= 6
