"""One alpha-FLOPs figure of one device, PNG + PDF (rule alpha_figure)."""

import pandas as pd

from greenflops.alpha_plots import figure_model, plot_paper_figure, plot_pred_vs_measured
from greenflops.outputs import log_to_file, save_figure

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    predictions = pd.read_csv(snakemake.input.predictions)
    report = pd.read_csv(snakemake.input.report)
    model = figure_model(report, snakemake.params.figure_model)
    if snakemake.wildcards.fig == "pred_vs_measured":
        fig = plot_pred_vs_measured(predictions, report, snakemake.wildcards.device_id)
    else:
        fig = plot_paper_figure(predictions, dict(snakemake.params.spec), model,
                                snakemake.wildcards.device_id)
    log.info("figure %s, dashed model %s", snakemake.wildcards.fig, model)
    save_figure(fig, snakemake.output.pdf, snakemake.output.png)
