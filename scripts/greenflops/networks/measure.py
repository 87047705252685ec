"""Timing whole networks on a device, with the sweep harness, and capturing their op tables.

:func:`measure_network` times one forward pass of a network the way the sweeps time one layer
(:func:`greenflops.timing.harness.time_call`: warm-up, calibration, blocks, adaptive stop), in
the dataset's dtype (``float32``: IEEE, TF32 off; ``tf32``; ``bfloat16``; ``float16``: weights
and input converted), channels-last when the dataset is, on the CPU or a GPU, under
``torch.inference_mode``; on an NVIDIA GPU with NVML, the energy counter gives joules per
forward pass (read around the timed blocks, divided by the calls in between). Inputs are
uniform random in [-1, 1) from a fixed seed. Rows: ``workflow/schemas/network_timings.schema.yaml``.

:func:`capture_op_tables` writes the op table of a network for each input shape
(:mod:`greenflops.networks.graph`), with a sidecar recording the torch and torchvision versions
and what ``torch.utils.flop_counter`` and Conv2d/Linear hooks count on the same input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = [
    "NETWORK_COLUMNS",
    "capture_op_table",
    "measure_network",
    "network_rows",
    "schema_records",
]

#: Columns of a network timing file (``workflow/schemas/network_timings.schema.yaml``).
NETWORK_COLUMNS: tuple[str, ...] = ("network", "input_shape", "batch", "threads", "dtype",
                                    "time_ms", "time_ms_iqr", "runs", "energy_j")


def _prepared(module: Any, shape: Sequence[int], device: Any, settings: Any) -> tuple[Any, Any]:
    """``module`` and a seeded uniform input on ``device`` in the settings' dtype/layout."""
    import torch

    from greenflops.timing.harness import torch_dtype

    tdtype = torch_dtype(settings.dtype)
    fmt = torch.channels_last if settings.channels_last else torch.contiguous_format
    module = module.to(device=device, dtype=tdtype)
    if settings.channels_last:
        module = module.to(memory_format=fmt)
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(*shape, generator=gen) * 2 - 1).to(device=device, dtype=tdtype)
    return module, x.contiguous(memory_format=fmt) if len(shape) == 4 else x


def measure_network(module: Any, shape: Sequence[int], device: Any, settings: Any,
                    energy_handle: Any | None = None) -> Any:
    """Time one forward pass of ``module`` (eval mode) on a random input of ``shape``; the
    :class:`~greenflops.timing.harness.TimingResult` (``energy_j`` per forward pass when
    ``energy_handle`` reads NVML)."""
    import torch

    from greenflops.timing.harness import time_call

    module, x = _prepared(module, shape, device, settings)
    with torch.inference_mode():
        return time_call(lambda: module(x), device, settings, energy_handle)


def network_rows(name: str, module: Any, shapes: Sequence[Sequence[int]], device: Any,
                 settings: Any, energy_handle: Any | None = None) -> pd.DataFrame:
    """One row per input shape (:data:`NETWORK_COLUMNS`), times to 6 significant figures."""
    import torch

    from greenflops.timing.runner import significant

    rows = []
    for shape in shapes:
        result = measure_network(module, shape, device, settings, energy_handle)
        rows.append({
            "network": name, "input_shape": "x".join(str(int(v)) for v in shape),
            "batch": int(shape[0]), "threads": int(torch.get_num_threads()),
            "dtype": settings.dtype, "time_ms": significant(result.median_s * 1e3),
            "time_ms_iqr": significant(result.iqr_s * 1e3), "runs": int(result.runs),
            "energy_j": None if result.energy_j is None else significant(result.energy_j),
        })
    return pd.DataFrame(rows, columns=list(NETWORK_COLUMNS))


def capture_op_table(module: Any, shape: Sequence[int]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The op table of one forward pass on zeros of ``shape`` (CPU, float32) and the facts of
    its capture: versions, op counts, GFLOPs (ours, with elementwise, ``flop_counter`` complete
    and as it reports by default, Conv2d/Linear hooks)."""
    import torch
    import torchvision

    from greenflops.networks.crosscheck import flop_counter_total, hook_conv_linear_flops
    from greenflops.networks.graph import capture, op_table

    x = torch.zeros(*shape)
    table = op_table(capture(module, x))
    facts: dict[str, Any] = {
        "input_shape": "x".join(str(int(v)) for v in shape),
        "torch_version": str(torch.__version__),
        "torchvision_version": str(torchvision.__version__),
        "ops": int(len(table)),
        "free_ops": int(table["kind"].isin(["view", "alloc"]).sum()),
        "flops": int(table["flops"].sum()),
        "elem_flops": int(table["elem_flops"].sum()),
        "flop_counter_complete": flop_counter_total(module, x, complete=True),
        "flop_counter_default": flop_counter_total(module, x, complete=False),
        "hooks_conv_linear": int(round(hook_conv_linear_flops(module, x))),
        "parameters": int(sum(p.numel() for p in module.parameters())),
    }
    return table, facts


def schema_records(frame: pd.DataFrame) -> list[Mapping[str, Any]]:
    """Rows as plain dicts for schema validation (NaN and pandas' NA become None)."""
    return [{k: (None if v is pd.NA or (isinstance(v, float) and v != v) else v)
             for k, v in r.items()} for r in frame.to_dict("records")]
