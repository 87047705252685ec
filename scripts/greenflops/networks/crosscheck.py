"""Two independent counts of a forward pass's FLOPs, to check the op table of
:mod:`greenflops.networks.graph` against: ``torch.utils.flop_counter`` (:func:`flop_counter_total`)
and forward hooks on ``Conv2d`` / ``Linear`` (:func:`hook_conv_linear_flops`, the method of
:func:`greenflops.alpha.networks.layer_table`). torch is imported only when they run."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["flop_counter_total", "hook_conv_linear_flops"]


def flop_counter_total(module: Any, inputs: Any, complete: bool = True) -> int:
    """Total FLOPs of one forward pass by ``torch.utils.flop_counter.FlopCounterMode``.

    ``flop_counter`` misses two attention kernels of the CPU: the ``nn.MultiheadAttention`` eval
    fast path (``_native_multi_head_attention``: projections and matmuls uncounted) and the CPU
    flash kernel of ``scaled_dot_product_attention`` (Q·Kᵀ and P·V uncounted). With
    ``complete`` (default) both are switched off for the count: the fast path, and every SDPA
    backend but the math one (plain ``bmm``); ``complete=False`` shows what it reports otherwise.
    """
    import contextlib

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    args_in = inputs if isinstance(inputs, tuple) else (inputs,)
    was = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(not complete)
    backend: Any = contextlib.nullcontext()
    if complete:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        backend = sdpa_kernel(SDPBackend.MATH)
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), backend, counter:
            module(*args_in)
    finally:
        torch.backends.mha.set_fastpath_enabled(was)
    return int(counter.get_total_flops())


def hook_conv_linear_flops(module: Any, inputs: Any) -> float:
    """FLOPs that forward hooks on ``Conv2d`` / ``Linear`` see (the method of
    :func:`greenflops.alpha.networks.layer_table`): functional ops and the projections inside
    ``nn.MultiheadAttention`` (not ``Linear`` calls) are missed."""
    import torch
    import torch.nn as nn

    args_in = inputs if isinstance(inputs, tuple) else (inputs,)
    total = [0.0]

    def hook(mod: Any, inp: tuple[Any, ...], out: Any) -> None:
        x = inp[0]
        if isinstance(mod, nn.Conv2d):
            k_h, k_w = mod.kernel_size
            total[0] += (2.0 * k_h * k_w * (x.shape[1] // mod.groups) * out.shape[1]
                         * out.shape[2] * out.shape[3] * x.shape[0])
        else:
            total[0] += 2.0 * math.prod(x.shape[:-1]) * mod.in_features * mod.out_features

    handles = [m.register_forward_hook(hook) for m in module.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            module(*args_in)
    finally:
        for h in handles:
            h.remove()
    return float(total[0])
