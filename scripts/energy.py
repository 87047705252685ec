"""Joules per forward pass of every model of one domain and that domain's fitted lines (rule energy)."""

import pandas as pd

from greenflops.io.outputs import log_to_file, write_csv
from greenflops.io.tables import read_table
from greenflops.trends.lines import (
    add_energy,
    cv_fits,
    efficiency_fit,
    mark_cv_sota,
    mark_nlp_running_max,
    nlp_fits,
)

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

CV_COLUMNS = [
    "model", "extra_data", "architecture", "release_date", "year", "x", "top1_accuracy_pct",
    "params_m", "gflops", "gflops_paper", "gflops_method", "gflops_per_watt", "joules", "sota_per_year",
]
NLP_COLUMNS = [
    "model", "release_date", "year", "x", "input_tokens", "params_m", "glue_score", "gflops",
    "gflops_per_watt", "joules", "running_max",
]

with log_to_file(snakemake.log[0]) as log:
    domain = snakemake.wildcards.domain
    if domain == "cv":
        models = pd.read_csv(snakemake.input.models, keep_default_na=False, na_values=[""])
    else:
        models = read_table(snakemake.input.models, snakemake.input.schema)
    fit = efficiency_fit(pd.read_csv(snakemake.input.hardware_fits), domain)
    energy = add_energy(models, fit)
    if domain == "cv":
        energy = mark_cv_sota(energy)[CV_COLUMNS]
        fits = cv_fits(energy)
    else:
        energy = mark_nlp_running_max(energy)[NLP_COLUMNS]
        fits = nlp_fits(energy)
    energy = energy.sort_values(["release_date", "model"], kind="mergesort").reset_index(drop=True)
    log.info("%s: %d models, %.3g to %.3g J", domain, len(energy), energy["joules"].min(), energy["joules"].max())
    write_csv(energy, snakemake.output.energy)
    write_csv(fits, snakemake.output.fits)
