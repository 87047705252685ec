"""What the networks stage's rules build (used by ``workflow/rules/networks.smk`` and the
measuring rules of ``sweeps.smk``). Paths only: nothing here imports torch.

Raw data (committed):

* op tables ``data/raw/networks/<network>/<B>x3x<side>x<side>.csv`` (+ ``.meta.yaml``), one per
  input shape: the registry's batches at the network's side, and batch 1 at the side of its
  Table 2 row when that differs (:func:`op_shapes`);
* per device ``data/raw/timings/<device_id>/networks/<network>.csv`` (whole networks timed) and
  ``data/raw/timings/<device_id>/ops/<sweep>.csv`` (op sweeps), beside the device's sweeps.

Derived: ``data/processed/networks/`` and ``figures/networks/`` (:data:`OUTPUTS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "DEVICES_ROOT",
    "OUTPUTS",
    "device_op_sweeps",
    "device_paths",
    "measured_network",
    "network_devices",
    "network_targets",
    "op_costs_path",
    "op_shapes",
    "op_table",
    "paper_shape",
    "prediction_inputs",
    "side_of",
]

#: Per-device derived outputs (op costs, cost model), one folder per device.
DEVICES_ROOT = "data/processed/networks/devices"
#: The stage's tables and figures (one each, over every network and device).
OUTPUTS = {
    "flops_csv": "figures/networks/flops_comparison.csv",
    "flops_md": "figures/networks/flops_comparison.md",
    "validation_csv": "figures/networks/pred_vs_measured.csv",
    "validation_md": "figures/networks/pred_vs_measured.md",
    "validation_png": "figures/networks/pred_vs_measured.png",
    "validation_pdf": "figures/networks/pred_vs_measured.pdf",
    "energy_csv": "figures/networks/energy.csv",
    "energy_md": "figures/networks/energy.md",
    "energy_png": "figures/networks/energy.png",
    "energy_pdf": "figures/networks/energy.pdf",
}


def _entry(registry: Mapping[str, Any], network: str) -> Mapping[str, Any]:
    return (registry.get("architectures") or {}).get(network) or {}


def side_of(registry: Mapping[str, Any], network: str) -> int:
    """The input side a network is built, measured and predicted at (224 if unlisted)."""
    return int(_entry(registry, network).get("side", 224))


def paper_shape(registry: Mapping[str, Any], network: str) -> str | None:
    """Input shape of the network's Table 2 row (batch 1 at the paper's side), or None."""
    paper = _entry(registry, network).get("paper")
    if not paper:
        return None
    side = int(paper["side"])
    return f"1x3x{side}x{side}"


def op_shapes(registry: Mapping[str, Any], network: str) -> list[str]:
    """Every input shape whose op table the stage needs for ``network``: the registry's batches
    at its side, then the paper's shape if it is another one."""
    side = side_of(registry, network)
    shapes = [f"{int(b)}x3x{side}x{side}" for b in registry["batches"]]
    paper = paper_shape(registry, network)
    if paper and paper not in shapes:
        shapes.append(paper)
    return shapes


def op_table(network: str, shape: str) -> str:
    """Path of the op table of ``network`` on an input of ``shape``."""
    return f"data/raw/networks/{network}/{shape}.csv"


def measured_network(folder: str | Path, network: str) -> str:
    """Path of a device's whole-network timings of ``network`` (whether it exists or not);
    ``folder`` is the device's timing folder."""
    return f"{folder}/networks/{network}.csv"


def device_op_sweeps(folder: str | Path) -> list[str]:
    """A device's op sweeps (``ops/<sweep>.csv`` of its timing folder), sorted; [] when none."""
    ops = Path(folder) / "ops"
    return sorted(str(p) for p in ops.glob("*.csv")) if ops.is_dir() else []


def network_devices(devices: Mapping[str, Mapping[str, Any]], folders: Mapping[str, str],
                    networks: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per device of the α stage: its timing ``folder`` (``folders``: data/raw/timings/<id> or
    data/imported/<id>), ``op_sweeps`` (its op-sweep files), ``grouped`` (its depthwise/grouped
    sweeps) and ``measured`` (the networks it has timings of)."""
    out: dict[str, dict[str, Any]] = {}
    for device_id, info in devices.items():
        folder = folders[device_id]
        out[device_id] = {
            "folder": folder,
            "op_sweeps": device_op_sweeps(folder),
            "grouped": [s for s in info["sweeps"] if s in ("depthwise_conv", "grouped_conv")],
            "measured": [n for n in networks if Path(measured_network(folder, n)).is_file()],
        }
    return out


def op_costs_path(devices: Mapping[str, Mapping[str, Any]], device_id: str) -> str | None:
    """The device's op costs (rule op_costs), or None when it has no op sweep."""
    if not devices[device_id]["op_sweeps"]:
        return None
    return f"{DEVICES_ROOT}/{device_id}/op_costs.yaml"


def device_paths(devices: Mapping[str, Mapping[str, Any]],
                 network: str) -> dict[str, dict[str, str | None]]:
    """Per device: its ``params`` (params.yaml), ``op_costs`` and ``measured`` timings of
    ``network`` (None where it has none): what a network's predictions read."""
    return {
        d: {"params": f"data/processed/alpha/{d}/params.yaml",
            "op_costs": op_costs_path(devices, d),
            "measured": (measured_network(info["folder"], network)
                         if network in info["measured"] else None)}
        for d, info in devices.items()
    }


def prediction_inputs(devices: Mapping[str, Mapping[str, Any]], registry: Mapping[str, Any],
                      network: str) -> dict[str, list[str]]:
    """Inputs of rule network_predictions: the network's op tables at its own side, and each
    device's params.yaml, op costs and measured timings (:func:`device_paths`)."""
    side = side_of(registry, network)
    paths = device_paths(devices, network)
    return {
        "ops": [op_table(network, s) for s in op_shapes(registry, network)
                if s.endswith(f"x{side}x{side}")],
        "params": [p["params"] for p in paths.values()],
        "op_costs": [p["op_costs"] for p in paths.values() if p["op_costs"]],
        "measured": [p["measured"] for p in paths.values() if p["measured"]],
    }


def network_targets(networks: Sequence[str], devices: Mapping[str, Any]) -> list[str]:
    """Every default output of the stage."""
    out = [f"data/processed/networks/by_network/{n}/predictions.csv" for n in networks]
    out += [f"{DEVICES_ROOT}/{d}/cost_model.yaml" for d in devices]
    out += [f"{DEVICES_ROOT}/{d}/op_costs.md" for d, info in devices.items()
            if info["op_sweeps"]]
    return out + list(OUTPUTS.values())
