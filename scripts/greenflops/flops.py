"""FLOPs of dense layers, 2-D convolutions and GEMM, as counted in Asperti et al. (2021).

Convention (the paper's, Section 2): one multiply-add is **2 FLOPs**; bias additions and other
lower-order terms are left out (eq. 3 for dense layers, eq. 4 for convolutions). Tools that count
multiply-accumulates (MACs) report half of this: convert with :func:`flops_from_macs`.
"""

from __future__ import annotations

__all__ = [
    "FLOPS_PER_MAC",
    "conv2d_flops",
    "conv2d_output_size",
    "dense_flops",
    "flops_from_macs",
    "gemm_flops",
    "macs_from_flops",
]

#: FLOPs per multiply-accumulate (one multiplication plus one addition).
FLOPS_PER_MAC = 2


def _positive(name: str, value: int) -> None:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def flops_from_macs(macs: float) -> float:
    """FLOPs for a count of multiply-accumulates (1 MAC = 2 FLOPs)."""
    return FLOPS_PER_MAC * macs


def macs_from_flops(flops: float) -> float:
    """Multiply-accumulates for a FLOPs count (inverse of :func:`flops_from_macs`)."""
    return flops / FLOPS_PER_MAC


def gemm_flops(m: int, k: int, n: int) -> int:
    """FLOPs of C = A·B with A (m×k) and B (k×n): ``2·m·k·n`` (the paper's leading term)."""
    for name, value in (("m", m), ("k", k), ("n", n)):
        _positive(name, value)
    return FLOPS_PER_MAC * m * k * n


def dense_flops(d_in: int, d_out: int, batch: int = 1) -> int:
    """FLOPs of a dense (linear) layer, eq. 3: ``2·D_in·D_out`` per sample, times ``batch``."""
    return gemm_flops(batch, d_in, d_out)


def conv2d_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output length along one spatial axis: ``floor((size + 2·padding − kernel) / stride) + 1``."""
    _positive("size", size)
    _positive("kernel", kernel)
    _positive("stride", stride)
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding!r}")
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError(
            f"kernel {kernel} with padding {padding} does not fit an input of size {size}"
        )
    return out


def conv2d_flops(
    c_in: int,
    c_out: int,
    h: int,
    w: int,
    k_h: int,
    k_w: int | None = None,
    stride: int = 1,
    padding: int | str = "same",
    batch: int = 1,
    groups: int = 1,
) -> int:
    """FLOPs of a 2-D convolution, eq. 4: ``2·K_h·K_w·(C_in/groups)·H_out·W_out·C_out`` (times
    ``batch``).

    ``h``/``w`` are the *input* spatial sizes. ``padding`` is an int (both sides, both axes) or
    ``"same"`` (stride 1 only: output size = input size, as in the paper's experiments).
    ``groups`` splits the channels into groups convolved separately: each output channel reads
    ``C_in / groups`` input channels (``groups = C_in``: a depthwise convolution, ``2·K·H_out·
    W_out·C_out`` FLOPs); both channel counts must be divisible by it.
    """
    k_w = k_h if k_w is None else k_w
    for name, value in (("c_in", c_in), ("c_out", c_out), ("batch", batch), ("groups", groups)):
        _positive(name, value)
    if c_in % groups or c_out % groups:
        raise ValueError(f"groups {groups} does not divide c_in {c_in} and c_out {c_out}")
    if padding == "same":
        if stride != 1:
            raise ValueError("padding='same' is defined here for stride 1 only")
        _positive("h", h)
        _positive("w", w)
        _positive("k_h", k_h)
        _positive("k_w", k_w)
        h_out, w_out = h, w
    else:
        h_out = conv2d_output_size(h, k_h, stride, int(padding))
        w_out = conv2d_output_size(w, k_w, stride, int(padding))
    return FLOPS_PER_MAC * k_h * k_w * (c_in // groups) * h_out * w_out * c_out * batch
