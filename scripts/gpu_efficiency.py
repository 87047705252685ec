"""Table 9 (GPU efficiency adapted per domain) and the Fig. 8 GFLOPS/W fits (rule gpu_efficiency)."""

import pandas as pd

from greenflops.io.outputs import log_to_file, write_csv
from greenflops.trends.efficiency import gpu_efficiency_table
from greenflops.io.tables import read_table
from greenflops.trends.lines import hardware_fits

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    gpus = read_table(snakemake.input.gpus, snakemake.input.schema)
    speedups = pd.read_csv(snakemake.input.speedups)
    table9 = snakemake.params.table9
    efficiency = gpu_efficiency_table(
        gpus,
        speedups,
        base_precisions=table9["base_precisions"],
        exclude_rows=table9["exclude"],
        gpu_names=snakemake.params.gpu_names,
        fp32_reference=snakemake.params.fp32_reference,
        display_names=table9["display_names"],
    )
    fits = hardware_fits(efficiency)
    for _, f in fits.iterrows():
        log.info("%s GFLOPS/W: x%.3f per year (n=%d)", f["domain"], 10 ** f["slope_log10_per_year"], f["n"])
    write_csv(efficiency, snakemake.output.efficiency)
    write_csv(fits, snakemake.output.fits)
