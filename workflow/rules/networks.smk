# Stage "networks" (beyond both papers; docs/networks.md): the networks people use, from
# torchvision (config networks.architectures, weights=None), op by op. Their op tables are raw
# data captured once (rule network_ops) and committed, so that no job of the default run imports
# torch; every device of the alpha stage gets each network's time predicted from its ops under
# every time model (one job per network: adding a network reruns only its jobs and the tables
# over all networks), its op costs where it has op sweeps, and predicted vs measured where it
# has network timings (measured by rules op_sweep and network_timing in sweeps.smk). The FLOPs
# table checks our counts against the trends paper's Table 2; the energy table puts the two
# papers' estimates side by side.
import re

from glue.network_targets import (
    DEVICES_ROOT,
    OUTPUTS,
    device_paths,
    network_devices,
    network_targets,
    op_costs_path,
    op_shapes,
    op_table,
    prediction_inputs,
)

NETWORKS = config["networks"]["architectures"]
NETWORK_REGISTRY = INPUTS.resources["networks"]
NETWORK_DEVICES = network_devices(ALPHA_DEVICES, ALPHA_FOLDERS, NETWORKS)
# What this run measures on a device of the alpha stage is an input already.
if SWEEP_DATASET in NETWORK_DEVICES:
    _dev = NETWORK_DEVICES[SWEEP_DATASET]
    _dev["op_sweeps"] = sorted(set(_dev["op_sweeps"]) | set(OP_SWEEP_OUTPUTS))
    _dev["grouped"] = sorted(
        set(_dev["grouped"])
        | {s for s in SWEEP_GRIDS if s in ("depthwise_conv", "grouped_conv")}
    )
    _dev["measured"] = sorted(
        set(_dev["measured"]) | ({*NETWORKS} if NETWORK_TIMING_OUTPUTS else set())
    )
NETWORK_RE = "|".join(map(re.escape, NETWORKS)) or "(?!x)x"
NET_DEVICE_RE = "|".join(re.escape(d) for d in NETWORK_DEVICES) or "(?!x)x"


# Raw data like the sweeps (see sweeps.smk): `shell:`, no code inputs, so that a fresh clone or
# a library change never captures the committed op tables again. Runs only for a missing table.
rule network_ops:
    output:
        csv="data/raw/networks/{network}/{shape}.csv",
        meta="data/raw/networks/{network}/{shape}.meta.yaml",
    log:
        "logs/networks/network_ops_{network}_{shape}.log",
    benchmark:
        "logs/benchmarks/network_ops_{network}_{shape}.tsv"
    wildcard_constraints:
        network=NETWORK_RE,
        shape=r"[1-9][0-9]*x3x[1-9][0-9]*x[1-9][0-9]*",
    conda:
        "../../environment.yml"
    params:
        python=PYTHON,
        job=lambda wildcards, output: json.dumps(
            {
                "network": wildcards.network,
                "shape": wildcards.shape,
                "registry": "workflow/resources/networks.yaml",
                "csv": output.csv,
                "meta": output.meta,
                "log": f"logs/networks/network_ops_{wildcards.network}_{wildcards.shape}.log",
                "schema": "workflow/schemas/network_ops.schema.yaml",
            }
        ),
    message:
        "Op table of {wildcards.network} on {wildcards.shape} (capture, CPU)"
    shell:
        "PYTHONPATH=scripts {params.python} scripts/network_ops.py {params.job:q}"


rule op_costs:
    input:
        op_sweeps=lambda wc: NETWORK_DEVICES[wc.device_id]["op_sweeps"],
        grouped=lambda wc: [
            f"{NETWORK_DEVICES[wc.device_id]['folder']}/{s}.csv"
            for s in NETWORK_DEVICES[wc.device_id]["grouped"]
        ],
        params="data/processed/alpha/{device_id}/params.yaml",
        op_schema=schema_path("op_timings"),
        timing_schema=schema_path("timings"),
        library=code("op_costs"),
    output:
        yaml=f"{DEVICES_ROOT}/{{device_id}}/op_costs.yaml",
        # shown in the report as figures/report/networks/{device_id}/op_costs.html (report.smk)
        md=f"{DEVICES_ROOT}/{{device_id}}/op_costs.md",
    log:
        "logs/networks/op_costs_{device_id}.log",
    benchmark:
        "logs/benchmarks/op_costs_{device_id}.tsv"
    wildcard_constraints:
        device_id=NET_DEVICE_RE,
    conda:
        "../../environment.yml"
    message:
        "Networks: op costs (grouped convolutions, activations, norms, pooling, ...) of {wildcards.device_id}"
    script:
        "../../scripts/op_costs.py"


rule network_predictions:
    input:
        unpack(
            lambda wc: prediction_inputs(NETWORK_DEVICES, NETWORK_REGISTRY, wc.network)
        ),
        ops_schema=schema_path("network_ops"),
        timing_schema=schema_path("network_timings"),
        library=code("network_predictions"),
    output:
        predictions="data/processed/networks/by_network/{network}/predictions.csv",
        per_op="data/processed/networks/by_network/{network}/per_op.csv",
    log:
        "logs/networks/network_predictions_{network}.log",
    wildcard_constraints:
        network=NETWORK_RE,
    conda:
        "../../environment.yml"
    params:
        devices=lambda wc: device_paths(NETWORK_DEVICES, wc.network),
    message:
        "Networks: {wildcards.network} predicted op by op on every device"
    script:
        "../../scripts/network_predictions.py"


rule networks_validation:
    input:
        predictions=expand(
            rules.network_predictions.output.predictions, network=NETWORKS
        ),
        params=[f"data/processed/alpha/{d}/params.yaml" for d in NETWORK_DEVICES],
        op_costs=[
            op_costs_path(NETWORK_DEVICES, d)
            for d in NETWORK_DEVICES
            if op_costs_path(NETWORK_DEVICES, d)
        ],
        library=code("networks_validation"),
    output:
        csv=OUTPUTS["validation_csv"],
        # shown in the report as figures/report/networks/pred_vs_measured.html (report.smk)
        md=OUTPUTS["validation_md"],
        png=report(
            OUTPUTS["validation_png"],
            caption="../report/networks/pred_vs_measured.rst",
            category=NETWORKS_CATEGORY,
            subcategory="Beyond the paper: predicted vs measured",
            labels={"figure": "predicted vs measured", "data": "all devices"},
        ),
        pdf=OUTPUTS["validation_pdf"],
        cost_models=[f"{DEVICES_ROOT}/{d}/cost_model.yaml" for d in NETWORK_DEVICES],
    log:
        "logs/networks/networks_validation.log",
    benchmark:
        "logs/benchmarks/networks_validation.tsv"
    conda:
        "../../environment.yml"
    params:
        devices={
            d: {
                "params": f"data/processed/alpha/{d}/params.yaml",
                "op_costs": op_costs_path(NETWORK_DEVICES, d),
                "cost_model": f"{DEVICES_ROOT}/{d}/cost_model.yaml",
            }
            for d in NETWORK_DEVICES
        },
    message:
        "Networks: predicted vs measured on every device, and each device's cost model"
    script:
        "../../scripts/networks_validation.py"


rule networks_flops:
    input:
        metas=[
            op_table(n, s).removesuffix(".csv") + ".meta.yaml"
            for n in NETWORKS
            for s in op_shapes(NETWORK_REGISTRY, n)
        ],
        cv_models=table_path("cv_models"),
        cv_schema=schema_path("cv_models"),
        library=code("networks_flops"),
    output:
        csv=OUTPUTS["flops_csv"],
        # shown in the report as figures/report/networks/flops_comparison.html (report.smk)
        md=OUTPUTS["flops_md"],
    log:
        "logs/networks/networks_flops.log",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        networks=NETWORKS,
        registry=NETWORK_REGISTRY,
    message:
        "Networks: FLOPs vs torch.utils.flop_counter and the trends paper's Table 2"
    script:
        "../../scripts/networks_flops.py"


rule networks_energy:
    input:
        predictions=expand(
            rules.network_predictions.output.predictions, network=NETWORKS
        ),
        cost_models=rules.networks_validation.output.cost_models,
        devices=[f"{info['folder']}/device.yaml" for info in NETWORK_DEVICES.values()],
        efficiency=rules.gpu_efficiency.output.efficiency,
        library=code("networks_energy"),
    output:
        csv=OUTPUTS["energy_csv"],
        # shown in the report as figures/report/networks/energy.html (report.smk)
        md=OUTPUTS["energy_md"],
        png=report(
            OUTPUTS["energy_png"],
            caption="../report/networks/energy.rst",
            category=NETWORKS_CATEGORY,
            subcategory="Beyond the paper: energy side by side",
            labels={
                "figure": "energy per forward pass",
                "data": "all devices, Table 9",
            },
        ),
        pdf=OUTPUTS["energy_pdf"],
    log:
        "logs/networks/networks_energy.log",
    conda:
        "../../environment.yml"
    params:
        device_facts={
            d: f"{info['folder']}/device.yaml" for d, info in NETWORK_DEVICES.items()
        },
        cost_models={d: f"{DEVICES_ROOT}/{d}/cost_model.yaml" for d in NETWORK_DEVICES},
        reference=NETWORK_REGISTRY["energy"]["gpus"],
    message:
        "Networks: energy per forward pass, the two papers' methods side by side"
    script:
        "../../scripts/networks_energy.py"


TARGETS["networks"] = network_targets(NETWORKS, NETWORK_DEVICES)
