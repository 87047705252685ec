"""Measure one timing sweep into data/raw/timings/<device_id>/<sweep>.csv (+ <sweep>.meta.yaml).

Run by rule `sweep` as a shell command, `python scripts/sweep.py '<job JSON>'`, not with `script:`:
Snakemake reruns a `script:` job whenever the script file is newer than its outputs, which on a
fresh clone would re-measure committed raw data. Resumable (greenflops.timing.runner.run_sweep).
"""

import json
import sys

import torch

from greenflops.io.outputs import log_to_file
from greenflops.timing.grids import sweep_points
from greenflops.timing.runner import run_sweep, start_timing_job

job = json.loads(sys.argv[1])

with log_to_file(job["log"]) as log:
    run = job["run"]
    target = run["target"]
    device, settings = start_timing_job(job, log)
    sweep = job["sweep"]
    points = sweep_points(sweep, job["grid"], settings.dtype)
    log.info("sweep %s: %d points on %s (%s), %s", sweep, len(points), target["hardware"],
             device, settings)
    meta = run_sweep(
        points, job["csv"], job["meta"], device, settings,
        run_info={"device_id": job["dataset"], "profile": run["profile"],
                  "threads": torch.get_num_threads(), "torch_version": str(torch.__version__)},
        schema_path=job["schema"],
    )
    log.info("done: %d measured, %d skipped, wall %.1f s, overhead ratio %s, load %s -> %s",
             meta["measured"], meta["skipped_count"], meta["wall_s"], meta["overhead_ratio"],
             meta["loadavg_start"], meta["loadavg_end"])
