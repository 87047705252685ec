"""Every α-FLOPs figure of one device, PNG + PDF (rules alpha_figures_<device>): the paper's
figures whose sweeps the device has, and predicted vs measured. The dashed model is the one
params.yaml names (config alpha.figure_model: best, or a model's name); the recommended model
(params.yaml recommended_model) is drawn dotted where it differs."""

import pandas as pd

from greenflops.alpha.document import figure_model
from greenflops.alpha.plots import plot_paper_figure, plot_pred_vs_measured, second_model
from greenflops.io.outputs import log_to_file, save_figure
from greenflops.io.plainyaml import read_yaml

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    import matplotlib.pyplot as plt

    predictions = pd.read_csv(snakemake.input.predictions)
    report = pd.read_csv(snakemake.input.report)
    params = read_yaml(snakemake.input.params)
    model = figure_model(params, snakemake.params.figure_model)
    second = second_model(params, model)  # the recommended model, where it differs
    device_id = snakemake.params.device_id
    for fig_id, spec in snakemake.params.figures.items():
        if spec is None:  # predicted vs measured: every model
            fig = plot_pred_vs_measured(predictions, report, device_id)
        else:
            fig = plot_paper_figure(predictions, dict(spec), model, device_id, second)
        save_figure(fig, snakemake.output[f"{fig_id}_pdf"], snakemake.output[f"{fig_id}_png"])
        plt.close(fig)
        log.info("figure %s, dashed model %s, dotted (recommended) %s", fig_id, model, second)
