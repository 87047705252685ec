"""Draw the figures of the trends carried through 2025 (rule trends2025_figures).

The figures and how each is drawn are greenflops.trends.registry2025; this job loads its tables
once (named as the rule's inputs) and writes each figure as PDF and PNG.
"""

import pandas as pd

from greenflops.io.outputs import log_to_file, save_figure
from greenflops.trends.registry2025 import FIGURES, TABLES

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    import matplotlib.pyplot as plt

    tables = {name: pd.read_csv(snakemake.input[name], keep_default_na=False, na_values=[""])
              for name in TABLES}
    for figure in FIGURES:
        fig = figure.draw(tables)
        save_figure(fig, snakemake.output[f"{figure.id}_pdf"], snakemake.output[f"{figure.id}_png"])
        plt.close(fig)
        log.info("wrote %s", figure.stem)
