"""Time whole networks on a device: data/raw/timings/<device_id>/networks/<network>.csv
(+ .meta.yaml), one forward pass per batch of the sweep profile's `networks.batches`, by the
sweep harness (greenflops.timing.harness.time_call) in the dataset's dtype, with NVML energy per
forward pass on NVIDIA GPUs (greenflops.networks.measure).

Run by rule `network_timing` as `python scripts/network_timing.py '<job JSON>'` (see
scripts/sweep.py for why not `script:`). Raw data: the networks stage only reads it.
"""

import dataclasses
import datetime as dt
import json
import os
import sys
import time

import torch
import yaml

from greenflops.io.outputs import atomic_write_text, log_to_file, write_csv
from greenflops.io.tables import load_schema, validate_records
from greenflops.networks.architectures import architecture, build, load_registry
from greenflops.networks.measure import network_rows, schema_records
from greenflops.timing.energy import nvml_handle
from greenflops.timing.harness import prepare_backends
from greenflops.timing.runner import settings_from_config, start_timing_job

job = json.loads(sys.argv[1])

with log_to_file(job["log"]) as log:
    run = job["run"]
    torch.set_grad_enabled(False)
    device, _ = start_timing_job(job, log)
    # The profile's `networks.timing` (timing_cuda on CUDA), with the dataset's other settings.
    settings = settings_from_config(
        {**run["settings"], "profiles": {run["profile"]: job["timing"]}}, run["profile"], device)
    backend = prepare_backends(device, settings)
    handle = nvml_handle(device) if settings.energy else None
    registry = load_registry(job["registry"])
    arch = architecture(job["network"], registry)
    side = arch.side
    shapes = [(int(b), 3, side, side) for b in job["batches"]]
    log.info("%s: %s on %s (%s), %s", arch.id, shapes, run["target"]["hardware"], device,
             settings)
    module = build(arch.id, side=side, registry=registry)
    load_start = [round(v, 2) for v in os.getloadavg()]
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    frame = network_rows(arch.id, module, shapes, device, settings, handle)
    wall = time.perf_counter() - t0
    log.info("\n%s", frame.to_string(index=False))
    validate_records(schema_records(frame), load_schema(job["schema"]), job["csv"])
    meta = {
        "device_id": job["dataset"], "profile": run["profile"], "network": arch.id,
        "torchvision_name": arch.torchvision, "threads": torch.get_num_threads(),
        "torch_version": str(torch.__version__),
        "settings": dataclasses.asdict(settings), "backend": backend,
        "energy": bool(frame["energy_j"].notna().any()),
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_s": round(wall, 3), "loadavg_start": load_start,
        "loadavg_end": [round(v, 2) for v in os.getloadavg()],
    }
    write_csv(frame, job["csv"])
    atomic_write_text(job["meta"], yaml.safe_dump(meta, sort_keys=False))
    log.info("done: %s, %d batches, wall %.1f s, load %s -> %s", arch.id, len(frame), wall,
             meta["loadavg_start"], meta["loadavg_end"])
