"""The op sweep: the layers of real networks that are neither convolutions nor matrix products.

Activations, normalisation, pooling, additions, concatenation, softmax and copies cost time too
(ResNet-50's max pooling alone is several per cent of its forward pass on one CPU thread). The
op sweep times each of them, built the way torchvision calls it (in-place ReLU, out-of-place
sigmoid, channels-last layer norm, ...), on activations of shape (batch, C, hw, hw) or the layout
the networks use: channels-last (batch, hw, hw, C) for ``layernorm_cl``, ``gelu_cl`` and
``mul_layerscale``'s input, tokens (batch, hw², C) for ``layernorm_tok``, attention scores
(batch·C, hw, hw) for ``softmax`` (C heads, sequence length hw).

A grid (``op_grids`` of a profile in ``workflow/resources/sweeps.yaml``) has axes ``op`` (names of
:data:`OP_BUILDERS`), ``c``, ``hw``, ``batch`` (default 1) and an optional cap ``max_elements``
(default 2^25) on ``batch·C·hw²``. Each point is timed by the sweep harness; its bytes moved and
FLOPs are counted by :func:`greenflops.networks.graph.capture_fn` on the very call that is timed,
so they follow the same convention as the networks' op tables. Rows:
``workflow/schemas/op_timings.schema.yaml``, one file per grid,
``data/raw/timings/<device_id>/ops/<sweep>.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from greenflops.timing.grids import SweepConfigError, axis_values

__all__ = [
    "OP_BUILDERS",
    "OP_COLUMNS",
    "OP_KEY",
    "OP_KIND",
    "op_call",
    "op_points",
    "time_op_point",
]

#: Columns of an op-sweep row (``workflow/schemas/op_timings.schema.yaml``) and its key.
OP_COLUMNS: tuple[str, ...] = ("sweep", "op", "kind", "batch", "c", "hw", "dtype", "bytes_moved",
                               "flops", "elem_flops", "time_ms", "time_ms_iqr", "runs",
                               "energy_j")
OP_KEY: tuple[str, ...] = ("sweep", "op", "batch", "c", "hw", "dtype")


def _rand(shape: Sequence[int], device: Any, dtype: Any, lo: float = -1.0,
          hi: float = 1.0) -> Any:
    import torch

    gen = torch.Generator().manual_seed(math.prod(shape) % 65521)
    t = torch.empty(*shape).uniform_(lo, hi, generator=gen)
    return t.to(device=device, dtype=dtype)


def _bn(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
    import torch.nn.functional as F

    x = _rand((b, c, hw, hw), dev, dt)
    mean, var = _rand((c,), dev, dt), _rand((c,), dev, dt, 0.5, 1.5)
    w, bias = _rand((c,), dev, dt), _rand((c,), dev, dt)
    return lambda: F.batch_norm(x, mean, var, w, bias, training=False)


#: Input range of the in-place ops that would shrink their input towards zero when applied to
#: it again and again (``silu(x) ≈ x / 2`` near 0: denormals after ~130 timed calls, which are
#: far slower): a range where the op returns its input, so every timed call sees normal numbers.
_FIXED_POINT_RANGE: dict[str, tuple[float, float]] = {"silu": (20.0, 40.0),
                                                      "hardswish": (3.0, 6.0)}


def _unary(name: str, inplace: bool) -> Callable[..., Callable[[], Any]]:
    def build(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
        import torch
        import torch.nn.functional as F

        lo, hi = _FIXED_POINT_RANGE.get(name, (-1.0, 1.0)) if inplace else (-1.0, 1.0)
        x = _rand((b, c, hw, hw), dev, dt, lo, hi)
        fns: dict[str, Callable[[], Any]] = {
            "relu": lambda: F.relu(x, inplace=inplace),
            "relu6": lambda: F.hardtanh(x, 0.0, 6.0, inplace=inplace),
            "silu": lambda: F.silu(x, inplace=inplace),
            "hardswish": lambda: F.hardswish(x, inplace=inplace),
            "hardsigmoid": lambda: F.hardsigmoid(x, inplace=inplace),
            "sigmoid": lambda: torch.sigmoid(x),
            "gelu": lambda: F.gelu(x),
        }
        return fns[name]

    return build


def _gelu_cl(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
    import torch.nn.functional as F

    x = _rand((b, hw, hw, c), dev, dt)  # ConvNeXt's MLP activation (channels last)
    return lambda: F.gelu(x)


def _add(inplace: bool) -> Callable[..., Callable[[], Any]]:
    def build(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
        x, y = _rand((b, c, hw, hw), dev, dt), _rand((b, c, hw, hw), dev, dt)
        if inplace:
            return lambda: x.add_(y)
        return lambda: x + y

    return build


def _mul_bcast(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
    x, s = _rand((b, c, hw, hw), dev, dt), _rand((b, c, 1, 1), dev, dt)  # squeeze-excitation
    return lambda: x * s


def _mul_layerscale(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
    x = _rand((b, hw, hw, c), dev, dt).permute(0, 3, 1, 2)  # ConvNeXt's layer scale
    g = _rand((c, 1, 1), dev, dt)
    return lambda: g * x


def _layernorm_cl(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
    import torch.nn.functional as F

    x, w, bias = _rand((b, hw, hw, c), dev, dt), _rand((c,), dev, dt), _rand((c,), dev, dt)
    return lambda: F.layer_norm(x, (c,), w, bias, 1e-6)


def _layernorm_tok(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
    import torch.nn.functional as F

    x, w, bias = _rand((b, hw * hw, c), dev, dt), _rand((c,), dev, dt), _rand((c,), dev, dt)
    return lambda: F.layer_norm(x, (c,), w, bias, 1e-6)


def _softmax(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
    import torch

    x = _rand((b * c, hw, hw), dev, dt)  # c = heads, hw = sequence length
    return lambda: torch.softmax(x, -1)


def _maxpool(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
    import torch.nn.functional as F

    x = _rand((b, c, hw, hw), dev, dt)
    return lambda: F.max_pool2d(x, 3, 2, 1)


def _avgpool(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
    import torch.nn.functional as F

    x = _rand((b, c, hw, hw), dev, dt)
    return lambda: F.avg_pool2d(x, 2, 2)


def _adaptive_avgpool(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
    import torch.nn.functional as F

    x = _rand((b, c, hw, hw), dev, dt)
    return lambda: F.adaptive_avg_pool2d(x, 1)


def _cat(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
    import torch

    parts = [_rand((b, c // 2, hw, hw), dev, dt), _rand((b, c - c // 2, hw, hw), dev, dt)]
    return lambda: torch.cat(parts, 1)


def _copy(b: int, c: int, hw: int, dev: Any, dt: Any) -> Callable[[], Any]:
    x = _rand((b, c, hw, hw), dev, dt)
    return lambda: x.permute(0, 2, 3, 1).contiguous()


#: op name → builder(batch, c, hw, device, torch dtype) → zero-argument callable.
OP_BUILDERS: dict[str, Callable[..., Callable[[], Any]]] = {
    "batchnorm": _bn,
    "relu_": _unary("relu", True),
    "relu": _unary("relu", False),
    "relu6_": _unary("relu6", True),
    "silu_": _unary("silu", True),
    "hardswish_": _unary("hardswish", True),
    "hardsigmoid": _unary("hardsigmoid", False),
    "sigmoid": _unary("sigmoid", False),
    "gelu": _unary("gelu", False),
    "gelu_cl": _gelu_cl,
    "add": _add(False),
    "add_": _add(True),
    "mul_bcast": _mul_bcast,
    "mul_layerscale": _mul_layerscale,
    "layernorm_cl": _layernorm_cl,
    "layernorm_tok": _layernorm_tok,
    "softmax": _softmax,
    "maxpool": _maxpool,
    "avgpool": _avgpool,
    "adaptive_avgpool": _adaptive_avgpool,
    "cat": _cat,
    "copy": _copy,
}

#: The op-table kind (:mod:`greenflops.networks.graph`) of each op-sweep op.
OP_KIND: dict[str, str] = {
    "batchnorm": "batchnorm", "relu_": "relu", "relu": "relu", "relu6_": "relu6",
    "silu_": "silu", "hardswish_": "hardswish", "hardsigmoid": "hardsigmoid",
    "sigmoid": "sigmoid", "gelu": "gelu", "gelu_cl": "gelu", "add": "add", "add_": "add",
    "mul_bcast": "mul", "mul_layerscale": "mul", "layernorm_cl": "layernorm",
    "layernorm_tok": "layernorm", "softmax": "softmax", "maxpool": "maxpool",
    "avgpool": "avgpool", "adaptive_avgpool": "adaptive_avgpool", "cat": "cat", "copy": "copy",
}


def op_points(sweep: str, params: Mapping[str, Any], dtype: str = "float32"
              ) -> list[dict[str, Any]]:
    """Points of an op-sweep grid (module docstring), in grid order: op, batch, c, hw.

    Raises :class:`~greenflops.timing.grids.SweepConfigError` naming the sweep and the key.
    """
    where = f"op sweep '{sweep}'"
    if not isinstance(params, Mapping):
        raise SweepConfigError(f"{where}: expected a mapping of grid parameters")
    unknown = sorted(set(params) - {"op", "c", "hw", "batch", "max_elements"})
    if unknown:
        raise SweepConfigError(f"{where}: unknown key(s) {unknown}; allowed: "
                               "['batch', 'c', 'hw', 'max_elements', 'op']")
    ops = params.get("op")
    if (not isinstance(ops, Sequence) or isinstance(ops, str) or not ops
            or any(o not in OP_BUILDERS for o in ops)):
        raise SweepConfigError(f"{where}.op: expected a list of names among "
                               f"{sorted(OP_BUILDERS)}, got {ops!r}")
    for key in ("c", "hw"):
        if key not in params:
            raise SweepConfigError(f"{where}: missing key '{key}'")
    cs, hws = axis_values(params["c"], f"{where}.c"), axis_values(params["hw"], f"{where}.hw")
    batches = axis_values(params.get("batch", [1]), f"{where}.batch")
    cap = params.get("max_elements", 2**25)
    if isinstance(cap, bool) or not isinstance(cap, (int, float)) or cap <= 0:
        raise SweepConfigError(f"{where}.max_elements: expected a positive number, got {cap!r}")
    points = [{"sweep": sweep, "op": op, "kind": OP_KIND[op], "batch": b, "c": c, "hw": hw,
               "dtype": dtype}
              for op in dict.fromkeys(ops) for b in batches for c in cs for hw in hws
              if b * c * hw * hw <= cap]
    if not points:
        raise SweepConfigError(f"{where}: every point exceeds max_elements {cap}")
    return points


def op_call(point: Mapping[str, Any], device: Any, dtype: Any) -> Callable[[], Any]:
    """A zero-argument callable evaluating one op-sweep point on uniform random inputs in
    [-1, 1) (a positive running variance for batch norm; in-place SiLU and hardswish on a range
    they leave unchanged), on ``device`` in torch ``dtype``."""
    return OP_BUILDERS[point["op"]](int(point["batch"]), int(point["c"]), int(point["hw"]),
                                    device, dtype)


def time_op_point(point: Mapping[str, Any], device: Any, settings: Any,
                  energy_handle: Any | None = None,
                  pool: Any = None) -> tuple[dict[str, Any] | None, str | None]:
    """Time one op-sweep point with the sweep harness: ``(row, None)`` (:data:`OP_COLUMNS`) or
    ``(None, reason)`` when it does not fit in memory. Same signature as
    :func:`greenflops.timing.runner.time_point` (``pool`` is unused)."""
    import torch

    from greenflops.networks.graph import capture_fn
    from greenflops.timing import harness
    from greenflops.timing.contract import DTYPES
    from greenflops.timing.runner import significant
    from greenflops.timing.tensors import is_oom

    elem = DTYPES[point["dtype"]].bytes
    need = 4 * int(point["batch"]) * int(point["c"]) * int(point["hw"]) ** 2 * elem
    if settings.memory_cap_bytes is not None and need > settings.memory_cap_bytes:
        return None, (f"estimated {need / 2**30:.2f} GiB exceeds the memory cap "
                      f"{settings.memory_cap_bytes / 2**30:.2f} GiB")
    try:
        call = op_call(point, device, harness.torch_dtype(point["dtype"]))
        records = capture_fn(call)  # bytes and FLOPs of exactly the timed call
        with torch.inference_mode():
            result = harness.time_call(call, device, settings, energy_handle)
    except Exception as exc:
        if not is_oom(exc):
            raise
        return None, f"out of memory: {str(exc).splitlines()[0][:200]}"
    row = {c: point[c] for c in ("sweep", "op", "kind", "batch", "c", "hw", "dtype")}
    row.update({
        "bytes_moved": int(sum(r.bytes_moved for r in records)),
        "flops": float(sum(r.flops for r in records)),
        "elem_flops": float(sum(r.elem_flops for r in records)),
        "time_ms": significant(result.median_s * 1e3),
        "time_ms_iqr": significant(result.iqr_s * 1e3),
        "runs": result.runs,
        "energy_j": None if result.energy_j is None else significant(result.energy_j),
    })
    return row, None
