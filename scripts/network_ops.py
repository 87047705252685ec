"""Capture a network's op table: data/raw/networks/<network>/<input_shape>.csv (+ .meta.yaml),
every ATen call of one forward pass on the CPU with its FLOPs and bytes
(greenflops.networks.graph), checked against torch.utils.flop_counter's complete count.

Run by rule `network_ops` as `python scripts/network_ops.py '<job JSON>'`, not with `script:`,
for the reason the sweeps give (scripts/sweep.py): an op table is committed so that the default
run never imports torch, and a fresh clone must not capture it again. Delete a table to capture
it anew (tests/test_networks_workflow.py checks the committed ones against a fresh capture).
"""

import datetime as dt
import json
import sys

import torch
import yaml

from greenflops.io.outputs import atomic_write_text, log_to_file, write_csv
from greenflops.io.tables import load_schema, validate_records
from greenflops.networks.architectures import architecture, build, load_registry, parse_shape
from greenflops.networks.measure import capture_op_table, schema_records

job = json.loads(sys.argv[1])

with log_to_file(job["log"]) as log:
    torch.set_num_threads(1)
    registry = load_registry(job["registry"])
    arch = architecture(job["network"], registry)
    shape = parse_shape(job["shape"])
    log.info("capturing %s (torchvision %s) on %s", arch.id, arch.torchvision, shape)
    module = build(arch.id, side=shape[-1], registry=registry)
    table, facts = capture_op_table(module, shape)
    if facts["flops"] != facts["flop_counter_complete"]:
        raise SystemExit(f"{arch.id} {job['shape']}: our FLOPs {facts['flops']} differ from "
                         f"torch.utils.flop_counter's complete count "
                         f"{facts['flop_counter_complete']}")
    validate_records(schema_records(table), load_schema(job["schema"]), job["csv"])
    meta = {"network": arch.id, "torchvision_name": arch.torchvision, **facts,
            "captured_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    write_csv(table, job["csv"])
    atomic_write_text(job["meta"], yaml.safe_dump(meta, sort_keys=False))
    log.info("%d ops, %.4g GFLOPs (flop_counter: %.4g complete, %.4g by default)",
             facts["ops"], facts["flops"] / 1e9, facts["flop_counter_complete"] / 1e9,
             facts["flop_counter_default"] / 1e9)
