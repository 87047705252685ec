"""Write data/processed/timings_inventory.csv: every timing file, validated against the contract."""

from greenflops.io.outputs import log_to_file, write_csv
from greenflops.timing.datasets import inventory

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    timings_schema, device_schema = snakemake.input.schemas
    frame = inventory(snakemake.input.csvs, snakemake.input.devices, timings_schema, device_schema)
    log.info("validated %d timing files, %d rows in all", len(frame), frame["rows"].sum())
    write_csv(frame, snakemake.output[0])
