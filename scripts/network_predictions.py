"""One network's time predicted op by op on every device (rule network_predictions): every time
model of each device's α fit, and the combination with its op costs, beside the device's
measured time where it has one. Writes data/processed/networks/by_network/<network>/
predictions.csv and per_op.csv (every op with its share of the predicted time). No torch: the
op tables are read from data/raw/networks/<network>/."""

from pathlib import Path

from greenflops.io.outputs import log_to_file, write_csv
from greenflops.io.tables import read_table, read_yaml
from greenflops.networks.costs import LinearCost
from greenflops.networks.validation import prediction_rows

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive


with log_to_file(snakemake.log[0]) as log:
    inp = snakemake.input
    network = snakemake.wildcards.network
    op_tables = {Path(p).stem: read_table(p, inp.ops_schema) for p in inp.ops}
    devices = {}
    for device_id, paths in snakemake.params.devices.items():
        costs = None
        if paths["op_costs"]:
            doc = read_yaml(paths["op_costs"])
            costs = {k: LinearCost.from_dict(v) for k, v in doc["costs"].items()}
        measured = (read_table(paths["measured"], inp.timing_schema)
                    if paths["measured"] else None)
        if measured is not None and (measured["network"] != network).any():
            raise ValueError(f"{paths['measured']}: rows of another network than {network}")
        devices[device_id] = {"params": read_yaml(paths["params"]), "op_costs": costs,
                              "measured": measured}
    predictions, per_op = prediction_rows(network, op_tables, devices)
    log.info("\n%s", predictions[predictions["model"] == "combo"].to_string(index=False))
    write_csv(predictions, snakemake.output.predictions)
    write_csv(per_op, snakemake.output.per_op)
