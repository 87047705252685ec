"""Write data/processed/table_inventory.csv: rows, columns, key and checksum of each curated table."""

from greenflops.io.outputs import log_to_file, write_csv
from greenflops.io.tables import inventory

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    frame = inventory(snakemake.input.tables, snakemake.input.schemas)
    log.info("validated %d tables, %d rows in all", len(frame), frame["rows"].sum())
    write_csv(frame, snakemake.output[0])
