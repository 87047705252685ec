# Stage "alpha": the alpha-FLOPs regression of Asperti et al. (2021), one set of outputs per device.
# A device is any folder data/raw/timings/<device_id>/ with a device.yaml and at least one
# <sweep>.csv; sweeps.smk (included before this file) validates them when the workflow loads, so a
# bad file stops the run (file, line, column) before any output is written. Figures are made only
# for the sweeps a device has.
import re

from greenflops.report import (
    ALPHA_CATEGORY,
    alpha_figure_labels,
    alpha_figure_subcategory,
)
from greenflops.alpha_workflow import (
    alpha_targets,
    devices_from_datasets,
    figure_caption,
    sweep_panels,
    timing_inputs,
    whole_networks_inputs,
)

ALPHA_TIMINGS = "data/raw/timings"
ALPHA_CFG = config["alpha"]
# The timing datasets were validated once, when sweeps.smk loaded (TIMING_DATASETS).
ALPHA_DEVICES = devices_from_datasets(TIMING_DATASETS)
# device_id matches only the device folders found (rule-level, so other stages are unaffected).
ALPHA_DEVICE_RE = "|".join(re.escape(d) for d in ALPHA_DEVICES) or "(?!x)x"


rule alpha_fit:
    input:
        timings=lambda wc: timing_inputs(ALPHA_TIMINGS, wc.device_id),
        schema=schema_path("timings"),
        library=library("alpha", "alpha_fit", "timings_data", "tables", "outputs"),
    output:
        params="data/processed/alpha/{device_id}/params.yaml",
        report="data/processed/alpha/{device_id}/fit_report.csv",
        by_sweep="data/processed/alpha/{device_id}/fit_report_by_sweep.csv",
        predictions="data/processed/alpha/{device_id}/predictions.csv",
    log:
        "logs/alpha/alpha_fit_{device_id}.log",
    wildcard_constraints:
        device_id=ALPHA_DEVICE_RE,
    conda:
        "../../environment.yml"
    params:
        folder=lambda wc: f"{ALPHA_TIMINGS}/{wc.device_id}",
        device_schema=schema_path("device"),
        models=ALPHA_CFG["models"],
        starts=ALPHA_CFG["starts"],
        seed=ALPHA_CFG["seed"],
        loss=ALPHA_CFG["loss"],
        f_scale=ALPHA_CFG["f_scale"],
        max_rel_iqr=ALPHA_CFG["max_rel_iqr"],
        panels=sweep_panels(ALPHA_CFG["figures"]),
    message:
        "alpha-FLOPs: fit every time model on device {wildcards.device_id} (in-sample and LOSO)"
    script:
        "../../scripts/fit_alpha.py"


rule alpha_figure:
    input:
        predictions="data/processed/alpha/{device_id}/predictions.csv",
        report="data/processed/alpha/{device_id}/fit_report.csv",
        library=library("alpha", "alpha_plots", "outputs"),
    output:
        png=report(
            "figures/alpha/{device_id}/{fig}.png",
            caption="../report/alpha_figure.rst",
            category=ALPHA_CATEGORY,
            subcategory=lambda wc: alpha_figure_subcategory(wc.fig),
            labels=lambda wc: alpha_figure_labels(
                wc.device_id, wc.fig, ALPHA_CFG["figures"]
            ),
        ),
        pdf="figures/alpha/{device_id}/{fig}.pdf",
    log:
        "logs/alpha/alpha_figure_{device_id}_{fig}.log",
    wildcard_constraints:
        device_id=ALPHA_DEVICE_RE,
        fig="|".join(list(config["alpha"]["figures"]) + ["pred_vs_measured"]),
    conda:
        "../../environment.yml"
    params:
        spec=lambda wc: ALPHA_CFG["figures"].get(wc.fig, {}),
        figure_model=ALPHA_CFG["figure_model"],
        caption=lambda wc: figure_caption(wc.device_id, wc.fig, ALPHA_CFG["figures"]),
    message:
        "alpha-FLOPs: figure {wildcards.fig} for device {wildcards.device_id}"
    script:
        "../../scripts/plot_alpha.py"


rule alpha_fig3a_table:
    input:
        predictions="data/processed/alpha/{device_id}/predictions.csv",
        report="data/processed/alpha/{device_id}/fit_report.csv",
        reference=table_path("alpha_t2000_reference"),
        library=library("alpha_plots", "tables", "outputs"),
    output:
        csv="figures/alpha/{device_id}/fig03a_table.csv",
        # shown in the report as figures/report/alpha/{device_id}/fig03a_table.html (report.smk)
        md="figures/alpha/{device_id}/fig03a_table.md",
    log:
        "logs/alpha/alpha_fig3a_table_{device_id}.log",
    wildcard_constraints:
        device_id=ALPHA_DEVICE_RE,
    conda:
        "../../environment.yml"
    params:
        reference_schema=schema_path("alpha_t2000_reference"),
        figure_model=ALPHA_CFG["figure_model"],
    message:
        "alpha-FLOPs: Fig. 3a table (327.68 MFLOPs configurations) for {wildcards.device_id}"
    script:
        "../../scripts/alpha_fig3a_table.py"


TARGETS["alpha"] = alpha_targets(ALPHA_DEVICES, ALPHA_CFG["figures"])


# Deterministic: the device's fitted params.yaml and its raw whole-network timings (measured by
# rule whole_networks in sweeps.smk); nothing is timed here. A default target only for devices
# that have the raw file when the workflow loads; asked for without it, it says "not measured".
rule alpha_model_validation:
    input:
        params="data/processed/alpha/{device_id}/params.yaml",
        networks=lambda wc: whole_networks_inputs(ALPHA_TIMINGS, wc.device_id),
        schema=schema_path("whole_networks"),
        library=library("model_cost", "alpha", "tables", "outputs"),
    output:
        csv="data/processed/alpha/{device_id}/model_validation.csv",
        # shown in the report as figures/report/alpha/{device_id}/model_validation.html (report.smk)
        md="data/processed/alpha/{device_id}/model_validation.md",
    log:
        "logs/alpha/alpha_model_validation_{device_id}.log",
    wildcard_constraints:
        device_id=ALPHA_DEVICE_RE,
    conda:
        "../../environment.yml"
    message:
        "alpha-FLOPs: whole-network predictions vs measured time on {wildcards.device_id}"
    script:
        "../../scripts/alpha_model_validation.py"
