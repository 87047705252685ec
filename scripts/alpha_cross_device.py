"""Every device's time models side by side (rule alpha_cross_device): out-of-sample MAPE and median
APE per device × model, figures/tables/alpha_cross_device.{csv,md} and a figure."""

import pandas as pd
from greenflops.alpha.cross_device import (
    cross_device_markdown,
    cross_device_table,
    plot_cross_device,
)
from greenflops.io.outputs import atomic_write_text, log_to_file, save_figure, write_csv
from greenflops.io.plainyaml import read_yaml

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    import matplotlib.pyplot as plt

    devices = snakemake.params.devices
    reports = {d: pd.read_csv(p) for d, p in zip(devices, snakemake.input.reports)}
    params = {}
    for d, path in zip(devices, snakemake.input.params):
        params[d] = read_yaml(path)
    table = cross_device_table(reports, params)
    write_csv(table, snakemake.output.csv)
    atomic_write_text(snakemake.output.md, cross_device_markdown(table))
    fig = plot_cross_device(table)
    save_figure(fig, snakemake.output.pdf, snakemake.output.png)
    plt.close(fig)
    log.info("%d devices, %d rows", len(devices), len(table))
