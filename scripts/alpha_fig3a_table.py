"""Fig. 3a table of one device beside the paper's T2000 values, CSV + Markdown (rule
alpha_fig3a_table)."""

import pandas as pd

from greenflops.alpha.document import figure_model
from greenflops.alpha.fig3a import fig3a_markdown, fig3a_table
from greenflops.io.outputs import atomic_write_text, log_to_file, write_csv
from greenflops.io.plainyaml import read_yaml
from greenflops.io.tables import read_table

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    predictions = pd.read_csv(snakemake.input.predictions)
    reference = read_table(snakemake.input.reference, snakemake.params.reference_schema)
    model = figure_model(read_yaml(snakemake.input.params), snakemake.params.figure_model)
    table, note = fig3a_table(predictions, reference, model)
    log.info("%d rows; %s", len(table), note)
    write_csv(table, snakemake.output.csv)
    atomic_write_text(snakemake.output.md,
                      fig3a_markdown(table, note, snakemake.wildcards.device_id, model))
