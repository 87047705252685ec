"""Facts about the device and the machine, written to ``device.yaml`` and each sweep's sidecar.

:func:`device_facts` gathers the hardware and software facts
(``workflow/schemas/device.schema.yaml``) with the measured matmul peak, copy bandwidth and
per-call floor; :func:`node_facts` names the machine (the SLURM node on a cluster);
:func:`default_memory_cap` bounds the memory one timed point may take.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import platform
from typing import Any

from greenflops.timing.device import cpu_model_name, device_name, hardware_id, usable_cpus
from greenflops.timing.energy import energy_mj, nvml_handle
from greenflops.timing.harness import TimingSettings, prepare_backends, time_call, torch_dtype
from greenflops.timing.tensors import layer_call

__all__ = [
    "FLOOR_LAYERS",
    "default_memory_cap",
    "device_facts",
    "measure_bandwidth_gbs",
    "measure_call_floor_ms",
    "measure_peak_gflops",
    "node_facts",
    "ram_gb",
]


def measure_peak_gflops(device: Any, dtype: str = "float32", n: int | None = None,
                        min_run_time: float = 0.5) -> float:
    """Achieved GFLOP/s of a large square matmul (n×n times n×n, 2n³ FLOPs): the measured peak."""
    import torch

    n = n or {"cuda": 8192, "mps": 4096}.get(device.type, 2048)
    tdtype = torch_dtype(dtype)
    a = torch.rand(n, n, device=device, dtype=tdtype)
    b = torch.rand(n, n, device=device, dtype=tdtype)
    settings = TimingSettings(min_run_time=min_run_time, energy=False)
    with torch.inference_mode():
        result = time_call(lambda: torch.mm(a, b), device, settings)
    del a, b
    return 2 * n**3 / result.median_s / 1e9


def measure_bandwidth_gbs(device: Any, nbytes: int | None = None,
                          min_run_time: float = 0.5) -> float:
    """Achieved GB/s of a large device-to-device copy (bytes read + bytes written per call)."""
    import torch

    nbytes = nbytes or {"cuda": 2**30, "mps": 2**29}.get(device.type, 2**28)
    src = torch.rand(nbytes // 4, device=device)
    dst = torch.empty_like(src)
    settings = TimingSettings(min_run_time=min_run_time, energy=False)
    with torch.inference_mode():
        result = time_call(lambda: dst.copy_(src), device, settings)
    del src, dst
    return 2 * nbytes / result.median_s / 1e9


#: The smallest layers a sweep can time: one input and one output channel, batch 1, 1×1. Their
#: time is the per-call floor (framework dispatch, kernel launch), with no work to speak of.
FLOOR_LAYERS: tuple[dict[str, Any], ...] = tuple(
    {"sweep": "call_floor", "op": op, "batch": 1, "c_in": 1, "c_out": 1, "h": 1, "w": 1,
     "k_h": 1, "k_w": 1, "stride": 1, "padding": 0, "groups": 1}
    for op in ("linear", "conv2d"))


def measure_call_floor_ms(device: Any, settings: TimingSettings) -> float:
    """The per-call floor in ms: the faster of :data:`FLOOR_LAYERS`, timed exactly as a sweep
    times its layers (same call, harness and settings, no energy reading).

    A per-call overhead fitted on a device's layers cannot exceed it: the time models read it
    from ``device.yaml`` (``call_floor_ms``) to bound their overhead terms, which the fastest
    layer of a validation fold bounds only loosely when that fold has no small layers.
    """
    import torch

    floor_settings = dataclasses.replace(settings, energy=False)
    times = []
    with torch.inference_mode():
        for layer in FLOOR_LAYERS:
            call = layer_call({**layer, "dtype": settings.dtype}, device, floor_settings)
            times.append(time_call(call, device, floor_settings).median_s * 1e3)
    return min(times)


def device_facts(device: Any, threads: int, settings: TimingSettings, dataset: str,
                 profile: str, measure: bool = True) -> dict[str, Any]:
    """Hardware and software facts of the device for ``device.yaml`` (schema: device.schema.yaml).

    With ``measure``, adds the measured matmul peak (``peak_gflops``), device-copy bandwidth
    (``mem_bandwidth_gbs``) and per-call floor (``call_floor_ms``, :func:`measure_call_floor_ms`).
    """
    import torch

    backend = prepare_backends(device, settings)
    facts: dict[str, Any] = {
        "device_id": dataset,
        "hardware_id": hardware_id(device, threads),
        "device_type": device.type,
        "name": device_name(device),
        "profile": profile,
        "dtype": settings.dtype,
        "channels_last": settings.channels_last,
        "torch_version": str(torch.__version__),
        "python_version": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "cpu_model": cpu_model_name(),
        "cpu_count": usable_cpus(),
        "threads": int(torch.get_num_threads()),
        "ram_gb": ram_gb(),
        **backend,
        "measured_on": dt.date.today().isoformat(),
        **node_facts(),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        facts.update({
            "memory_gb": round(props.total_memory / 2**30, 2),
            "compute_capability": f"{props.major}.{props.minor}",
            "multiprocessors": props.multi_processor_count,
            "cuda_version": torch.version.cuda,
            "cudnn_version": str(torch.backends.cudnn.version()),
        })
        handle = nvml_handle(device)
        if handle is not None:
            import pynvml

            driver = pynvml.nvmlSystemGetDriverVersion()
            facts["driver_version"] = driver.decode() if isinstance(driver, bytes) else driver
            facts["energy_counter"] = energy_mj(handle) is not None
            try:
                facts["power_limit_w"] = pynvml.nvmlDeviceGetPowerManagementLimit(handle) / 1000
            except Exception:
                pass
    elif device.type == "mps":
        facts["memory_gb"] = facts["ram_gb"]  # unified memory
    if measure:
        peak_dtype = "float32" if settings.dtype == "tf32" else settings.dtype
        facts["peak_gflops"] = round(measure_peak_gflops(device, peak_dtype), 3)
        facts["peak_gflops_dtype"] = settings.dtype
        facts["mem_bandwidth_gbs"] = round(measure_bandwidth_gbs(device), 3)
        from greenflops.timing.runner import significant  # runner imports this module

        facts["call_floor_ms"] = significant(measure_call_floor_ms(device, settings))
    return facts


def node_facts() -> dict[str, Any]:
    """The machine a measurement ran on: ``host`` and, inside a SLURM job, its job id and node.

    Recorded in device.yaml and each sweep's meta.yaml, so that data from a cluster says which
    node measured it (sweep jobs of one device may land on different nodes).
    """
    facts: dict[str, Any] = {"host": platform.node() or None}
    for key, env in (("slurm_job_id", "SLURM_JOB_ID"), ("slurm_node", "SLURMD_NODENAME"),
                     ("slurm_partition", "SLURM_JOB_PARTITION")):
        if os.environ.get(env):
            facts[key] = os.environ[env]
    return facts


def ram_gb() -> float | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
        return round(pages * size / 2**30, 2)
    except (ValueError, OSError, AttributeError):
        return None


def default_memory_cap(device: Any) -> int:
    """Memory cap for one point: 90 % of GPU memory, else half the machine's RAM."""
    import torch

    if device.type == "cuda":
        return int(0.9 * torch.cuda.get_device_properties(device).total_memory)
    ram = ram_gb() or 8.0
    return int(0.5 * ram * 2**30)


