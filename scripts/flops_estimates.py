"""Computed GFLOPs estimates and the CV table that uses them (rule flops_estimates)."""

from greenflops.trends.estimates import compute_estimates, resolve_cv_gflops
from greenflops.io.outputs import log_to_file, write_csv
from greenflops.io.tables import read_table

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    cv = read_table(snakemake.input.cv, snakemake.input.cv_schema)
    inputs = read_table(snakemake.input.estimates, snakemake.input.estimates_schema)
    estimates = compute_estimates(inputs, cv, inputs_path=snakemake.input.estimates)
    for _, e in estimates.iterrows():
        log.info("%s: %.4g GFLOPs (paper %.4g)", e["model"], e["gflops"], e["gflops_paper"])
    write_csv(estimates, snakemake.output.estimates)
    write_csv(resolve_cv_gflops(cv, estimates), snakemake.output.cv)
