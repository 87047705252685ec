"""Write data/raw/timings/<device_id>/device.yaml: hardware and software facts of the device,
with its measured matmul peak (peak_gflops) and copy bandwidth (mem_bandwidth_gbs).

Run by rule `device_facts` as `python scripts/device_facts.py '<job JSON>'` (see scripts/sweep.py
for why not `script:`).
"""

import json
import sys

import torch
import yaml

from greenflops.io.outputs import atomic_write_text, log_to_file
from greenflops.timing.device import check_device, resolve_device
from greenflops.timing.facts import device_facts
from greenflops.timing.runner import settings_from_config

job = json.loads(sys.argv[1])

with log_to_file(job["log"]) as log:
    run = job["run"]
    target = run["target"]
    torch.set_num_threads(target["threads"])
    device = resolve_device(target["device"])
    check_device(device, target["threads"], target["hardware"])
    settings = settings_from_config(run["settings"], run["profile"], device)
    facts = device_facts(device, target["threads"], settings, job["dataset"], run["profile"])
    log.info("device facts: %s", facts)
    atomic_write_text(job["output"], yaml.safe_dump(facts, sort_keys=False))
