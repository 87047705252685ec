"""Energy per call on NVIDIA GPUs, from NVML's total-energy counter.

``nvmlDeviceGetTotalEnergyConsumption`` counts millijoules since the driver loaded; the harness
reads it just before the first and just after the last timed block, and the difference divided
by the calls in between is ``energy_j``. Elsewhere (CPU, MPS, no driver, no permission) there is
no handle and ``energy_j`` stays empty. The counter updates every few to tens of milliseconds, so
GPU profiles time each point for at least 0.5 s.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["energy_mj", "nvml_handle"]

log = logging.getLogger("greenflops")


def nvml_handle(device: Any) -> Any | None:
    """NVML handle of a CUDA device (matched by PCI bus id), or None where NVML is unavailable."""
    if device.type != "cuda":
        return None
    try:
        import pynvml
        import torch

        pynvml.nvmlInit()
        props = torch.cuda.get_device_properties(device)
        bus = getattr(props, "pci_bus_id", None)
        if bus is not None:
            domain = getattr(props, "pci_domain_id", 0)
            dev = getattr(props, "pci_device_id", 0)
            return pynvml.nvmlDeviceGetHandleByPciBusId(f"{domain:08x}:{bus:02x}:{dev:02x}.0")
        return pynvml.nvmlDeviceGetHandleByIndex(device.index or 0)
    except Exception as exc:  # no driver, no library, no permission: energy stays empty
        log.info("NVML unavailable (%s): energy_j left empty", exc)
        return None


def energy_mj(handle: Any) -> float | None:
    if handle is None:
        return None
    try:
        import pynvml

        return float(pynvml.nvmlDeviceGetTotalEnergyConsumption(handle))
    except Exception:  # counter not supported on this GPU
        return None


