"""Table 3 speed-ups per benchmark and Table 4 means (rule precision_speedups)."""

from greenflops.io.outputs import log_to_file, write_csv
from greenflops.trends.speedups import benchmark_speedups, mean_speedups
from greenflops.io.tables import read_table

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    throughput = read_table(snakemake.input.table, snakemake.input.schema)
    per_benchmark = benchmark_speedups(throughput, snakemake.params.fp32_reference)
    means = mean_speedups(per_benchmark)
    log.info("%d benchmark runs -> %d mean speed-ups", len(per_benchmark), len(means))
    write_csv(per_benchmark, snakemake.output.per_benchmark)
    write_csv(means, snakemake.output.means)
