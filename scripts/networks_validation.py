"""Predicted vs measured whole networks on every device (rule networks_validation): APE of each
method per network and batch, MAPE per method, the target check, a figure, and each device's
cost model for the `cost` command (data/processed/networks/devices/<device_id>/cost_model.yaml).
Deterministic: it reads the per-network predictions and nothing is timed here."""

import pandas as pd
import yaml
from greenflops.io.outputs import atomic_write_text, log_to_file, save_figure, write_csv
from greenflops.io.tables import read_yaml
from greenflops.networks.plots import plot_pred_vs_measured
from greenflops.networks.tables import validation_markdown
from greenflops.networks.validation import COMBO_LONO, cost_model, validate_device

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive


with log_to_file(snakemake.log[0]) as log:
    inp, out = snakemake.input, snakemake.output
    predictions = pd.concat([pd.read_csv(p) for p in inp.predictions], ignore_index=True)
    devices = snakemake.params.devices
    tables, facts, params = {}, {}, {}
    frames = []
    for device_id, paths in devices.items():
        params[device_id] = read_yaml(paths["params"])
        table, fact = validate_device(predictions, device_id, params[device_id])
        tables[device_id], facts[device_id] = table, fact
        if not table.empty:
            frames.append(table.assign(device_id=device_id))
        costs = read_yaml(paths["op_costs"]) if paths["op_costs"] else None
        doc = cost_model(device_id, params[device_id], costs, fact)
        atomic_write_text(paths["cost_model"],
                          yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100))
        log.info("%s: %s", device_id, {k: v for k, v in fact.items() if k != "mape_pct_by_batch"})
    columns = ["device_id", "network", "input_shape", "batch", "gflops", "method",
               "predicted_ms", "measured_ms", "ape_pct"]
    long = (pd.concat(frames, ignore_index=True)[columns] if frames
            else pd.DataFrame(columns=columns))
    write_csv(long, out.csv)
    atomic_write_text(out.md, validation_markdown(tables, facts, params))
    models = {f.get("time_model") for f in facts.values()} - {None}
    fig = plot_pred_vs_measured(tables, ["flops", *sorted(models), COMBO_LONO])
    save_figure(fig, out.png, out.pdf)
