"""Draw a group of figures of Desislavov et al. (2021) from the processed tables.

Rules figures_hardware, figures_cv and figures_nlp: one job per group, so the plotting libraries
are imported once per group rather than once per figure. ``params.figures`` lists the figure ids;
each has outputs ``<id>_pdf`` and ``<id>_png``.
"""

import pandas as pd

from greenflops import trend_figures as tf
from greenflops.outputs import log_to_file, save_figure
from greenflops.tables import read_table
from greenflops.trend_analysis import add_time_columns
from greenflops.trends import pareto_front

snakemake = globals()["snakemake"]


def csv(name: str) -> pd.DataFrame:
    return pd.read_csv(snakemake.input[name], keep_default_na=False, na_values=[""])


def draw(figure: str):
    inp = snakemake.input
    if figure == "fig01":
        return tf.params_vs_flops(csv("models"), csv("correlation"))
    if figure == "fig02":
        return tf.accuracy_vs_time(csv("energy"))
    if figure in ("fig03", "fig06"):
        return tf.flops_vs_time(csv("energy"), csv("fits"), figure, snakemake.params.domain)
    if figure == "fig04":
        energy = csv("energy")
        return tf.pareto_accuracy_vs_flops(energy, pareto_front(energy, "gflops", "top1_accuracy_pct"))
    if figure == "fig05":
        return tf.glue_vs_flops(csv("energy"))
    if figure == "fig07":
        gpus = read_table(inp.gpus, inp.schema)
        gpus["gflops_per_watt"] = 1000.0 * gpus["tflops"] / gpus["watts_tdp"]
        return tf.theoretical_efficiency(add_time_columns(gpus, "launch_date"))
    if figure == "fig08":
        return tf.adapted_efficiency(add_time_columns(csv("efficiency"), "launch_date"), csv("fits"))
    if figure in ("fig09", "fig10"):
        return tf.joules_vs_time(csv("energy"), csv("fits"), figure, snakemake.params.domain)
    if figure in ("fig11", "fig12"):
        return tf.accuracy_vs_joules(csv("energy"), snakemake.params.domain)
    if figure in ("fig13", "fig14"):
        return tf.joules_vs_time(csv("energy"), csv("fits"), figure, snakemake.params.domain, csv("human"))
    if figure == "fig15":
        return tf.glue_over_time(csv("energy"))
    raise ValueError(f"unknown figure {figure!r}")


with log_to_file(snakemake.log[0]) as log:
    import matplotlib.pyplot as plt

    for figure in snakemake.params.figures:
        fig = draw(figure)
        save_figure(fig, snakemake.output[f"{figure}_pdf"], snakemake.output[f"{figure}_png"])
        plt.close(fig)
        log.info("wrote %s", figure)
