"""The timing loop: how one call (one layer, or one network's forward pass) is timed.

Blocks of calls are timed by ``torch.utils.benchmark.Timer`` (its ``_timeit`` loop, whose clock
synchronises CUDA; MPS is synchronised before each block): one untimed warm-up call (lazy
initialisation, cuDNN autotuning), ``warmup - 1`` more warm-up calls, then one timed calibration
call; then blocks of ``number`` calls, ``number`` chosen so a block lasts about
``min_run_time / target_blocks`` (≥ 1 ms). A calibration call that already lasts that long is the
first block, and a timed warm-up call after the first one that lasts that long is taken as the
calibration call (slow layers cost one untimed call). Blocks run until at least ``min_blocks``
blocks and ``min_run_time`` seconds were timed and the blocks' IQR/median is below ``threshold``,
or until ``max_run_time`` seconds (the adaptive stopping of ``Timer.adaptive_autorange``).
``time_ms`` is the median over blocks of the per-call time (block time / number), ``time_ms_iqr``
the interquartile range of those per-block means (not of single calls), and ``runs`` the number
of timed calls (blocks × number). Energy (NVML, :mod:`greenflops.timing.energy`) is read just
before the first and just after the last timed block.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from greenflops.timing.contract import DTYPES
from greenflops.timing.energy import energy_mj

__all__ = [
    "TimingResult",
    "TimingSettings",
    "prepare_backends",
    "synchronize",
    "time_call",
    "torch_dtype",
]


@dataclass(frozen=True)
class TimingSettings:
    """How each point is timed. See the module docstring for the loop."""

    min_run_time: float = 0.2
    max_run_time: float = 2.0
    threshold: float = 0.1
    warmup: int = 1
    min_blocks: int = 4
    target_blocks: int = 10
    dtype: str = "float32"
    channels_last: bool = False
    cudnn_benchmark: bool = True
    memory_cap_bytes: int | None = None
    energy: bool = True


@dataclass
class TimingResult:
    """Per-call time statistics of one configuration (seconds) and its energy (joules per call)."""

    median_s: float
    iqr_s: float
    runs: int
    blocks: int
    number: int
    energy_j: float | None = None
    block_times_s: list[float] = field(default_factory=list)



def torch_dtype(dtype: str) -> Any:
    """The torch dtype of a contract dtype name (``tf32`` is float32 with TF32 math)."""
    import torch

    return getattr(torch, DTYPES[dtype].torch)


def prepare_backends(device: Any, settings: TimingSettings) -> dict[str, Any]:
    """Set TF32 and cudnn.benchmark as ``settings`` ask, and return what is now in force.

    ``float32`` means IEEE fp32 everywhere: PyTorch's default lets cuDNN convolutions use TF32,
    so it is switched off explicitly; ``tf32`` switches it on for matmuls and convolutions.
    """
    import torch

    if settings.dtype == "tf32" and device.type != "cuda":
        raise ValueError("dtype 'tf32' is a CUDA option; use float32 on this device")
    precision = "tf32" if settings.dtype == "tf32" else "ieee"
    facts: dict[str, Any] = {}
    matmul = torch.backends.cuda.matmul
    conv = getattr(torch.backends.cudnn, "conv", None)
    if hasattr(matmul, "fp32_precision") and conv is not None and hasattr(conv, "fp32_precision"):
        matmul.fp32_precision = precision
        conv.fp32_precision = precision
        facts["tf32_matmul"] = matmul.fp32_precision == "tf32"
        facts["tf32_cudnn"] = conv.fp32_precision == "tf32"
    else:  # PyTorch before the fp32_precision API
        matmul.allow_tf32 = precision == "tf32"
        torch.backends.cudnn.allow_tf32 = precision == "tf32"
        facts["tf32_matmul"] = bool(matmul.allow_tf32)
        facts["tf32_cudnn"] = bool(torch.backends.cudnn.allow_tf32)
    torch.backends.cudnn.benchmark = bool(settings.cudnn_benchmark)
    facts["cudnn_benchmark"] = bool(torch.backends.cudnn.benchmark)
    return facts


def synchronize(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def time_call(fn: Callable[[], Any], device: Any, settings: TimingSettings,
              energy_handle: Any | None = None) -> TimingResult:
    """Time ``fn`` (one call = one layer evaluation) as the module docstring describes."""
    import torch
    from torch.utils.benchmark import Timer

    calls = [0]

    def counted() -> Any:
        calls[0] += 1
        return fn()

    # Timer._timeit(n): n calls between two clock reads that synchronise CUDA (the loop that
    # Timer.blocked_autorange/adaptive_autorange use), garbage collector off.
    timer = Timer(stmt="fn()", globals={"fn": counted}, num_threads=torch.get_num_threads())

    def _timed_block(number: int) -> float:
        if device.type == "mps":  # Timer's clock synchronises CUDA only
            torch.mps.synchronize()
        return max(timer._timeit(number), 1e-9)

    block_target = max(settings.min_run_time / max(settings.target_blocks, 1), 1e-3)
    _timed_block(1)  # the first warm-up call: never timed
    # Further warm-up calls are timed; one that already fills a block is taken as the
    # calibration call (a slow layer is warm after one call, and costs fewer untimed calls).
    first, energy0 = 0.0, None
    for _ in range(max(settings.warmup, 1)):
        energy0 = energy_mj(energy_handle)
        calls[0] = 0
        first = _timed_block(1)  # the calibration call, if the last
        if first >= block_target:
            break
    times: list[float] = []
    if first >= block_target:  # the calibration call is a block of its own
        number = 1
        times.append(first)
    else:  # (still counted in ``calls``: it lies inside the energy window)
        number = max(1, math.ceil(block_target / max(first, 1e-9)))
    timed = sum(times)
    while True:
        enough = len(times) >= settings.min_blocks and timed >= settings.min_run_time
        if enough and _rel_iqr(times) < settings.threshold:
            break
        if len(times) >= settings.min_blocks and timed >= settings.max_run_time:
            break
        block = _timed_block(number)
        times.append(block / number)
        timed += block
    energy1 = energy_mj(energy_handle)
    q1, median, q3 = _quartiles(times)
    energy = None
    if energy0 is not None and energy1 is not None and energy1 >= energy0 and calls[0]:
        energy = (energy1 - energy0) / 1000.0 / calls[0]
    return TimingResult(median_s=median, iqr_s=q3 - q1, runs=number * len(times),
                        blocks=len(times), number=number, energy_j=energy, block_times_s=times)


def _quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """First quartile, median and third quartile (linear interpolation, as numpy's default)."""
    ordered = sorted(values)

    def q(frac: float) -> float:
        pos = frac * (len(ordered) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(ordered) - 1)
        return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)

    return q(0.25), q(0.5), q(0.75)


def _rel_iqr(values: Sequence[float]) -> float:
    if len(values) < 2:
        return math.inf
    q1, median, q3 = _quartiles(values)
    return (q3 - q1) / median if median > 0 else math.inf


