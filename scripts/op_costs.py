"""Per-kind op costs of one device (rule op_costs): the grouped-convolution cost fitted on its
depthwise_conv / grouped_conv sweeps and a cost per op kind fitted on its op sweeps, with their
k-fold errors and a check of the α stage's time models on the grouped rows, into
data/processed/networks/devices/<device_id>/op_costs.yaml (+ .md for the report)."""

import hashlib
from pathlib import Path

import pandas as pd
import yaml

from greenflops.alpha.features import split_grouped
from greenflops.io.outputs import atomic_write_text, log_to_file
from greenflops.io.plainyaml import read_yaml
from greenflops.io.tables import read_table
from greenflops.networks.costs import fit_op_costs, grouped_rows
from greenflops.networks.tables import grouped_check, op_costs_document, op_costs_markdown
from greenflops.timing.datasets import read_timings

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive


def provenance(path, rows):
    return {"path": str(path), "rows": int(rows),
            "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}


with log_to_file(snakemake.log[0]) as log:
    inp = snakemake.input
    files, frames = [], []
    for path in inp.op_sweeps:
        frame = read_table(path, inp.op_schema)
        files.append(provenance(path, len(frame)))
        frames.append(frame[["kind", "bytes_moved", "flops", "time_ms"]])
    timings = [read_timings(p, inp.timing_schema) for p in inp.grouped]
    for path, frame in zip(inp.grouped, timings):
        files.append(provenance(path, len(frame)))
    grouped = pd.concat(timings, ignore_index=True) if timings else pd.DataFrame()
    g_rows = grouped_rows(grouped) if len(grouped) else pd.DataFrame(
        columns=["kind", "bytes_moved", "flops", "time_ms"])
    rows = pd.concat([*frames, g_rows[["kind", "bytes_moved", "flops", "time_ms"]]],
                     ignore_index=True)
    costs = fit_op_costs(rows)
    notes = {}
    for kind in ("dwconv", "gconv"):
        if kind not in costs:
            notes[kind] = ("no grouped-convolution sweep rows of this kind: priced with the "
                           "default cost (no FLOPs term)")
    params = read_yaml(inp.params)
    grouped_only = split_grouped(grouped)[1] if len(grouped) else grouped
    check = grouped_check(grouped_only, g_rows, params, costs)
    log.info("costs:\n%s", pd.DataFrame({k: c.to_dict() for k, c in costs.items()}).T)
    log.info("grouped check:\n%s", check.to_string(index=False))
    doc = op_costs_document(snakemake.wildcards.device_id, costs, files, check, notes)
    atomic_write_text(snakemake.output.yaml,
                      yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100))
    atomic_write_text(snakemake.output.md, op_costs_markdown(doc))
