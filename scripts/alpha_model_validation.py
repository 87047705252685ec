"""Whole-network check of the fitted time models on this CPU (rule alpha_model_validation):
measure networks defined in code with torch.utils.benchmark and compare with the sum of their
layers' predicted times."""

import torch
import yaml

from greenflops.model_cost import validate_networks, validation_markdown
from greenflops.outputs import atomic_write_text, log_to_file, write_csv
from greenflops.timing import hardware_id

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    with open(snakemake.input.params, encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    with open(snakemake.input.device, encoding="utf-8") as handle:
        device = yaml.safe_load(handle)
    threads = int(device.get("threads") or 1)
    here = hardware_id(torch.device("cpu"), threads)
    expected = device.get("hardware_id")
    cfg = snakemake.params.cfg
    if device.get("device_type") != "cpu" or expected != here:
        note = (f"not validated: the data was measured on {expected or 'an unknown device'}, "
                f"this machine is {here}")
        log.info(note)
        table = validate_networks([], [], doc, threads, 0.0, note=note)
    else:
        torch.set_num_threads(threads)
        table = validate_networks(cfg["networks"], cfg["inputs"], doc, threads,
                                  cfg["min_run_time_s"])
    log.info("\n%s", table.to_string(index=False))
    write_csv(table, snakemake.output.csv)
    atomic_write_text(snakemake.output.md,
                      validation_markdown(table, snakemake.wildcards.device_id))
