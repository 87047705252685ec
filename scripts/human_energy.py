"""A human's internal and external energy use in one second (rule human_energy)."""

from greenflops.io.outputs import log_to_file, write_csv
from greenflops.trends.energy import human_energy_references

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    table = human_energy_references(snakemake.params.human_energy)
    log.info("\n%s", table[["reference", "joules_per_second"]].to_string())
    write_csv(table, snakemake.output[0])
