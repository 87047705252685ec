"""Draw one group of the figures of Desislavov et al. (2021) (rules trends_figures_<group>).

The figures of a group and how each is drawn are greenflops.trends.registry; this job loads the
group's tables once (named as the rule's inputs) and writes each figure as PDF and PNG.
"""

import pandas as pd

from greenflops.io.outputs import log_to_file, save_figure
from greenflops.io.tables import read_table
from greenflops.trends.registry import GROUPS, figures_of

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive


def load(name: str) -> pd.DataFrame:
    if name == "gpus":  # the curated table itself, validated
        return read_table(snakemake.input.gpus, snakemake.input.gpus_schema)
    return pd.read_csv(snakemake.input[name], keep_default_na=False, na_values=[""])


with log_to_file(snakemake.log[0]) as log:
    import matplotlib.pyplot as plt

    group = snakemake.params.group
    tables = {name: load(name) for name in GROUPS[group]}
    for figure in figures_of(group):
        fig = figure.draw(tables)
        save_figure(fig, snakemake.output[f"{figure.id}_pdf"], snakemake.output[f"{figure.id}_png"])
        plt.close(fig)
        log.info("wrote %s", figure.stem)
