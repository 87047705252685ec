"""What the GPU time models know of the device: SM count, peak FLOP/s per dtype, bandwidth.

:func:`device_facts` reads them from the device's ``device.yaml`` first (the sweeps record
``multiprocessors`` on CUDA, the measured matmul ``peak_gflops`` of the dataset's dtype and the
measured copy bandwidth ``mem_bandwidth_gbs``; a CPU's ``threads`` play the SMs), then from its
row of the curated table ``data/raw/tables/gpu_specs.csv`` (``gpu_spec``, or a lookup by name:
:func:`greenflops.timing.gpu_specs.spec_of_device`) for what ``device.yaml`` lacks. Each fact
records where it came from. Which model term uses which fact, and what happens without it
(nothing is skipped: the terms fall back, :mod:`greenflops.alpha.gpu_models`):

* ``n_sm`` — wave quantisation and split-K. Missing: waves are continuous (``tiles / n_sm``
  not rounded up) and split-K is off.
* ``peak_gflops`` of the dataset's dtype — start value and upper bound (1.25 ×) of the fitted
  throughput ``P``. Missing: ``P`` starts from the data (1.5 × the fastest measured GFLOP/s) and
  is bounded only at 10 × that.
* ``bandwidth_gbs`` — start and upper bound (1.5 ×) of the fitted bandwidth ``BW``. Missing:
  ``BW`` starts at peak / 10 (a machine balance of 10 FLOP/byte), bounded at 10 × that.
* ``call_floor_ms`` — the measured per-call floor (``device.yaml``, recorded by the sweeps):
  every fitted per-call overhead is at most this (and at most the fold's fastest layer).
  Missing: the fastest layer alone bounds it, and a fold without small layers may fit an
  overhead far above the device's floor.
* ``tensor_cores`` — fp16/bf16 channel counts that are not multiples of 8 are padded (the
  table lists a tensor-core peak for the dtype).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PEAK_HEADROOM", "DeviceFacts", "device_facts", "facts_from_document"]

_KIND = {"cpu": "cpu", "cuda": "gpu", "mps": "gpu"}


#: No layer runs faster than this × the device's peak FLOP/s (a table's peak is at the advertised
#: boost clock, which GPUs exceed; a measured matmul peak is a little below what a kernel can
#: reach): the upper bound of a fitted throughput, and the test of a timing that cannot have
#: executed its FLOPs (:meth:`DeviceFacts.faster_than_peak`).
PEAK_HEADROOM = 1.25


@dataclass(frozen=True)
class DeviceFacts:
    """Facts of one device for one dtype (any may be None when unknown), with their sources."""

    kind: str = "gpu"  #: "gpu" or "cpu" (which tile sets the library uses); "other" as gpu
    n_sm: int | None = None  #: streaming multiprocessors (GPU) or threads (CPU)
    peak_gflops: float | None = None  #: peak of the dataset's dtype, GFLOP/s
    bandwidth_gbs: float | None = None
    tensor_cores: bool = False  #: half-precision channels padded to multiples of 8
    sources: dict[str, str] = field(default_factory=dict)  #: fact -> where it came from
    call_floor_ms: float | None = None  #: measured per-call floor (device.yaml), ms
    #: the datasheet's fastest rate for the dtype, any unit (spec table only: an upper bound)
    ceiling_gflops: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The facts as plain values (params.yaml ``device_facts``; ``call_floor_ms`` only when
        known)."""
        out = {"kind": self.kind, "n_sm": self.n_sm, "peak_gflops": self.peak_gflops,
               "bandwidth_gbs": self.bandwidth_gbs, "tensor_cores": self.tensor_cores}
        if self.call_floor_ms is not None:
            out["call_floor_ms"] = self.call_floor_ms
        if self.ceiling_gflops is not None:
            out["ceiling_gflops"] = self.ceiling_gflops
        return {**out, "sources": dict(self.sources)}

    def faster_than_peak(self, flops: Any, time_ms: Any, k_area: Any) -> Any:
        """Layers with a 1×1 kernel (dense layers included) whose FLOPs in ``time_ms`` would run
        faster than :data:`PEAK_HEADROOM` × the datasheet's ceiling: no execution of those FLOPs,
        so no timing of that layer. Larger kernels are never flagged (Winograd and FFT
        algorithms do fewer multiplications than their FLOPs count), nor anything without a
        datasheet ceiling (a measured peak is no upper bound)."""
        import numpy as np

        flops = np.asarray(flops, dtype=float)
        if not self.ceiling_gflops:
            return np.zeros(len(flops), bool)
        rate_gflops = flops / (np.asarray(time_ms, dtype=float) * 1e6)
        return (np.asarray(k_area) <= 1) & (rate_gflops > PEAK_HEADROOM * self.ceiling_gflops)

    def fastest_call_ms(self, time_ms: Any) -> float:
        """The bound of a per-call overhead fitted on measured ``time_ms``: the fastest of them,
        or the measured floor when that is faster."""
        import numpy as np

        fastest = float(np.min(time_ms))
        return min(fastest, self.call_floor_ms) if self.call_floor_ms else fastest


def device_facts(meta: Mapping[str, Any] | None, spec: Any | None = None,
                 dtypes: Sequence[str] = ()) -> DeviceFacts:
    """The facts of a device from its ``device.yaml`` (``meta``) and its spec row (``spec``, a
    :class:`greenflops.timing.gpu_specs.GpuSpec` or None), for data of ``dtypes`` (one dtype:
    its peak; several: no peak).

    ``device.yaml`` wins where it has a fact: ``multiprocessors`` (or ``threads`` on a CPU),
    ``peak_gflops`` when its ``peak_gflops_dtype`` is absent or the dataset's dtype,
    ``mem_bandwidth_gbs``, ``call_floor_ms``. The spec row fills the rest: ``sm_count``, the
    dtype's peak (:meth:`~greenflops.timing.gpu_specs.GpuSpec.peak_tflops`),
    ``memory_bandwidth_gbs``.
    """
    meta = dict(meta or {})
    kind = _KIND.get(str(meta.get("device_type")), "gpu")
    dtype = next(iter(set(dtypes))) if len(set(dtypes)) == 1 else None
    sources: dict[str, str] = {}
    row = f"gpu_specs.csv row {spec.name!r}" if spec is not None else ""

    n_sm = None
    if meta.get("multiprocessors"):
        n_sm, sources["n_sm"] = int(meta["multiprocessors"]), "device.yaml multiprocessors"
    elif kind == "cpu" and meta.get("threads"):
        n_sm, sources["n_sm"] = int(meta["threads"]), "device.yaml threads (CPU)"
    elif spec is not None and spec.sm_count:
        n_sm, sources["n_sm"] = int(spec.sm_count), f"{row} sm_count"

    peak = None
    peak_dtype = meta.get("peak_gflops_dtype")
    if meta.get("peak_gflops") and dtype is not None and peak_dtype in (None, dtype):
        peak, sources["peak_gflops"] = float(meta["peak_gflops"]), "device.yaml peak_gflops"
    elif spec is not None and dtype is not None and spec.peak_tflops(dtype):
        peak = 1e3 * float(spec.peak_tflops(dtype))
        sources["peak_gflops"] = f"{row} peak of {dtype}"

    bandwidth = None
    if meta.get("mem_bandwidth_gbs"):
        bandwidth = float(meta["mem_bandwidth_gbs"])
        sources["bandwidth_gbs"] = "device.yaml mem_bandwidth_gbs"
    elif spec is not None and spec.memory_bandwidth_gbs:
        bandwidth = float(spec.memory_bandwidth_gbs)
        sources["bandwidth_gbs"] = f"{row} memory_bandwidth_gbs"

    tensor = False
    if spec is not None and dtype in ("float16", "bfloat16"):
        tensor = bool(spec.fp16_tensor_tflops if dtype == "float16" else spec.bf16_tensor_tflops)
        if tensor:
            sources["tensor_cores"] = f"{row} (a tensor-core peak for {dtype})"
    ceiling = None
    if spec is not None and dtype is not None and spec.ceiling_tflops(dtype):
        ceiling = 1e3 * float(spec.ceiling_tflops(dtype))
        sources["ceiling_gflops"] = f"{row} fastest unit for {dtype}"
    floor = None
    if meta.get("call_floor_ms"):
        floor, sources["call_floor_ms"] = float(meta["call_floor_ms"]), "device.yaml call_floor_ms"
    for name in ("n_sm", "peak_gflops", "bandwidth_gbs"):
        sources.setdefault(name, "unknown: the models fall back (greenflops.alpha.device_facts)")
    return DeviceFacts(kind if kind in ("gpu", "cpu") else "gpu", n_sm, peak, bandwidth, tensor,
                       sources, floor, ceiling)


def facts_from_document(doc: Mapping[str, Any] | None) -> DeviceFacts | None:
    """The facts a fit used, from its params.yaml (``device_facts``), to predict new layers."""
    facts = (doc or {}).get("device_facts")
    if not facts:
        return None
    return DeviceFacts(str(facts.get("kind", "gpu")), facts.get("n_sm"), facts.get("peak_gflops"),
                       facts.get("bandwidth_gbs"), bool(facts.get("tensor_cores", False)),
                       dict(facts.get("sources") or {}), facts.get("call_floor_ms"))
