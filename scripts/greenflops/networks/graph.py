"""Every operation of one forward pass of an ``nn.Module``: kind, shapes, FLOPs and bytes moved.

Capture (:func:`capture`)
    A ``TorchDispatchMode`` records each ATen call that reaches the dispatcher during one forward
    pass under ``torch.no_grad()``: below autograd, so composite ops are already split into the
    kernels that run (``F.linear`` on a 3-D input becomes ``view + addmm + view``, ``F.batch_norm``
    becomes ``native_batch_norm``), and functional ops that module hooks never see (``x + y``,
    ``torch.cat``, ``x * s``, attention matmuls, softmax, permutes and copies) are all there.
    (Under ``inference_mode`` the mode would see the ops before decomposition, ``conv2d`` and
    ``linear``; the kernels that run are the same.) Forward pre/post hooks on every submodule
    keep a stack of module names, so each op carries the innermost module that called it
    (``layer1.0.conv1``). Fused attention kernels are expanded analytically: the eval-mode
    ``nn.MultiheadAttention`` fast path (``aten._native_multi_head_attention``, which
    torchvision's ViT takes under ``no_grad``) counts its input projection, the two attention
    matmuls, the softmax and the output projection; the ``scaled_dot_product_attention`` kernels
    count Q·Kᵀ, the softmax and P·V.

FLOPs (two columns, never mixed)
    ``flops``: matrix-product FLOPs, 2 per multiply-add, as ``torch.utils.flop_counter`` and both
    papers count them: convolutions ``2·B·C_out·H_out·W_out·(C_in/groups)·K_h·K_w`` (bias not
    counted), ``mm``/``addmm``/``bmm``/``baddbmm``, attention. ``elem_flops``: the arithmetic of
    every other op, by the convention of :data:`ELEM_FLOPS_PER_OUTPUT` (per output element) and
    :data:`ELEM_FLOPS_PER_INPUT` (per input element). Papers' GFLOPs use the first column only.
    ``torch.utils.flop_counter`` misses the two fused attention paths on the CPU;
    :func:`greenflops.networks.crosscheck.flop_counter_total` switches them off, which makes its
    count complete.

Bytes moved (``bytes_in``, ``bytes_out``, ``bytes_weight``)
    Each distinct tensor argument is read once (its *unique* elements: a broadcast ``expand``
    with stride 0 counts its storage, not its view) and each output is written once; an in-place
    op reads and writes the same tensor (counted both ways). ``bytes_weight`` is the part of
    ``bytes_in`` held by the module's parameters and buffers. Views (``view``, ``t``,
    ``permute``, ``expand``, ``reshape`` of viewable data...), allocations (``empty``) and
    eval-mode dropout move no bytes: kinds ``view`` and ``alloc``, *free*.

The op table (:func:`op_table`, contract ``workflow/schemas/network_ops.schema.yaml``) is one row
per op with these columns plus the shape of each matrix product in timing-contract terms
(:data:`SHAPE_COLUMNS`), so that the time models of :mod:`greenflops.alpha` can price it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ELEM_FLOPS_PER_INPUT",
    "ELEM_FLOPS_PER_OUTPUT",
    "FREE_KINDS",
    "OP_TABLE_COLUMNS",
    "SHAPE_COLUMNS",
    "OpRecord",
    "TensorMeta",
    "capture",
    "capture_fn",
    "op_table",
    "softmax_numel",
]

#: Elementwise FLOPs per *output* element of each non-matmul kind (a documented convention, not
#: a measurement: max, compare, exp and erf count 1 each). Kinds absent here count 0.
ELEM_FLOPS_PER_OUTPUT: dict[str, float] = {
    "batchnorm": 2.0,  # inference: y = x·a + b with a, b folded from mean, var, γ, β
    "layernorm": 7.0,  # mean (1), variance (2), normalise (2), affine (2)
    "relu": 1.0,
    "relu6": 2.0,  # hardtanh(0, 6): max and min
    "hardsigmoid": 3.0,  # x/6 + 1/2, clamp (2)
    "hardswish": 4.0,  # x · hardsigmoid(x)
    "sigmoid": 4.0,  # neg, exp, add, div
    "silu": 5.0,  # x · sigmoid(x)
    "gelu": 8.0,  # x/2 · (1 + erf(x/√2)): mul, erf, add, mul, mul (+3 for erf's polynomial)
    "add": 1.0,
    "mul": 1.0,
    "div": 1.0,
    "softmax": 5.0,  # max, sub, exp, sum, div
}
#: Elementwise FLOPs per *input* element (reductions).
ELEM_FLOPS_PER_INPUT: dict[str, float] = {"adaptive_avgpool": 1.0}

#: Kinds that neither compute nor move data (metadata-only views, allocations, eval dropout).
FREE_KINDS: frozenset[str] = frozenset({"view", "alloc"})

#: ATen op names (``OpOverloadPacket`` names) → kind.
_KIND_OF: dict[str, str] = {
    "addmm": "linear", "mm": "matmul", "bmm": "matmul", "baddbmm": "matmul",
    "native_batch_norm": "batchnorm", "_native_batch_norm_legit_no_training": "batchnorm",
    "native_layer_norm": "layernorm",
    "relu": "relu", "relu_": "relu", "hardtanh": "relu6", "hardtanh_": "relu6",
    "silu": "silu", "silu_": "silu", "hardswish": "hardswish", "hardswish_": "hardswish",
    "hardsigmoid": "hardsigmoid", "hardsigmoid_": "hardsigmoid", "gelu": "gelu", "gelu_": "gelu",
    "sigmoid": "sigmoid", "sigmoid_": "sigmoid",
    "add": "add", "add_": "add", "sub": "add", "sub_": "add", "mul": "mul", "mul_": "mul",
    "div": "div", "div_": "div",
    "max_pool2d": "maxpool", "max_pool2d_with_indices": "maxpool",
    "avg_pool2d": "avgpool", "adaptive_avg_pool2d": "adaptive_avgpool",
    "_adaptive_avg_pool2d": "adaptive_avgpool", "mean": "adaptive_avgpool",
    "cat": "cat", "_softmax": "softmax", "softmax": "softmax",
    "clone": "copy", "contiguous": "copy", "copy_": "copy", "_to_copy": "copy",
    "view": "view", "_unsafe_view": "view", "reshape": "view", "t": "view", "transpose": "view",
    "permute": "view", "expand": "view", "select": "view", "slice": "view", "unsqueeze": "view",
    "squeeze": "view", "flatten": "view", "split": "view", "split_with_sizes": "view",
    "chunk": "view", "unbind": "view", "alias": "view", "detach": "view", "as_strided": "view",
    "as_strided_": "view",
    "empty": "alloc", "empty_like": "alloc", "empty_strided": "alloc", "new_empty": "alloc",
    "dropout": "view", "native_dropout": "view",
    "_native_multi_head_attention": "attention",
    "_scaled_dot_product_flash_attention_for_cpu": "sdpa",
    "_scaled_dot_product_flash_attention": "sdpa",
    "_scaled_dot_product_efficient_attention": "sdpa",
    "_scaled_dot_product_cudnn_attention": "sdpa",
    "convolution": "conv2d", "cudnn_convolution": "conv2d", "mkldnn_convolution": "conv2d",
}

#: Columns of an op's matrix-product shape in timing-contract terms (empty for other ops):
#: a convolution's own; a ``linear`` (``addmm``) as a dense layer ``batch = M, c_in = K,
#: c_out = N``; a ``matmul`` of ``b`` products (M×K)·(K×N) as the dense layer ``batch = b·M``
#: (same FLOPs, S = b·M); attention: batch B, ``heads``, query and key lengths ``seq`` and
#: ``seq_k``, width ``embed`` (all heads).
SHAPE_COLUMNS: tuple[str, ...] = ("batch", "c_in", "c_out", "h", "w", "k_h", "k_w", "stride",
                                  "padding", "groups", "heads", "seq", "seq_k", "embed")
#: Columns of an op table (``workflow/schemas/network_ops.schema.yaml``), in order.
OP_TABLE_COLUMNS: tuple[str, ...] = (
    "index", "module", "module_type", "aten", "kind", "in_shape", "out_shape", "flops",
    "elem_flops", "bytes_in", "bytes_out", "bytes_weight", *SHAPE_COLUMNS)


@dataclass(frozen=True)
class TensorMeta:
    """Shape, strides and dtype of a tensor argument, and whether it is a parameter/buffer."""

    shape: tuple[int, ...]
    stride: tuple[int, ...]
    dtype: str  #: ``torch.float32`` → ``"float32"``
    itemsize: int
    is_param: bool = False

    @property
    def numel(self) -> int:
        """Elements of the view (as indexed)."""
        return math.prod(self.shape)

    @property
    def unique_numel(self) -> int:
        """Distinct memory elements the view touches: broadcast (stride-0) axes count once."""
        if any(s == 0 for s in self.shape):
            return 0
        return math.prod(n for n, st in zip(self.shape, self.stride) if st != 0)

    @property
    def nbytes(self) -> int:
        """Bytes of the distinct elements (what reading or writing the tensor moves)."""
        return self.unique_numel * self.itemsize


@dataclass
class OpRecord:
    """One ATen call of a forward pass (see the module docstring for the fields' meaning)."""

    index: int
    module: str  #: innermost module path ("" = the top module's own code)
    module_type: str
    aten: str  #: overload name, e.g. ``aten.convolution.default``
    kind: str  #: conv2d, dwconv, gconv, linear, matmul, attention, sdpa, batchnorm, relu, ...
    inputs: tuple[TensorMeta, ...]
    outputs: tuple[TensorMeta, ...]
    flops: float  #: matrix-product FLOPs (2 per multiply-add)
    elem_flops: float  #: other arithmetic, by the :data:`ELEM_FLOPS_PER_OUTPUT` convention
    bytes_in: int
    bytes_out: int
    bytes_weight: int
    shape: dict[str, int] = field(default_factory=dict)  #: :data:`SHAPE_COLUMNS` that apply

    @property
    def bytes_moved(self) -> int:
        """Inputs read (weights included) + outputs written."""
        return self.bytes_in + self.bytes_out

    @property
    def free(self) -> bool:
        """True for metadata-only ops (no compute, no data movement)."""
        return self.kind in FREE_KINDS

    def row(self) -> dict[str, Any]:
        """One row of the op table (:data:`OP_TABLE_COLUMNS`; shapes as ``x``-joined text)."""
        first_in = self.inputs[0].shape if self.inputs else ()
        first_out = self.outputs[0].shape if self.outputs else ()
        return {
            "index": self.index, "module": self.module, "module_type": self.module_type,
            "aten": self.aten, "kind": self.kind, "in_shape": "x".join(map(str, first_in)),
            "out_shape": "x".join(map(str, first_out)), "flops": self.flops,
            "elem_flops": self.elem_flops, "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out, "bytes_weight": self.bytes_weight,
            **{c: self.shape.get(c) for c in SHAPE_COLUMNS},
        }


# --------------------------------------------------------------------------------------------
# Classification and counting
# --------------------------------------------------------------------------------------------


def _name(func: Any) -> str:
    """``aten.add_.Tensor`` → ``add_``."""
    text = str(func)
    return text.split(".")[1] if text.startswith("aten.") else text


def _tensors(obj: Any) -> list[Any]:
    import torch

    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in _tensors(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in _tensors(item)]
    return []


def _meta(t: Any, params: frozenset[int]) -> TensorMeta:
    return TensorMeta(tuple(int(s) for s in t.shape), tuple(int(s) for s in t.stride()),
                      str(t.dtype).removeprefix("torch."), int(t.element_size()),
                      t.untyped_storage().data_ptr() in params)


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[-1])
    return int(value), int(value)


def _conv(args: Sequence[Any], out: TensorMeta) -> tuple[str, dict[str, int], float]:
    """Kind (conv2d / dwconv / gconv), shape and FLOPs of a 2-D convolution call."""
    x, w = args[0], args[1]
    if x.dim() != 4:
        raise ValueError(f"only 2-D convolutions are supported, got input {tuple(x.shape)}")
    stride, padding = _pair(args[3]), _pair(args[4])
    groups = int(args[8]) if len(args) > 8 else 1
    b, c_in, h, wd = (int(v) for v in x.shape)
    c_out, c_per_group, k_h, k_w = (int(v) for v in w.shape)
    h_out, w_out = out.shape[2], out.shape[3]
    flops = 2.0 * b * c_out * h_out * w_out * c_per_group * k_h * k_w
    kind = "conv2d" if groups == 1 else ("dwconv" if c_per_group == 1 else "gconv")
    shape = dict(batch=b, c_in=c_in, c_out=c_out, h=h, w=wd, k_h=k_h, k_w=k_w,
                 stride=stride[0], padding=padding[0], groups=groups)
    return kind, shape, flops


def _dense(rows: int, k: int, n: int) -> dict[str, int]:
    return dict(batch=int(rows), c_in=int(k), c_out=int(n), h=1, w=1, k_h=1, k_w=1, stride=1,
                padding=0, groups=1)


def _classify(func: Any, args: Sequence[Any],
              outs: Sequence[TensorMeta]) -> tuple[str, dict[str, int], float]:
    """Kind, shape columns and matrix-product FLOPs of one ATen call (real tensors in ``args``)."""
    name = _name(func)
    kind = _KIND_OF.get(name, "other")
    if kind == "conv2d":
        return _conv(args, outs[0])
    if name == "addmm":  # bias, x (m×k), w (k×n)
        m, k = (int(v) for v in args[1].shape)
        n = int(args[2].shape[1])
        return kind, _dense(m, k, n), 2.0 * m * k * n
    if kind == "matmul":
        a, bm = (args[1], args[2]) if name == "baddbmm" else (args[0], args[1])
        batch = int(a.shape[0]) if a.dim() == 3 else 1
        m, k, n = int(a.shape[-2]), int(a.shape[-1]), int(bm.shape[-1])
        return kind, _dense(batch * m, k, n), 2.0 * batch * m * k * n
    if kind == "attention":  # query, key, value (B, L, E), embed_dim, num_heads, ...
        b, l_q, e = (int(v) for v in args[0].shape)
        l_k = int(args[1].shape[1])
        heads = int(args[4])
        flops = 2.0 * b * (l_q * e * e + 2 * l_k * e * e)  # Q, K, V projections
        flops += 2.0 * 2 * b * l_q * l_k * e  # Q·Kᵀ and P·V over all heads
        flops += 2.0 * b * l_q * e * e  # output projection
        return kind, dict(batch=b, heads=heads, seq=l_q, seq_k=l_k, embed=e), flops
    if kind == "sdpa":  # query (B, H, L, E_h), key (B, H, S, E_h), value (B, H, S, E_v)
        q, k_, v = args[0], args[1], args[2]
        b, heads, l_q, e_h = (int(x) for x in q.shape)
        l_k, e_v = int(k_.shape[-2]), int(v.shape[-1])
        if e_v != e_h:
            raise ValueError("attention with different query and value widths is not supported")
        flops = 2.0 * b * heads * l_q * l_k * (e_h + e_v)
        return kind, dict(batch=b, heads=heads, seq=l_q, seq_k=l_k, embed=heads * e_h), flops
    return kind, {}, 0.0


def _elem_flops(kind: str, args: Sequence[Any], shape: dict[str, int],
                ins: Sequence[TensorMeta], outs: Sequence[TensorMeta]) -> float:
    out_n = outs[0].numel if outs else 0
    if kind in ("maxpool", "avgpool"):
        k_h, k_w = _pair(args[1])
        return float(k_h * k_w * out_n)
    if kind in ("attention", "sdpa"):
        return ELEM_FLOPS_PER_OUTPUT["softmax"] * softmax_numel(shape)
    if kind in ELEM_FLOPS_PER_INPUT:
        return ELEM_FLOPS_PER_INPUT[kind] * (ins[0].numel if ins else 0)
    return ELEM_FLOPS_PER_OUTPUT.get(kind, 0.0) * out_n


def softmax_numel(shape: dict[str, Any]) -> int:
    """Elements of the attention scores of an ``attention``/``sdpa`` op: B · heads · L · S."""
    return int(shape["batch"]) * int(shape["heads"]) * int(shape["seq"]) * int(shape["seq_k"])


def _bytes(kind: str, ins: Sequence[TensorMeta], outs: Sequence[TensorMeta],
           in_ptrs: Sequence[int]) -> tuple[int, int, int]:
    if kind in FREE_KINDS:
        return 0, 0, 0
    seen: set[tuple[int, tuple[int, ...], tuple[int, ...]]] = set()
    b_in = b_w = 0
    for meta, ptr in zip(ins, in_ptrs):
        key = (ptr, meta.shape, meta.stride)
        if key in seen:  # x * x, or self-attention's query = key = value
            continue
        seen.add(key)
        b_in += meta.nbytes
        if meta.is_param:
            b_w += meta.nbytes
    return b_in, sum(m.nbytes for m in outs), b_w


# --------------------------------------------------------------------------------------------
# Capture
# --------------------------------------------------------------------------------------------


def capture(module: Any, inputs: Any, *, drop_free: bool = False) -> list[OpRecord]:
    """Every ATen call of ``module(*inputs)`` under ``torch.no_grad()`` (module docstring).

    ``inputs`` is a tensor or a tuple of tensors; put ``module`` in eval mode first. With
    ``drop_free`` the metadata-only ops (:data:`FREE_KINDS`) are left out.
    """
    args_in = inputs if isinstance(inputs, tuple) else (inputs,)
    return capture_fn(lambda: module(*args_in), module, drop_free=drop_free)


def capture_fn(fn: Callable[[], Any], module: Any = None, *,
               drop_free: bool = False) -> list[OpRecord]:
    """Every ATen call of ``fn()`` under ``torch.no_grad()``; module names from ``module``.

    Without ``module`` every op has module ``""`` and no tensor counts as a weight.
    """
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    tensors = [] if module is None else [*module.parameters(), *module.buffers()]
    params = frozenset(t.untyped_storage().data_ptr() for t in tensors)
    stack: list[tuple[str, str]] = [("", type(module).__name__ if module is not None else "")]
    records: list[OpRecord] = []

    class _Mode(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: N805
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            name = _name(func)
            in_t = _tensors(args) + _tensors(kwargs)
            out_t = _tensors(out)
            ins = tuple(_meta(t, params) for t in in_t)
            outs = tuple(_meta(t, params) for t in out_t)
            kind, shape, flops = _classify(func, args, outs)
            if kind == "attention" and len(out_t) > 1:
                outs = outs[:1]  # the attention weights output is empty unless asked for
            if name == "copy_":  # copy_(dst, src): dst is written, not read
                ins, in_t = ins[1:], in_t[1:]
            in_ptrs = [t.untyped_storage().data_ptr() for t in in_t]
            if (kind == "view" and name in ("reshape", "flatten") and out_t and in_t
                    and out_t[0].untyped_storage().data_ptr() != in_ptrs[0]):
                kind = "copy"  # a reshape of data that cannot be viewed copies it
            b_in, b_out, b_w = _bytes(kind, ins, outs, in_ptrs)
            mod, mtype = stack[-1]
            records.append(OpRecord(
                index=len(records), module=mod, module_type=mtype, aten=str(func), kind=kind,
                inputs=ins, outputs=outs, flops=flops,
                elem_flops=_elem_flops(kind, args, shape, ins, outs), bytes_in=b_in,
                bytes_out=b_out, bytes_weight=b_w, shape=shape))
            return out

    handles = []
    for name, sub in (module.named_modules() if module is not None else []):
        if not name:
            continue

        def pre(_m: Any, _inp: Any, name: str = name, tname: str = type(sub).__name__) -> None:
            stack.append((name, tname))

        def post(_m: Any, _inp: Any, _out: Any) -> None:
            stack.pop()

        handles.append(sub.register_forward_pre_hook(pre))
        handles.append(sub.register_forward_hook(post))
    try:
        with torch.no_grad(), _Mode():
            fn()
    finally:
        for h in handles:
            h.remove()
    if drop_free:
        records = [r for r in records if not r.free]
    return records


def op_table(records: Iterable[OpRecord]) -> Any:
    """The op table: one row per record, columns :data:`OP_TABLE_COLUMNS` (a pandas frame;
    FLOPs are whole numbers, ``int64``; shape columns with empty cells are pandas' nullable
    ``Int64``)."""
    import pandas as pd

    frame = pd.DataFrame([r.row() for r in records], columns=list(OP_TABLE_COLUMNS))
    for col in ("flops", "elem_flops"):  # whole numbers: written exactly, however large
        frame[col] = frame[col].round().astype("int64")
    for col in SHAPE_COLUMNS:
        frame[col] = frame[col].astype("Int64")
    return frame
