"""Energy per forward pass of every network, the two papers side by side (rule networks_energy):
(a) FLOPs / GFLOPS/W of Table 9's GPUs, (b) predicted time x power, (c) NVML joules where
measured; figures/networks/energy.csv, .md and a figure. Missing values stay missing, with why."""

import pandas as pd
from greenflops.io.outputs import atomic_write_text, log_to_file, save_figure, write_csv
from greenflops.io.tables import read_yaml
from greenflops.networks.energy import energy_table
from greenflops.networks.plots import plot_energy
from greenflops.networks.tables import energy_markdown

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive


with log_to_file(snakemake.log[0]) as log:
    inp, out = snakemake.input, snakemake.output
    predictions = pd.concat([pd.read_csv(p) for p in inp.predictions], ignore_index=True)
    devices = {d: read_yaml(p) for d, p in snakemake.params.device_facts.items()}
    cost_models = {d: read_yaml(p) for d, p in snakemake.params.cost_models.items()}
    efficiency = pd.read_csv(inp.efficiency)
    table = energy_table(predictions, cost_models, devices, efficiency,
                         snakemake.params.reference)
    log.info("\n%s", table.drop(columns=["note"]).to_string(index=False))
    write_csv(table, out.csv)
    atomic_write_text(out.md, energy_markdown(table))
    save_figure(plot_energy(table, batch=1), out.png, out.pdf)
