"""What the alpha stage's rules build for each device (used by ``workflow/rules/alpha.smk``).

Devices are the timing datasets validated when the workflow loads (every folder
``data/raw/timings/<device_id>/`` or ``data/imported/<device_id>/`` with a ``device.yaml``), and
those the imports of this run will write (planned when the workflow loads, ``glue.imports``). The figures of a device are those of
the figure specification (``workflow/resources/alpha_figures.yaml``) whose sweeps it has and
whose ``device_kind`` matches (Fig. 2c/2d are the CPU versions of Fig. 2a/2b), plus predicted vs
measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from greenflops.timing.datasets import validate_datasets

__all__ = [
    "PRED_VS_MEASURED",
    "WHOLE_NETWORKS",
    "alpha_targets",
    "dataset_folders",
    "dataset_timing_inputs",
    "device_figures",
    "devices_from_datasets",
    "discover_devices",
    "stale_device_outputs",
    "timing_inputs",
    "whole_networks_inputs",
]

#: The figure beyond the paper: predicted vs measured, every model.
PRED_VS_MEASURED = "pred_vs_measured"

_KIND = {"cpu": "cpu", "cuda": "gpu", "mps": "gpu"}

#: Raw whole-network timings of a device, relative to its folder (a subfolder: the timing-file
#: globs ``<device_id>/*.csv`` do not see it).
WHOLE_NETWORKS = "networks/whole_networks.csv"


def devices_from_datasets(datasets: Mapping[str, Mapping[str, Any]]
                          ) -> dict[str, dict[str, Any]]:
    """``{device_id: {"sweeps": [...], "kind": "cpu" | "gpu" | "other", "networks": bool}}``
    from datasets already validated by :func:`greenflops.timing.datasets.validate_datasets`
    (nothing is read twice).

    Folders with a device.yaml but no ``<sweep>.csv`` yet are skipped (a sweep under way: stopping
    there would also stop the sweep's own jobs, which re-parse the workflow on SLURM and when a
    killed sweep resumes). Sweep names are the file names, which the validation ties to the
    ``sweep`` column. ``kind`` comes from ``device_type`` (cuda and mps are GPUs); ``networks``
    says whether the device has raw whole-network timings (:data:`WHOLE_NETWORKS`).
    """
    found: dict[str, dict[str, Any]] = {}
    for device_id, entry in sorted(datasets.items()):
        if not entry["sweeps"]:
            continue
        found[device_id] = {
            "sweeps": sorted(entry["sweeps"]),
            "kind": _KIND.get(str(entry["facts"].get("device_type")), "other"),
            "networks": (Path(entry["device"]).parent / WHOLE_NETWORKS).is_file(),
        }
    return found


def discover_devices(root: str | Path, timings_schema: str | Path,
                     device_schema: str | Path) -> dict[str, dict[str, Any]]:
    """:func:`devices_from_datasets` of the datasets under ``root``, validated here. Raises
    :class:`greenflops.io.tables.TableValidationError` on the first bad file."""
    return devices_from_datasets(validate_datasets(root, timings_schema, device_schema))


def device_figures(device: Mapping[str, Any], figures: Mapping[str, Mapping[str, Any]]
                   ) -> list[str]:
    """Figure ids (file stems) for one device: those whose sweeps it has, plus predicted vs
    measured."""
    out = []
    for fig, spec in figures.items():
        kind = spec["device_kind"]
        if kind == "cpu" and device["kind"] != "cpu":
            continue
        if kind == "gpu" and device["kind"] == "cpu":
            continue
        if all(sweep in device["sweeps"] for sweep in spec["sweeps"]):
            out.append(fig)
    return out + [PRED_VS_MEASURED]


def timing_inputs(root: str | Path, device_id: str) -> list[str]:
    """A device's timing CSVs and its device.yaml (the fit's data inputs)."""
    folder = Path(root) / device_id
    return sorted(str(p) for p in folder.glob("*.csv")) + [str(folder / "device.yaml")]


def dataset_folders(datasets: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The timing folder of each dataset (``data/raw/timings/<id>``, ``data/imported/<id>``)."""
    return {dev: str(Path(entry["device"]).parent) for dev, entry in datasets.items()}


def dataset_timing_inputs(entry: Mapping[str, Any]) -> list[str]:
    """:func:`timing_inputs` of a dataset: found in its folder, or for a dataset an import of
    this run will write (``entry["import"]``), the files planned for it."""
    folder = Path(entry["device"]).parent
    if "import" not in entry:
        return timing_inputs(folder.parent, folder.name)
    return sorted(entry["sweeps"].values()) + [str(entry["device"])]


def whole_networks_inputs(root: str | Path, device_id: str) -> list[str]:
    """The device's raw whole-network timings as a one-item list, or ``[]`` when it has none."""
    path = Path(root) / device_id / WHOLE_NETWORKS
    return [str(path)] if path.is_file() else []


def alpha_targets(devices: Mapping[str, Mapping[str, Any]],
                  figures: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every default output of the stage, device by device."""
    out: list[str] = []
    for dev, info in devices.items():
        base = f"data/processed/alpha/{dev}"
        out += [f"{base}/params.yaml", f"{base}/fit_report.csv"]
        out += [f"figures/alpha/{dev}/{fig}.png" for fig in device_figures(info, figures)]
        if "dense_vs_conv" in info["sweeps"]:
            out.append(f"figures/alpha/{dev}/fig03a_table.md")
        if info.get("networks"):  # whole-network timings measured on this device
            out.append(f"{base}/model_validation.md")
    return out


#: Where the alpha and networks stages write per-device outputs (folders named after the
#: device).
DEVICE_OUTPUT_ROOTS = ("data/processed/alpha", "figures/alpha", "figures/report/alpha",
                       "data/processed/networks/devices", "figures/report/networks")


def stale_device_outputs(devices: Mapping[str, Any], root: str | Path = ".") -> list[str]:
    """Per-device output folders of devices that no longer have a timing folder (removed or
    renamed): what rule ``prune_stale_outputs`` deletes."""
    stale = []
    for top in DEVICE_OUTPUT_ROOTS:
        base = Path(root) / top
        if base.is_dir():
            stale += [str(p.relative_to(root)) for p in sorted(base.iterdir())
                      if p.is_dir() and p.name not in devices]
    return stale
