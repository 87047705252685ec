"""Measure whole networks into data/raw/timings/<device_id>/networks/whole_networks.csv
(+ whole_networks.meta.yaml): one forward pass of each network defined in code
(greenflops.alpha.networks.NETWORKS) at each input size, timed by the sweep harness
(greenflops.timing.harness.time_call) on the device the sweeps target.

Run by rule `whole_networks` as `python scripts/whole_networks.py '<job JSON>'` (see
scripts/sweep.py for why not `script:`). Raw data: the analysis (rule alpha_model_validation)
only reads it.
"""

import dataclasses
import datetime as dt
import json
import os
import sys
import time

import torch
import yaml

from greenflops.alpha.networks import measure_networks, network_points
from greenflops.io.outputs import atomic_write_text, log_to_file, write_csv
from greenflops.io.tables import load_schema, validate_records
from greenflops.timing.harness import prepare_backends
from greenflops.timing.runner import start_timing_job

job = json.loads(sys.argv[1])

with log_to_file(job["log"]) as log:
    run = job["run"]
    target = run["target"]
    torch.set_grad_enabled(False)
    device, settings = start_timing_job(job, log)
    if device.type != "cpu":  # the rule is only planned for CPU targets; refuse anyway
        raise SystemExit(f"whole-network timing supports CPU devices only, not {device}")
    # A forward pass of a network is slower than one layer: time each for at least
    # min_run_time_s (config alpha.model_validation), else as the profile says.
    floor = float(job["min_run_time_s"])
    settings = dataclasses.replace(
        settings, energy=False, min_run_time=max(settings.min_run_time, floor),
        max_run_time=max(settings.max_run_time, 4 * floor))
    backend = prepare_backends(device, settings)
    points = network_points(job["networks"], job["inputs"])
    log.info("whole networks: %d points on %s (%s), %s", len(points), target["hardware"],
             device, settings)
    load_start = [round(v, 2) for v in os.getloadavg()]
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    frame = measure_networks(points, device, settings)
    wall = time.perf_counter() - t0
    log.info("\n%s", frame.to_string(index=False))
    records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
               for r in frame.to_dict("records")]
    validate_records(records, load_schema(job["schema"]), job["csv"])
    meta = {
        "device_id": job["dataset"], "profile": run["profile"],
        "threads": torch.get_num_threads(), "torch_version": str(torch.__version__),
        "networks": list(job["networks"]), "inputs": list(job["inputs"]),
        "settings": dataclasses.asdict(settings), "backend": backend,
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_s": round(wall, 3), "loadavg_start": load_start,
        "loadavg_end": [round(v, 2) for v in os.getloadavg()],
    }
    write_csv(frame, job["csv"])
    atomic_write_text(job["meta"], yaml.safe_dump(meta, sort_keys=False))
    log.info("done: %d networks timed, wall %.1f s, load %s -> %s", len(frame), wall,
             meta["loadavg_start"], meta["loadavg_end"])
