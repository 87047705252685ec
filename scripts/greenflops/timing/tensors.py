"""The tensors a timed layer reads, and the call that evaluates the layer.

Inputs, weights and bias hold uniform random values in [-1, 1) (never zeros, denormals or NaNs,
which change timings). On the CPU a large tensor repeats one block of 65521 random values
(drawing every element costs more than timing big layers); a sweep reuses the previous point's
tensors whose shapes it needs again (e.g. the weight of ``dense_batch``), through
:class:`TensorPool`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from greenflops.timing.contract import DTYPES
from greenflops.timing.harness import TimingSettings, torch_dtype

__all__ = ["TensorPool", "estimate_bytes", "fill_uniform", "is_oom", "layer_call"]


def estimate_bytes(point: Mapping[str, Any], channels_last: bool = False) -> int:
    """Bytes one call needs: input, output, weights and bias, plus the padded input of an even
    kernel (PyTorch pads it in a copy). Workspace of the kernel library is not included."""
    elem = DTYPES[point["dtype"]].bytes
    b, ci, co = point["batch"], point["c_in"], point["c_out"]
    h, w, kh, kw = point["h"], point["w"], point["k_h"], point["k_w"]
    if point["op"] == "linear":
        count = b * ci + b * co + ci * co + co
    else:
        count = b * ci * h * w + b * co * h * w + co * (ci // point.get("groups", 1)) * kh * kw + co
        if kh % 2 == 0 or kw % 2 == 0:
            count += b * ci * (h + kh) * (w + kw)
        if channels_last:
            count += b * ci * h * w  # the converted copy of the input
    return int(count * elem)


#: Period of the random pattern that fills large tensors on the CPU (a prime, so that it does
#: not line up with rows, channels or vector widths).
_FILL_PERIOD = 65521


def fill_uniform(tensor: Any) -> Any:
    """Fill a contiguous ``tensor`` in place with uniform random values in [-1, 1); return it.

    Accelerators draw every element (``uniform_``, fast there). On the CPU, drawing is slow
    (about 5 ns per element: 0.2 s for a 6400×6400 weight, more than its timed calls), so a
    tensor larger than :data:`_FILL_PERIOD` elements repeats one block of that many random
    values, copied at memory speed. The values are ordinary numbers either way (no zeros,
    denormals or NaNs, which would change timings); dense kernels do not depend on them."""
    import torch

    count = tensor.numel()
    if tensor.device.type != "cpu" or count <= _FILL_PERIOD:
        return tensor.uniform_(-1.0, 1.0)
    block = torch.empty(_FILL_PERIOD, dtype=tensor.dtype).uniform_(-1.0, 1.0)
    flat = tensor.view(-1)  # a fresh (contiguous) tensor
    whole = count // _FILL_PERIOD
    flat[: whole * _FILL_PERIOD].view(whole, _FILL_PERIOD).copy_(block.expand(whole, _FILL_PERIOD))
    flat[whole * _FILL_PERIOD:].copy_(block[: count - whole * _FILL_PERIOD])
    return tensor


class TensorPool:
    """The input, weight and bias tensors of the last point timed, for reuse by the next one.

    Consecutive points of a sweep often share shapes (``dense_batch``: the same D×D weight for
    every batch size), and on the CPU creating a large random tensor can cost more than timing
    it. :meth:`take` returns tensors of the shapes asked for, reusing a kept tensor of the same
    role, size, dtype and layout (a view of it when only the shape differs), and frees the kept tensors that are not asked for *before*
    allocating the new ones (the memory peak stays that of one point). Timed calls only read
    these tensors, so their values stay random.
    """

    def __init__(self) -> None:
        self._kept: dict[str, tuple[tuple[Any, ...], Any]] = {}

    def take(self, specs: Mapping[str, tuple[int, ...]], device: Any, dtype: Any,
             channels_last: Sequence[str] = ()) -> dict[str, Any]:
        """Tensors named as ``specs`` (name → shape); names in ``channels_last`` in that format."""
        import torch

        # A contiguous tensor serves any shape of its size (a linear layer's D×D weight is a 1×1
        # convolution's D×D×1×1 one); a channels-last one only its own shape.
        keys = {name: (tuple(shape) if name in channels_last else math.prod(shape),
                       str(device), dtype, name in channels_last)
                for name, shape in specs.items()}
        self._kept = {n: kt for n, kt in self._kept.items() if keys.get(n) == kt[0]}
        for name, key in keys.items():
            if name not in self._kept:
                tensor = fill_uniform(torch.empty(specs[name], device=device, dtype=dtype))
                if key[3]:
                    tensor = tensor.contiguous(memory_format=torch.channels_last)
                self._kept[name] = (key, tensor)
        return {name: self._kept[name][1] if keys[name][3] else self._kept[name][1].view(shape)
                for name, shape in specs.items()}

    def clear(self) -> None:
        """Drop every kept tensor."""
        self._kept.clear()


def layer_call(point: Mapping[str, Any], device: Any, settings: TimingSettings,
               pool: TensorPool | None = None) -> Callable[[], Any]:
    """Inputs and weights on the device (uniform random values, from ``pool`` when given) and
    the call that evaluates them."""
    import torch.nn.functional as F

    pool = pool if pool is not None else TensorPool()
    tdtype = torch_dtype(point["dtype"])
    b, ci, co = point["batch"], point["c_in"], point["c_out"]
    if point["op"] == "linear":
        t = pool.take({"x": (b, ci), "weight": (co, ci), "bias": (co,)}, device, tdtype)
        x, weight, bias = t["x"], t["weight"], t["bias"]
        return lambda: F.linear(x, weight, bias)
    kh, kw = point["k_h"], point["k_w"]
    groups = int(point.get("groups", 1))
    t = pool.take({"x": (b, ci, point["h"], point["w"]), "weight": (co, ci // groups, kh, kw),
                   "bias": (co,)}, device, tdtype,
                  channels_last=("x", "weight") if settings.channels_last else ())
    x, weight, bias = t["x"], t["weight"], t["bias"]
    stride = point["stride"]
    padding: Any = "same" if (kh % 2 == 0 or kw % 2 == 0) else (kh // 2, kw // 2)
    if stride != 1 or groups != 1:
        padding = point["padding"]
    return lambda: F.conv2d(x, weight, bias, stride=stride, padding=padding, groups=groups)



def is_oom(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, (MemoryError, torch.OutOfMemoryError)):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


