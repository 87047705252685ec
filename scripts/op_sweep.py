"""Measure one op sweep into data/raw/timings/<device_id>/ops/<sweep>.csv (+ <sweep>.meta.yaml):
batch norm, activations, pooling, add, cat, softmax, copies, built as torchvision calls them
(greenflops.networks.ops), each timed by the sweep harness and resumable like the layer sweeps
(greenflops.timing.runner.run_sweep with the op rows' contract).

Run by rule `op_sweep` as `python scripts/op_sweep.py '<job JSON>'` (see scripts/sweep.py for
why not `script:`).
"""

import json
import sys

import torch

from greenflops.io.outputs import log_to_file
from greenflops.networks.ops import OP_COLUMNS, OP_KEY, op_points, time_op_point
from greenflops.timing.runner import RowContract, run_sweep, start_timing_job


def describe(point):
    return f"{point['op']} {point['batch']}x{point['c']}x{point['hw']}x{point['hw']}"


job = json.loads(sys.argv[1])

with log_to_file(job["log"]) as log:
    run = job["run"]
    target = run["target"]
    device, settings = start_timing_job(job, log)
    points = op_points(job["sweep"], job["grid"], settings.dtype)
    log.info("op sweep %s: %d points on %s (%s), %s", job["sweep"], len(points),
             target["hardware"], device, settings)
    meta = run_sweep(
        points, job["csv"], job["meta"], device, settings,
        run_info={"device_id": job["dataset"], "profile": run["profile"],
                  "threads": torch.get_num_threads(), "torch_version": str(torch.__version__)},
        schema_path=job["schema"],
        contract=RowContract(OP_COLUMNS, OP_KEY, time_op_point, describe),
    )
    log.info("done: %d measured, %d skipped, wall %.1f s, load %s -> %s", meta["measured"],
             meta["skipped_count"], meta["wall_s"], meta["loadavg_start"], meta["loadavg_end"])
