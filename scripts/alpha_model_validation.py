"""Whole-network check of the fitted time models (rule alpha_model_validation): the sum of each
network's per-layer predicted times vs its raw measured time
(data/raw/timings/<device_id>/networks/whole_networks.csv, rule whole_networks). Nothing is timed
here: the same inputs give the same bytes."""

import pandas as pd

from greenflops.alpha.networks import (
    WHOLE_NETWORK_COLUMNS,
    read_whole_networks,
    validate_networks,
    validation_markdown,
)
from greenflops.io.outputs import atomic_write_text, log_to_file, write_csv
from greenflops.io.plainyaml import read_yaml

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    doc = read_yaml(snakemake.input.params)
    device_id = snakemake.wildcards.device_id
    if snakemake.input.networks:
        measured = read_whole_networks(snakemake.input.networks[0], snakemake.input.schema)
        table = validate_networks(measured, doc)
    else:
        note = (f"not measured on this device: no data/raw/timings/{device_id}/networks/"
                "whole_networks.csv (measured with the sweeps, rule whole_networks, CPU only)")
        log.info(note)
        table = validate_networks(pd.DataFrame(columns=WHOLE_NETWORK_COLUMNS), doc, note=note)
    log.info("\n%s", table.to_string(index=False))
    write_csv(table, snakemake.output.csv)
    atomic_write_text(snakemake.output.md, validation_markdown(table, device_id))
