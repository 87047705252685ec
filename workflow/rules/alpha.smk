# Stage "alpha": the alpha-FLOPs regression of Asperti et al. (2021), one set of outputs per device.
# A device is any folder data/raw/timings/<device_id>/ or data/imported/<device_id>/ with a
# device.yaml and at least one <sweep>.csv, validated when the workflow loads (common.smk), so a
# bad file stops the run (file, line, column) before any output is written; or a folder that an
# import of this run will write (imports.smk), planned when the workflow loads. Figures are made only for the sweeps a device has:
# one job per device draws them all (rules alpha_figures_<device>, planned here).
import os
import re

from greenflops.imports.asperti2021 import DEVICE_ID as T2000_DEVICE
from glue.alpha_targets import (
    PRED_VS_MEASURED,
    alpha_targets,
    dataset_folders,
    dataset_timing_inputs,
    device_figures,
    devices_from_datasets,
    stale_device_outputs,
    whole_networks_inputs,
)

ALPHA_CFG = config["alpha"]
ALPHA_DEVICES = devices_from_datasets(TIMING_DATASETS)
# The timing folder of each device (data/raw/timings/<id> or data/imported/<id>).
ALPHA_FOLDERS = dataset_folders(TIMING_DATASETS)
# device_id matches only the device folders found (rule-level, so other stages are unaffected).
ALPHA_DEVICE_RE = "|".join(re.escape(d) for d in ALPHA_DEVICES) or "(?!x)x"


rule alpha_fit:
    input:
        timings=lambda wc: dataset_timing_inputs(TIMING_DATASETS[wc.device_id]),
        schema=schema_path("timings"),
        # the device facts device.yaml lacks (SM count, peak, bandwidth), by its gpu_spec row
        gpu_specs=table_path("gpu_specs"),
        library=code("alpha_fit"),
    output:
        params="data/processed/alpha/{device_id}/params.yaml",
        report="data/processed/alpha/{device_id}/fit_report.csv",
        by_sweep="data/processed/alpha/{device_id}/fit_report_by_sweep.csv",
        predictions="data/processed/alpha/{device_id}/predictions.csv",
    log:
        "logs/alpha/alpha_fit_{device_id}.log",
    benchmark:
        "logs/benchmarks/alpha_fit_{device_id}.tsv"
    wildcard_constraints:
        device_id=ALPHA_DEVICE_RE,
    conda:
        "../../environment.yml"
    params:
        folder=lambda wc: ALPHA_FOLDERS[wc.device_id],
        device_schema=schema_path("device"),
        gpu_specs_schema=schema_path("gpu_specs"),
        models=ALPHA_CFG["models"],
        cpu_models=ALPHA_CFG["cpu_models"],
        starts=ALPHA_CFG["starts"],
        family_starts=ALPHA_CFG["family_starts"],
        kfold=ALPHA_CFG["kfold"],
        bound=ALPHA_CFG["oos_bound"],
        seed=ALPHA_CFG["seed"],
        residual=ALPHA_CFG["residual"],
        loss=ALPHA_CFG["loss"],
        f_scale=ALPHA_CFG["f_scale"],
        max_rel_iqr=ALPHA_CFG["max_rel_iqr"],
    message:
        "alpha-FLOPs: fit every time model on device {wildcards.device_id} (in-sample, LOSO, k-fold)"
    script:
        "../../scripts/alpha_fit.py"


# One figure job per device: its figures differ by the sweeps it has, so each device gets a rule
# whose outputs are exactly its figures.
for _device_id, _device in ALPHA_DEVICES.items():
    _figures = device_figures(_device, ALPHA_FIGURES)

    rule:
        name:
            f"alpha_figures_{_device_id.replace('-', '_')}"
        input:
            predictions=f"data/processed/alpha/{_device_id}/predictions.csv",
            report=f"data/processed/alpha/{_device_id}/fit_report.csv",
            params=f"data/processed/alpha/{_device_id}/params.yaml",
            library=code("alpha_figures"),
        output:
            **alpha_figure_outputs(_device_id, _figures),
        log:
            f"logs/alpha/alpha_figures_{_device_id}.log",
        benchmark:
            f"logs/benchmarks/alpha_figures_{_device_id}.tsv"
        conda:
            "../../environment.yml"
        params:
            device_id=_device_id,
            # the device's timing folder, named in the captions (workflow/report/alpha/)
            data_folder=ALPHA_FOLDERS[_device_id],
            figures={
                fig: (None if fig == PRED_VS_MEASURED else ALPHA_FIGURES[fig])
                for fig in _figures
            },
            figure_model=ALPHA_CFG["figure_model"],
        message:
            f"alpha-FLOPs: {len(_figures)} figures of device {_device_id}"
        script:
            "../../scripts/alpha_figures.py"


rule alpha_fig3a_table:
    input:
        predictions="data/processed/alpha/{device_id}/predictions.csv",
        params="data/processed/alpha/{device_id}/params.yaml",
        reference=table_path("alpha_t2000_reference"),
        library=code("alpha_fig3a_table"),
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


# Every device's time models side by side (beyond the paper): out-of-sample MAPE and median APE
# per device x model, read from the fits (nothing refitted).
rule alpha_cross_device:
    input:
        reports=[f"data/processed/alpha/{d}/fit_report.csv" for d in ALPHA_DEVICES],
        params=[f"data/processed/alpha/{d}/params.yaml" for d in ALPHA_DEVICES],
        library=code("alpha_cross_device"),
    output:
        csv="figures/tables/alpha_cross_device.csv",
        # shown in the report as figures/report/alpha/alpha_cross_device.html (report.smk)
        md="figures/tables/alpha_cross_device.md",
        png=report(
            "figures/alpha/cross_device.png",
            caption="../report/alpha/cross_device.rst",
            category=ALPHA_CATEGORY,
            subcategory="Beyond the paper: time models across devices",
            labels={"figure": "time models across devices", "data": "all devices"},
        ),
        pdf="figures/alpha/cross_device.pdf",
    log:
        "logs/alpha/alpha_cross_device.log",
    conda:
        "../../environment.yml"
    params:
        devices=list(ALPHA_DEVICES),
    message:
        "alpha-FLOPs: time models across {} devices (out-of-sample MAPE)".format(
            len(ALPHA_DEVICES)
        )
    script:
        "../../scripts/alpha_cross_device.py"


TARGETS["alpha"] = alpha_targets(ALPHA_DEVICES, ALPHA_FIGURES)
if ALPHA_DEVICES:
    TARGETS["alpha"] += [*rules.alpha_cross_device.output]


# The paper's own regression reproduced on its own data, only when the paper's T2000 dataset is
# there (config imports, format asperti2021): its beta, gamma refitted under several objectives
# beside the printed ones, with the MAPE of each.
if T2000_DEVICE in ALPHA_DEVICES:

    rule alpha_t2000_fidelity:
        input:
            timings=dataset_timing_inputs(TIMING_DATASETS[T2000_DEVICE]),
            schema=schema_path("timings"),
            library=code("alpha_t2000_fidelity"),
        output:
            csv="figures/tables/fidelity_alpha_t2000.csv",
            # shown in the report as figures/report/alpha/fidelity_alpha_t2000.html
            md="figures/tables/fidelity_alpha_t2000.md",
        log:
            "logs/alpha/alpha_t2000_fidelity.log",
        benchmark:
            "logs/benchmarks/alpha_t2000_fidelity.tsv"
        conda:
            "../../environment.yml"
        params:
            folder=lambda wc: ALPHA_FOLDERS[T2000_DEVICE],
            device_schema=schema_path("device"),
        message:
            "alpha-FLOPs: the paper's regression refitted on its own T2000 data (fidelity table)"
        script:
            "../../scripts/alpha_t2000_fidelity.py"

    TARGETS["alpha"] += rules.alpha_t2000_fidelity.output


# Deterministic: the device's fitted params.yaml and its raw whole-network timings (measured by
# rule whole_networks in sweeps.smk); nothing is timed here. A default target only for devices
# that have the raw file when the workflow loads; asked for without it, it says "not measured".
rule alpha_model_validation:
    input:
        params="data/processed/alpha/{device_id}/params.yaml",
        networks=lambda wc: whole_networks_inputs(
            os.path.dirname(ALPHA_FOLDERS[wc.device_id]), wc.device_id
        ),
        schema=schema_path("whole_networks"),
        library=code("alpha_model_validation"),
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


# Not a default target: `snakemake prune_stale_outputs` deletes the outputs of devices whose
# timing folder is gone (removed or renamed), which no other rule would touch again.
rule prune_stale_outputs:
    log:
        "logs/alpha/prune_stale_outputs.log",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        stale=stale_device_outputs(ALPHA_DEVICES),
    message:
        "Delete the outputs of devices without a timing folder: {params.stale}"
    script:
        "../../scripts/prune_stale_outputs.py"
