"""Fits that refuse to pretend: a model is fitted only where the data can identify its
parameters, and a dataset too small for any model gets no best model (and figures that say so)."""

from __future__ import annotations

import pandas as pd
import yaml

from greenflops.alpha.document import params_document
from greenflops.alpha.fig3a import fig3a_table
from greenflops.alpha.document import figure_model
from greenflops.alpha.plots import plot_paper_figure, plot_pred_vs_measured
from greenflops.alpha.synthetic import synthetic_timings
from greenflops.alpha.validation import MIN_ROWS_PER_PARAMETER, fit_device, unidentifiable
from greenflops.alpha.features import features_from_frame
from conftest import ROOT

PARAMS = {"beta_k1": 0.05, "gamma_k1": 0.9, "beta_kn": 0.01, "gamma_kn": 0.6,
          "scale_ms_per_gflop": 10.0}


def test_one_row_of_one_sweep_fits_nothing_and_names_no_best_model():
    timings = synthetic_timings("alpha_fit", PARAMS, sweeps=("dense_batch",)).head(1)
    devfit = fit_device(timings, {}, starts=1)
    assert devfit.fits == {}
    assert devfit.best_alpha is None
    assert all(note.startswith("skipped") for m, note in devfit.notes.items() if m != "loso")
    doc = params_document("tiny", devfit, [], timings, {"starts": 1})
    assert doc["best_alpha_model"] is None and doc["best_baseline_model"] is None
    assert "rows cannot identify" in doc["models"]["flops"]["skipped"]
    assert figure_model(doc, "best") is None
    # the figures and the Fig. 3a table say so instead of failing
    spec = {"paper": "Fig. 7", "predicted": True, "sweeps": ["dense_batch"]}
    assert plot_paper_figure(devfit.predictions, spec, None, "tiny") is not None
    assert plot_pred_vs_measured(devfit.predictions, devfit.report, "tiny") is not None
    reference = pd.read_csv(ROOT / "data/raw/tables/alpha_t2000_reference.csv")
    table, note = fig3a_table(devfit.predictions, reference, None)
    assert "no model was fitted" in note and table["time_ms_measured"].isna().all()


def test_alpha_models_need_both_kernel_classes():
    timings = synthetic_timings("alpha_fit", PARAMS,
                                sweeps=("dense_vs_conv", "dense_batch", "increasing_cout_k1"))
    x = features_from_frame(timings)
    assert "kernel area K > 1" in unidentifiable("alpha_fit", x, len(timings))
    assert unidentifiable("flops", x, len(timings)) is None
    devfit = fit_device(timings, {}, starts=1, models=("flops", "alpha_fit", "alpha_paper"))
    assert set(devfit.fits) == {"flops", "alpha_paper"}  # alpha_paper's β, γ are the paper's


def test_rows_per_parameter_rule():
    timings = synthetic_timings("alpha_fit", PARAMS)
    x = features_from_frame(timings)
    n_params = 5  # β, γ per kernel class and a scale
    assert unidentifiable("alpha_fit", x, MIN_ROWS_PER_PARAMETER * n_params) is None
    assert "rows cannot identify 5 parameters" in unidentifiable(
        "alpha_fit", x, MIN_ROWS_PER_PARAMETER * n_params - 1)


def test_params_document_is_yaml():
    timings = synthetic_timings("alpha_fit", PARAMS, sweeps=("dense_batch",)).head(1)
    doc = params_document("tiny", fit_device(timings, {}, starts=1), [], timings, {})
    assert yaml.safe_load(yaml.safe_dump(doc))["device_id"] == "tiny"


def test_outputs_of_removed_devices_are_listed_for_pruning(tmp_path):
    from glue.alpha_targets import stale_device_outputs

    for top in ("data/processed/alpha", "figures/alpha"):
        for dev in ("kept-device", "gone-device"):
            (tmp_path / top / dev).mkdir(parents=True)
    assert stale_device_outputs({"kept-device": {}}, tmp_path) == [
        "data/processed/alpha/gone-device", "figures/alpha/gone-device"]
