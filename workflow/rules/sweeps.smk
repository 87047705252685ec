# Stage "sweeps": time conv and dense layers on the device at hand, one sweep per experiment of
# Asperti et al. (2021), into data/raw/timings/<device_id>/<sweep>.csv plus device.yaml (the data
# contract: workflow/schemas/timings.schema.yaml, device.schema.yaml). Timings are committed raw
# data: with sweep_profile none (the default) nothing is measured and the committed datasets are
# only validated; `--config sweep_profile=quick|paper` measures the device this workflow loads on.
# Sweep jobs take the one `timing_slot` (limit 1 in the default profile): never two at once.
# No code inputs on purpose: changing the library must not re-measure committed raw data; delete a
# CSV (or use --forcerun sweep) to remeasure it. For the same reason the timing rules use `shell:`
# rather than `script:` (Snakemake reruns a `script:` job whose script file is newer than its
# outputs, which on a fresh clone would re-measure the committed timings).
import json
import re
from dataclasses import asdict

TIMINGS_ROOT = "data/raw/timings"
SWEEP_PROFILE = config["sweep_profile"]
# The specification's profiles (workflow/resources/sweeps.yaml) plus the config's own.
SWEEP_PROFILES = INPUTS.sweep_profiles

# Every dataset under data/raw/timings/ (folders with a device.yaml), and the device this run
# measures, validated when the workflow loaded (common.smk).
TIMING_DATASETS = INPUTS.datasets
SWEEP_TARGET = INPUTS.sweep_target

if SWEEP_TARGET:
    SWEEP_GRIDS = SWEEP_PROFILES[SWEEP_PROFILE]["grids"]
    SWEEP_DATASET = SWEEP_TARGET.dataset
    # What a sweep job needs (not the other profiles, nor this profile's grids, op grids and
    # network settings, so editing them does not touch its params).
    _profile = SWEEP_PROFILES[SWEEP_PROFILE]
    SWEEP_PARAMS = {
        "target": asdict(SWEEP_TARGET),
        "profile": SWEEP_PROFILE,
        "settings": {k: v for k, v in config["sweeps"].items() if k != "profiles"}
        | {
            "profiles": {
                SWEEP_PROFILE: {
                    k: v for k, v in _profile.items() if k in ("timing", "timing_cuda")
                }
            }
        },
    }
    OP_GRIDS = _profile.get("op_grids", {})
    NETWORK_TIMING = _profile.get("networks")
else:
    SWEEP_TARGET, SWEEP_GRIDS, SWEEP_DATASET, SWEEP_PARAMS = None, {}, None, {}
    OP_GRIDS, NETWORK_TIMING = {}, None


# Timing files this run measures (none unless sweep_profile is set), and per dataset its
# device.yaml and sweep CSVs: the committed ones plus those this run measures.
SWEEP_OUTPUTS = (
    [f"{TIMINGS_ROOT}/{SWEEP_DATASET}/device.yaml"]
    + [f"{TIMINGS_ROOT}/{SWEEP_DATASET}/{name}.csv" for name in SWEEP_GRIDS]
    if SWEEP_DATASET
    else []
)
TIMING_FILES = {
    dataset: [entry["device"], *entry["sweeps"].values()]
    for dataset, entry in TIMING_DATASETS.items()
}
if SWEEP_DATASET:
    TIMING_FILES[SWEEP_DATASET] = sorted(
        set(TIMING_FILES.get(SWEEP_DATASET, [])) | set(SWEEP_OUTPUTS)
    )


# Only the dataset of this run can be produced; with sweep_profile none no path matches.
_SWEEP_DATASET_RE = re.escape(SWEEP_DATASET) if SWEEP_DATASET else "(?!)"
_SWEEP_NAME_RE = "|".join(map(re.escape, SWEEP_GRIDS)) if SWEEP_GRIDS else "(?!)"


rule device_facts:
    output:
        "data/raw/timings/{dataset}/device.yaml",
    log:
        "logs/sweeps/device_facts_{dataset}.log",
    benchmark:
        "logs/benchmarks/device_facts_{dataset}.tsv"
    wildcard_constraints:
        dataset=_SWEEP_DATASET_RE,
    conda:
        "../../environment.yml"
    threads: SWEEP_TARGET.threads if SWEEP_TARGET else 1
    resources:
        timing_slot=1,
    params:
        python=PYTHON,
        job=lambda wildcards, output, threads: json.dumps(
            {
                "run": SWEEP_PARAMS,
                "dataset": wildcards.dataset,
                "output": output[0],
                "log": f"logs/sweeps/device_facts_{wildcards.dataset}.log",
                "threads": threads,
            }
        ),
    message:
        "Device facts, matmul peak and copy bandwidth of {wildcards.dataset}"
    shell:
        "PYTHONPATH=scripts {params.python} scripts/device_facts.py {params.job:q}"


rule sweep:
    output:
        csv="data/raw/timings/{dataset}/{sweep}.csv",
        meta="data/raw/timings/{dataset}/{sweep}.meta.yaml",
    log:
        "logs/sweeps/sweep_{dataset}_{sweep}.log",
    benchmark:
        "logs/benchmarks/sweep_{dataset}_{sweep}.tsv"
    wildcard_constraints:
        dataset=_SWEEP_DATASET_RE,
        sweep=_SWEEP_NAME_RE,
    conda:
        "../../environment.yml"
    threads: SWEEP_TARGET.threads if SWEEP_TARGET else 1
    resources:
        timing_slot=1,
    params:
        python=PYTHON,
        profile=SWEEP_PROFILE,
        job=lambda wildcards, output, threads: json.dumps(
            {
                "run": SWEEP_PARAMS,
                "dataset": wildcards.dataset,
                "sweep": wildcards.sweep,
                "grid": SWEEP_GRIDS[wildcards.sweep],
                "csv": output.csv,
                "meta": output.meta,
                "log": f"logs/sweeps/sweep_{wildcards.dataset}_{wildcards.sweep}.log",
                "threads": threads,
                "schema": "workflow/schemas/timings.schema.yaml",
            }
        ),
    message:
        "Timing sweep {wildcards.sweep} on {wildcards.dataset} (profile {params.profile})"
    shell:
        "PYTHONPATH=scripts {params.python} scripts/sweep.py {params.job:q}"


# Whole-network timings (raw data for rule alpha_model_validation): the networks of config
# alpha.model_validation, timed by the same harness and identity check as the sweeps, into a
# subfolder networks/ so that the <device_id>/*.csv globs of the timing datasets never see it.
# CPU targets only for now: on a GPU the dataset's dtype/TF32/channels-last options and NVML
# energy would have to be applied to whole modules, which is not implemented nor tested (no GPU
# in CI); GPU devices get no whole-network check.
NETWORK_JOB = {
    key: config["alpha"]["model_validation"][key]
    for key in ("networks", "inputs", "min_run_time_s")
}
NETWORK_OUTPUTS = (
    [f"{TIMINGS_ROOT}/{SWEEP_DATASET}/networks/whole_networks.csv"]
    if SWEEP_TARGET and SWEEP_TARGET.device_type == "cpu"
    else []
)


rule whole_networks:
    output:
        csv="data/raw/timings/{dataset}/networks/whole_networks.csv",
        meta="data/raw/timings/{dataset}/networks/whole_networks.meta.yaml",
    log:
        "logs/sweeps/whole_networks_{dataset}.log",
    benchmark:
        "logs/benchmarks/whole_networks_{dataset}.tsv"
    wildcard_constraints:
        dataset=_SWEEP_DATASET_RE if NETWORK_OUTPUTS else "(?!)",
    conda:
        "../../environment.yml"
    threads: SWEEP_TARGET.threads if SWEEP_TARGET else 1
    resources:
        timing_slot=1,
    params:
        python=PYTHON,
        profile=SWEEP_PROFILE,
        job=lambda wildcards, output, threads: json.dumps(
            {
                "run": SWEEP_PARAMS,
                "dataset": wildcards.dataset,
                **NETWORK_JOB,
                "csv": output.csv,
                "meta": output.meta,
                "log": f"logs/sweeps/whole_networks_{wildcards.dataset}.log",
                "threads": threads,
                "schema": "workflow/schemas/whole_networks.schema.yaml",
            }
        ),
    message:
        "Whole-network timings on {wildcards.dataset} (profile {params.profile})"
    shell:
        "PYTHONPATH=scripts {params.python} scripts/whole_networks.py {params.job:q}"


rule timings_inventory:
    input:
        csvs=[f for files in TIMING_FILES.values() for f in files if f.endswith(".csv")],
        devices=[
            f for files in TIMING_FILES.values() for f in files if f.endswith(".yaml")
        ],
        schemas=[schema_path("timings"), schema_path("device")],
        library=code("timings_inventory"),
    output:
        "data/processed/timings_inventory.csv",
    log:
        "logs/sweeps/timings_inventory.log",
    localrule: True
    conda:
        "../../environment.yml"
    message:
        "Inventory of the validated timing datasets"
    script:
        "../../scripts/timings_inventory.py"


# Beyond the paper (docs/networks.md): op sweeps (activations, normalisation, pooling, ...) into
# data/raw/timings/<device_id>/ops/<sweep>.csv, and whole torchvision networks (config
# networks.architectures, at the profile's `networks.batches`) into .../networks/<network>.csv:
# the same harness, device check and timing slot as the sweeps; CPU and GPU (the dataset's
# dtype; NVML energy per forward pass on NVIDIA GPUs).
NETWORK_NAMES = config["networks"]["architectures"]
OP_SWEEP_OUTPUTS = (
    [f"{TIMINGS_ROOT}/{SWEEP_DATASET}/ops/{name}.csv" for name in OP_GRIDS]
    if SWEEP_DATASET
    else []
)
NETWORK_TIMING_OUTPUTS = (
    [f"{TIMINGS_ROOT}/{SWEEP_DATASET}/networks/{net}.csv" for net in NETWORK_NAMES]
    if SWEEP_DATASET and NETWORK_TIMING
    else []
)
_OP_SWEEP_RE = "|".join(map(re.escape, OP_GRIDS)) if OP_GRIDS else "(?!)"
_NETWORK_RE = "|".join(map(re.escape, NETWORK_NAMES)) if NETWORK_TIMING else "(?!)"


rule op_sweep:
    output:
        csv="data/raw/timings/{dataset}/ops/{sweep}.csv",
        meta="data/raw/timings/{dataset}/ops/{sweep}.meta.yaml",
    log:
        "logs/sweeps/op_sweep_{dataset}_{sweep}.log",
    benchmark:
        "logs/benchmarks/op_sweep_{dataset}_{sweep}.tsv"
    wildcard_constraints:
        dataset=_SWEEP_DATASET_RE,
        sweep=_OP_SWEEP_RE,
    conda:
        "../../environment.yml"
    threads: SWEEP_TARGET.threads if SWEEP_TARGET else 1
    resources:
        timing_slot=1,
    params:
        python=PYTHON,
        profile=SWEEP_PROFILE,
        job=lambda wildcards, output, threads: json.dumps(
            {
                "run": SWEEP_PARAMS,
                "dataset": wildcards.dataset,
                "sweep": wildcards.sweep,
                "grid": OP_GRIDS[wildcards.sweep],
                "csv": output.csv,
                "meta": output.meta,
                "log": f"logs/sweeps/op_sweep_{wildcards.dataset}_{wildcards.sweep}.log",
                "threads": threads,
                "schema": "workflow/schemas/op_timings.schema.yaml",
            }
        ),
    message:
        "Op sweep {wildcards.sweep} on {wildcards.dataset} (profile {params.profile})"
    shell:
        "PYTHONPATH=scripts {params.python} scripts/op_sweep.py {params.job:q}"


rule network_timing:
    output:
        csv="data/raw/timings/{dataset}/networks/{network}.csv",
        meta="data/raw/timings/{dataset}/networks/{network}.meta.yaml",
    log:
        "logs/sweeps/network_timing_{dataset}_{network}.log",
    benchmark:
        "logs/benchmarks/network_timing_{dataset}_{network}.tsv"
    wildcard_constraints:
        dataset=_SWEEP_DATASET_RE,
        network=_NETWORK_RE,
    conda:
        "../../environment.yml"
    threads: SWEEP_TARGET.threads if SWEEP_TARGET else 1
    resources:
        timing_slot=1,
    params:
        python=PYTHON,
        profile=SWEEP_PROFILE,
        job=lambda wildcards, output, threads: json.dumps(
            {
                "run": SWEEP_PARAMS,
                "dataset": wildcards.dataset,
                "network": wildcards.network,
                "batches": NETWORK_TIMING["batches"],
                "timing": {k: v for k, v in NETWORK_TIMING.items() if k != "batches"},
                "registry": "workflow/resources/networks.yaml",
                "csv": output.csv,
                "meta": output.meta,
                "log": f"logs/sweeps/network_timing_{wildcards.dataset}_{wildcards.network}.log",
                "threads": threads,
                "schema": "workflow/schemas/network_timings.schema.yaml",
            }
        ),
    message:
        "Whole network {wildcards.network} on {wildcards.dataset} (profile {params.profile})"
    shell:
        "PYTHONPATH=scripts {params.python} scripts/network_timing.py {params.job:q}"


TARGETS["sweeps"] = [
    *SWEEP_OUTPUTS,
    *NETWORK_OUTPUTS,
    *OP_SWEEP_OUTPUTS,
    *NETWORK_TIMING_OUTPUTS,
    *rules.timings_inventory.output,
]
