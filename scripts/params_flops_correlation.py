"""Fig. 1's params-vs-FLOPs Pearson correlations per architecture family (rule params_flops_correlation)."""

import pandas as pd

from greenflops.io.outputs import log_to_file, write_csv
from greenflops.io.tables import read_table
from greenflops.trends.correlation import params_flops_correlation

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    cfg = snakemake.params.correlation
    models = pd.read_csv(snakemake.input.models, keep_default_na=False, na_values=[""])
    printed = read_table(snakemake.input.paper_values, snakemake.input.paper_values_schema)
    printed = printed[printed["item"] == "fig1_pearson_r"]
    paper_r = dict(zip(printed["key"], printed["paper_value"]))
    table = params_flops_correlation(models, paper_r, cfg["distinct_points"], cfg["min_points"])
    log.info("\n%s", table.to_string())
    write_csv(table, snakemake.output[0])
