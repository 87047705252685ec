"""Timing layers on the device at hand: device selection and identity, device facts, the timing
loop (``torch.utils.benchmark``), NVML energy, and resumable sweeps.

Device identity
    :func:`hardware_id` names the bare device (``cuda-nvidia-h100-80gb-hbm3``,
    ``mps-apple-m2-pro``, ``cpu-amd-epyc-2threads``: CPU ids carry the torch thread count, since
    timings depend on it). :func:`dataset_id` adds the options that change timings but are not
    columns of the contract (``-bf16``/``-fp16``/``-tf32``, ``-cl`` for channels-last) and the
    profile (``-quick``; none for ``paper``); it names the folder ``data/raw/timings/<device_id>/``.

Timing (:func:`time_call`)
    Blocks of calls timed by ``torch.utils.benchmark.Timer`` (its ``_timeit`` loop, whose clock
    synchronises CUDA; MPS is synchronised before each block): one untimed warm-up call
    (lazy initialisation, cuDNN autotuning), ``warmup - 1`` more warm-up calls, then one timed
    calibration call; then blocks of ``number`` calls, ``number`` chosen so a block lasts about
    ``min_run_time / target_blocks`` (≥ 1 ms). A calibration call that already lasts that long is
    the first block, and a timed warm-up call after the first one that lasts that long is taken
    as the calibration call (slow layers cost one untimed call). Blocks run until at least
    ``min_blocks`` blocks and ``min_run_time`` seconds were timed and the blocks' IQR/median is
    below ``threshold``, or until ``max_run_time`` seconds (the adaptive stopping of
    ``Timer.adaptive_autorange``). ``time_ms`` is the median over blocks of the per-call time
    (block time / number), ``time_ms_iqr`` the interquartile range of those per-block means (not
    of single calls), and ``runs`` the number of timed calls (blocks × number).

Inputs (:class:`TensorPool`)
    Inputs, weights and bias hold uniform random values in [-1, 1) (never zeros, denormals or
    NaNs, which change timings). On the CPU a large tensor repeats one block of 65521 random
    values (drawing every element costs more than timing big layers); a sweep reuses the
    previous point's tensors whose shapes it needs again (e.g. the weight of ``dense_batch``).

Energy
    On NVIDIA GPUs, NVML's total-energy counter (``nvmlDeviceGetTotalEnergyConsumption``,
    millijoules) is read just before the first and just after the last timed block; the
    difference divided by ``runs`` is ``energy_j``. Elsewhere (or when NVML is unavailable) it is
    empty. The counter's resolution is coarse (updates every few to tens of ms), so GPU profiles time
    each point for at least 0.5 s.

Resume (:func:`run_sweep`)
    Each finished point is appended as one JSON line (flushed and fsync'ed) to
    ``<sweep>.partial.jsonl`` beside the output. A rerun keeps the points already there (dropping a
    torn last line), measures only the others, and at the end writes the CSV atomically in grid
    order, then the ``<sweep>.meta.yaml`` sidecar, then deletes the partial file. A point that does
    not fit in memory (estimated above the cap, or an out-of-memory error) is recorded as skipped
    with its reason in the sidecar, and the sweep goes on.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import math
import os
import platform
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from greenflops.outputs import atomic_write_text
from greenflops.sweeps import CONFIG_COLUMNS, KEY_COLUMNS, point_key

__all__ = [
    "DTYPE_SUFFIX",
    "TIMING_COLUMNS",
    "DeviceMismatchError",
    "SweepTarget",
    "start_timing_job",
    "TensorPool",
    "TimingSettings",
    "TimingResult",
    "check_device",
    "resolve_target",
    "settings_from_config",
    "cpu_model_name",
    "dataset_id",
    "device_facts",
    "estimate_bytes",
    "hardware_id",
    "measure_bandwidth_gbs",
    "measure_peak_gflops",
    "prepare_backends",
    "read_partial",
    "resolve_device",
    "run_sweep",
    "slug",
    "time_call",
    "time_point",
]

log = logging.getLogger("greenflops")

#: Columns of a timing file, exactly as the contract (workflow/schemas/timings.schema.yaml) fixes.
TIMING_COLUMNS: tuple[str, ...] = CONFIG_COLUMNS + ("time_ms", "time_ms_iqr", "runs", "energy_j")

#: Folder suffix of each dtype option (float32 has none).
DTYPE_SUFFIX = {"float32": "", "tf32": "-tf32", "bfloat16": "-bf16", "float16": "-fp16"}

_ELEMENT_BYTES = {"float32": 4, "tf32": 4, "bfloat16": 2, "float16": 2, "float64": 8}


class DeviceMismatchError(RuntimeError):
    """The device found at run time is not the one whose folder the job was asked to write."""


# --- device identity --------------------------------------------------------------------------


def slug(text: str) -> str:
    """Lower-case, ASCII, hyphen-separated form of a device name for use in a folder name.

    Trademark marks, clock speeds ("@ 2.60GHz") and the words CPU/Processor are dropped:
    ``"Intel(R) Core(TM) i7-9850H CPU @ 2.60GHz"`` → ``"intel-core-i7-9850h"``.
    """
    text = text.split("@")[0].lower()
    text = re.sub(r"\((r|tm|c)\)", " ", text)
    text = re.sub(r"[^a-z0-9]+", "-", text)
    words = [w for w in text.split("-") if w and w not in {"cpu", "processor"}]
    return "-".join(words) or "unknown"


def cpu_model_name() -> str:
    """The CPU's marketing name (Linux /proc/cpuinfo, macOS sysctl, else platform.processor())."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if platform.system() == "Darwin":
        import subprocess

        try:
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                 capture_output=True, text=True, check=True, timeout=5)
            if out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or "unknown"


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def resolve_device(spec: str = "auto") -> Any:
    """``torch.device`` for ``auto`` (cuda > mps > cpu) or an explicit ``cpu``/``cuda[:i]``/``mps``.

    Raises ``RuntimeError`` when the device asked for is not available here.
    """
    import torch

    spec = str(spec).strip().lower()
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(spec)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"device '{spec}' asked for, but torch sees no CUDA device here")
        if device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(f"device '{spec}' asked for, but MPS is not available here")
    elif device.type not in {"cpu", "cuda", "mps"}:
        raise RuntimeError(f"unsupported device '{spec}' (use auto, cpu, cuda, cuda:<i> or mps)")
    return device


def _device_name(device: Any) -> str:
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_model_name()  # MPS: the Apple chip's name ("Apple M2 Pro")


def hardware_id(device: Any, threads: int | None = None) -> str:
    """Stable id of the bare device: ``<type>-<slug of its name>``, plus ``-<n>threads`` on CPU."""
    name = slug(_device_name(device))
    if device.type == "cpu":
        n = int(threads) if threads else usable_cpus()
        return f"cpu-{name}-{n}thread{'s' if n != 1 else ''}"
    return f"{device.type}-{name}"


def dataset_id(hardware: str, dtype: str = "float32", channels_last: bool = False,
               profile: str = "paper") -> str:
    """Folder name of a dataset: hardware id, then dtype/channels-last options, then the profile
    (``-quick``; the ``paper`` profile adds no suffix)."""
    if dtype not in DTYPE_SUFFIX:
        raise ValueError(f"dtype must be one of {sorted(DTYPE_SUFFIX)}, got {dtype!r}")
    return (hardware + DTYPE_SUFFIX[dtype] + ("-cl" if channels_last else "")
            + ("" if profile == "paper" else f"-{profile}"))


@dataclass(frozen=True)
class SweepTarget:
    """Where a sweep run writes and on what it must run, decided when the workflow loads."""

    dataset: str  # folder name under data/raw/timings/
    hardware: str  # hardware id the job must find at run time
    device: str  # device spec given to resolve_device at run time
    device_type: str  # cpu, cuda or mps
    threads: int  # torch CPU threads


def resolve_target(cfg: Mapping[str, Any], profile: str) -> SweepTarget:
    """The sweep target of config section ``sweeps`` for ``profile``.

    With ``device_id: auto`` the device is looked up here (imports torch; no timing). With an
    explicit ``device_id`` nothing is looked up: that id is checked by the job on its node.
    """
    threads = usable_cpus() if cfg.get("threads", "auto") == "auto" else int(cfg["threads"])
    spec = str(cfg.get("device", "auto"))
    dtype, channels_last = cfg.get("dtype", "float32"), bool(cfg.get("channels_last", False))
    given = str(cfg.get("device_id", "auto"))
    if given != "auto":
        device_type = spec.split(":")[0] if spec != "auto" else given.split("-")[0]
        if device_type not in {"cpu", "cuda", "mps"}:
            raise ValueError(f"sweeps.device_id {given!r}: cannot tell its device type; "
                             "set sweeps.device (cpu, cuda, mps) too")
        hardware = given
        if device_type == "cpu" and spec == "auto":
            spec = "cpu"
    else:
        try:
            device = resolve_device(spec)
        except RuntimeError as exc:
            raise ValueError(f"{exc}. On a cluster, whose login node cannot see the GPU, set "
                             "sweeps.device_id (and sweeps.device) explicitly") from None
        device_type = device.type
        hardware = hardware_id(device, threads)
    if dtype == "tf32" and device_type != "cuda":
        raise ValueError("sweeps.dtype 'tf32' needs a CUDA device")
    return SweepTarget(dataset=dataset_id(hardware, dtype, channels_last, profile),
                       hardware=hardware, device=spec, device_type=device_type, threads=threads)


def start_timing_job(job: Mapping[str, Any], log: Any) -> tuple[Any, TimingSettings]:
    """Common start of a timing job (rules sweep and whole_networks): threads, device, identity.

    ``job`` is the JSON the rule passes (``run.target`` names device, threads and hardware id).
    Sets torch's threads, resolves the device, refuses to measure a device other than the one
    the dataset is named after (:func:`check_device`), and returns the device and the profile's
    timing settings for it.
    """
    import torch

    run = job["run"]
    target = run["target"]
    if job["threads"] < target["threads"]:
        log.warning("job has %d cores but the device id says %d threads: timings may suffer",
                    job["threads"], target["threads"])
    torch.set_num_threads(target["threads"])
    device = resolve_device(target["device"])
    check_device(device, target["threads"], target["hardware"])
    return device, settings_from_config(run["settings"], run["profile"], device)


def check_device(device: Any, threads: int, expected: str) -> None:
    """Raise :class:`DeviceMismatchError` unless ``device`` (with ``threads``) is ``expected``."""
    found = hardware_id(device, threads)
    if found != expected:
        raise DeviceMismatchError(
            f"this job runs on '{found}' but was asked to write data of '{expected}': refusing "
            "to mix devices. Run it where that device is, or set sweeps.device_id to "
            f"'{found}' (or auto)")


def settings_from_config(cfg: Mapping[str, Any], profile: str, device: Any) -> TimingSettings:
    """TimingSettings of ``profile`` for ``device`` (``timing_cuda`` on CUDA when given)."""
    prof = cfg["profiles"][profile]
    timing = dict(prof["timing"])
    if device.type == "cuda" and "timing_cuda" in prof:
        timing = dict(prof["timing_cuda"])
    cap = cfg.get("memory_cap_gb", "auto")
    cap_bytes = default_memory_cap(device) if cap == "auto" else int(float(cap) * 2**30)
    return TimingSettings(
        min_run_time=float(timing["min_run_time"]),
        max_run_time=float(timing["max_run_time"]),
        threshold=float(timing.get("threshold", 0.1)),
        warmup=int(timing.get("warmup", 1)),
        min_blocks=int(timing.get("min_blocks", 4)),
        target_blocks=int(timing.get("target_blocks", 10)),
        dtype=str(cfg.get("dtype", "float32")),
        channels_last=bool(cfg.get("channels_last", False)),
        cudnn_benchmark=bool(cfg.get("cudnn_benchmark", True)),
        memory_cap_bytes=cap_bytes,
    )


# --- settings, backends and facts --------------------------------------------------------------


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


def _torch_dtype(dtype: str) -> Any:
    import torch

    return {"float32": torch.float32, "tf32": torch.float32, "bfloat16": torch.bfloat16,
            "float16": torch.float16, "float64": torch.float64}[dtype]


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


def _synchronize(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def measure_peak_gflops(device: Any, dtype: str = "float32", n: int | None = None,
                        min_run_time: float = 0.5) -> float:
    """Achieved GFLOP/s of a large square matmul (n×n times n×n, 2n³ FLOPs): the measured peak."""
    import torch

    n = n or {"cuda": 8192, "mps": 4096}.get(device.type, 2048)
    tdtype = _torch_dtype(dtype)
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


def _nvml_handle(device: Any) -> Any | None:
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


def _energy_mj(handle: Any) -> float | None:
    if handle is None:
        return None
    try:
        import pynvml

        return float(pynvml.nvmlDeviceGetTotalEnergyConsumption(handle))
    except Exception:  # counter not supported on this GPU
        return None


def device_facts(device: Any, threads: int, settings: TimingSettings, dataset: str,
                 profile: str, measure: bool = True) -> dict[str, Any]:
    """Hardware and software facts of the device for ``device.yaml`` (schema: device.schema.yaml).

    With ``measure``, adds the measured matmul peak (``peak_gflops``) and device-copy bandwidth
    (``mem_bandwidth_gbs``).
    """
    import torch

    backend = prepare_backends(device, settings)
    facts: dict[str, Any] = {
        "device_id": dataset,
        "hardware_id": hardware_id(device, threads),
        "device_type": device.type,
        "name": _device_name(device),
        "profile": profile,
        "dtype": settings.dtype,
        "channels_last": settings.channels_last,
        "torch_version": str(torch.__version__),
        "python_version": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "cpu_model": cpu_model_name(),
        "cpu_count": usable_cpus(),
        "threads": int(torch.get_num_threads()),
        "ram_gb": _ram_gb(),
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
        handle = _nvml_handle(device)
        if handle is not None:
            import pynvml

            driver = pynvml.nvmlSystemGetDriverVersion()
            facts["driver_version"] = driver.decode() if isinstance(driver, bytes) else driver
            facts["energy_counter"] = _energy_mj(handle) is not None
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


def _ram_gb() -> float | None:
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
    ram = _ram_gb() or 8.0
    return int(0.5 * ram * 2**30)


# --- the timing loop ---------------------------------------------------------------------------


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
        energy0 = _energy_mj(energy_handle)
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
    energy1 = _energy_mj(energy_handle)
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


def estimate_bytes(point: Mapping[str, Any], channels_last: bool = False) -> int:
    """Bytes one call needs: input, output, weights and bias, plus the padded input of an even
    kernel (PyTorch pads it in a copy). Workspace of the kernel library is not included."""
    elem = _ELEMENT_BYTES[point["dtype"]]
    b, ci, co = point["batch"], point["c_in"], point["c_out"]
    h, w, kh, kw = point["h"], point["w"], point["k_h"], point["k_w"]
    if point["op"] == "linear":
        count = b * ci + b * co + ci * co + co
    else:
        count = b * ci * h * w + b * co * h * w + co * ci * kh * kw + co
        if kh % 2 == 0 or kw % 2 == 0:
            count += b * ci * (h + kh) * (w + kw)
        if channels_last:
            count += b * ci * h * w  # the converted copy of the input
    return int(count * elem)


#: Period of the random pattern that fills large tensors on the CPU (a prime, so that it does
#: not line up with rows, channels or vector widths).
_FILL_PERIOD = 65521


def _fill_uniform(tensor: Any) -> Any:
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
                tensor = _fill_uniform(torch.empty(specs[name], device=device, dtype=dtype))
                if key[3]:
                    tensor = tensor.contiguous(memory_format=torch.channels_last)
                self._kept[name] = (key, tensor)
        return {name: self._kept[name][1] if keys[name][3] else self._kept[name][1].view(shape)
                for name, shape in specs.items()}

    def clear(self) -> None:
        """Drop every kept tensor."""
        self._kept.clear()


def _make_call(point: Mapping[str, Any], device: Any, settings: TimingSettings,
               pool: TensorPool | None = None) -> Callable[[], Any]:
    """Inputs and weights on the device (uniform random values, from ``pool`` when given) and
    the call that evaluates them."""
    import torch.nn.functional as F

    pool = pool if pool is not None else TensorPool()
    tdtype = _torch_dtype(point["dtype"])
    b, ci, co = point["batch"], point["c_in"], point["c_out"]
    if point["op"] == "linear":
        t = pool.take({"x": (b, ci), "weight": (co, ci), "bias": (co,)}, device, tdtype)
        x, weight, bias = t["x"], t["weight"], t["bias"]
        return lambda: F.linear(x, weight, bias)
    kh, kw = point["k_h"], point["k_w"]
    t = pool.take({"x": (b, ci, point["h"], point["w"]), "weight": (co, ci, kh, kw),
                   "bias": (co,)}, device, tdtype,
                  channels_last=("x", "weight") if settings.channels_last else ())
    x, weight, bias = t["x"], t["weight"], t["bias"]
    stride = point["stride"]
    padding: Any = "same" if (kh % 2 == 0 or kw % 2 == 0) else (kh // 2, kw // 2)
    if stride != 1:
        padding = point["padding"]
    return lambda: F.conv2d(x, weight, bias, stride=stride, padding=padding)


def _is_oom(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, (MemoryError, torch.OutOfMemoryError)):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def time_point(point: Mapping[str, Any], device: Any, settings: TimingSettings,
               energy_handle: Any | None = None,
               pool: TensorPool | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """Time one configuration: ``(row, None)`` with the contract's columns, or ``(None, reason)``
    when it does not fit in memory (above the cap, or out of memory while allocating/running).
    With ``pool``, tensors of the previous point with the same shapes are reused."""
    import torch

    need = estimate_bytes(point, settings.channels_last)
    if settings.memory_cap_bytes is not None and need > settings.memory_cap_bytes:
        if pool is not None:
            pool.clear()
        return None, (f"estimated {need / 2**30:.2f} GiB exceeds the memory cap "
                      f"{settings.memory_cap_bytes / 2**30:.2f} GiB")
    try:
        with torch.inference_mode():
            call = _make_call(point, device, settings, pool)
            result = time_call(call, device, settings, energy_handle)
    except Exception as exc:
        if not _is_oom(exc):
            raise
        reason = f"out of memory: {str(exc).splitlines()[0][:200]}"
        call = None  # type: ignore[assignment]
        if pool is not None:
            pool.clear()
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
        return None, reason
    del call
    row = {c: point[c] for c in CONFIG_COLUMNS}
    row.update({
        "time_ms": _sig(result.median_s * 1e3),
        "time_ms_iqr": _sig(result.iqr_s * 1e3),
        "runs": result.runs,
        "energy_j": None if result.energy_j is None else _sig(result.energy_j),
    })
    return row, None


def _sig(value: float, digits: int = 6) -> float:
    """``value`` rounded to ``digits`` significant figures (timings are not more precise)."""
    return float(f"{value:.{digits - 1}e}")


# --- resumable sweeps --------------------------------------------------------------------------


def read_partial(path: str | Path) -> list[dict[str, Any]]:
    """Records of a partial file (one JSON object per line); a torn or garbled line ends it.

    A line counts only if it ends with a newline and parses as a JSON object with a ``key``: a
    sweep killed while writing leaves at most one such line, always the last.
    """
    path = Path(path)
    if not path.exists():
        return []
    records = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                break
            if not isinstance(record, dict) or "key" not in record:
                break
            records.append(record)
    return records


def _append_line(handle: Any, record: Mapping[str, Any]) -> None:
    handle.write(json.dumps(record, sort_keys=True) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def _fmt_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, sec = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{sec:02d}s" if hours else f"{minutes}m{sec:02d}s"


def _loadavg() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def run_sweep(points: Sequence[Mapping[str, Any]], out_csv: str | Path, meta_path: str | Path,
              device: Any, settings: TimingSettings, run_info: Mapping[str, Any] | None = None,
              schema_path: str | Path | None = None,
              on_point: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Measure every configuration of a sweep, resumably, and write the CSV and its sidecar.

    ``points`` come from :func:`greenflops.sweeps.sweep_points`. ``run_info`` is copied into the
    sidecar (profile, dataset id, settings...). With ``schema_path`` the rows are validated against
    the contract before the CSV is written. Returns the sidecar's content.
    """
    import pandas as pd
    import torch

    from greenflops.outputs import write_csv

    out_csv, meta_path = Path(out_csv), Path(meta_path)
    partial = out_csv.with_name(out_csv.stem + ".partial.jsonl")
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    keys = [point_key(p) for p in points]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate configurations in the sweep's grid")
    wanted = set(keys)
    done: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in read_partial(partial):
        key = tuple(record["key"])
        if key in wanted and key not in done:
            done[key] = record
    # Rewrite the partial file with the good records only (drops a torn line) before appending.
    atomic_write_text(partial, "".join(json.dumps(done[k], sort_keys=True) + "\n"
                                       for k in keys if k in done))
    resumed = len(done)
    if resumed:
        log.info("resuming: %d of %d points already measured in %s", resumed, len(keys), partial)
    torch.set_grad_enabled(False)
    backend = prepare_backends(device, settings)
    handle = _nvml_handle(device) if settings.energy else None
    load_start = _loadavg()
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    todo = [(k, p) for k, p in zip(keys, points) if k not in done]
    flops_todo = sum(float(p["flops"]) for _, p in todo)
    flops_done = 0.0
    timed = 0.0  # Σ median × runs over the points timed in this run
    pool = TensorPool()
    with open(partial, "a", encoding="utf-8") as handle_out:
        for i, (key, point) in enumerate(todo, start=1):
            row, reason = time_point(point, device, settings, handle, pool)
            record: dict[str, Any] = {"key": list(key)}
            if row is None:
                record["skipped"] = reason
                log.warning("skipped %s: %s", _describe(point), reason)
            else:
                record["row"] = row
                timed += row["time_ms"] / 1e3 * row["runs"]
            _append_line(handle_out, record)
            done[key] = record
            flops_done += float(point["flops"])
            spent = time.perf_counter() - t0
            # Time left, from the points and from the FLOPs still to time: the larger estimate.
            left = max(spent / i * (len(todo) - i),
                       spent / max(flops_done, 1.0) * (flops_todo - flops_done))
            time_txt = f"{row['time_ms']:.4g} ms" if row else "skipped"
            log.info("%s: %s -> %s | %d/%d points, elapsed %s, about %s left",
                     point["sweep"], _describe(point), time_txt, resumed + i, len(keys),
                     _fmt_duration(spent), _fmt_duration(left))
            if on_point is not None:
                on_point(resumed + i, len(keys))
    pool.clear()
    wall = time.perf_counter() - t0
    rows = [done[k]["row"] for k in keys if "row" in done[k]]
    skipped = [dict(zip(KEY_COLUMNS, k), reason=done[k]["skipped"]) for k in keys
               if "skipped" in done[k]]
    frame = pd.DataFrame(rows, columns=list(TIMING_COLUMNS))
    if schema_path is not None:
        from greenflops.tables import load_schema, validate_records

        records = [{c: (None if isinstance(v, float) and math.isnan(v) else v)
                    for c, v in r.items()} for r in frame.to_dict("records")]
        validate_records(records, load_schema(schema_path), out_csv)
    meta: dict[str, Any] = {
        **dict(run_info or {}),
        "sweep": points[0]["sweep"] if points else out_csv.stem,
        "points": len(keys),
        "measured": len(rows),
        "skipped_count": len(skipped),
        "resumed_points": resumed,
        "settings": {k: v for k, v in asdict(settings).items()},
        "backend": backend,
        "energy": handle is not None and any(r.get("energy_j") is not None for r in rows),
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_s": round(wall, 3),
        "timed_s": round(timed, 3),
        "overhead_ratio": round(wall / timed, 4) if timed > 0 else None,
        "loadavg_start": load_start,
        "loadavg_end": _loadavg(),
        **node_facts(),
        "skipped": skipped,
    }
    write_csv(frame, out_csv)
    atomic_write_text(meta_path, yaml.safe_dump(meta, sort_keys=False))
    partial.unlink(missing_ok=True)
    return meta


def _describe(point: Mapping[str, Any]) -> str:
    if point["op"] == "linear":
        return f"linear {point['c_in']}x{point['c_out']} batch {point['batch']}"
    return (f"conv2d {point['c_in']}->{point['c_out']} {point['h']}x{point['w']} "
            f"k{point['k_h']}x{point['k_w']} batch {point['batch']}")
