"""Which device a sweep measures, and what its dataset folder is called.

:func:`hardware_id` names the bare device (``cuda-nvidia-h100-80gb-hbm3``, ``mps-apple-m2-pro``,
``cpu-amd-epyc-2threads``: CPU ids carry the torch thread count, since timings depend on it).
:func:`dataset_id` adds the options that change timings but are not columns of the contract
(``-bf16``/``-fp16``/``-tf32``, ``-cl`` for channels-last) and the profile (``-quick``; none for
``paper``); it names the folder ``data/raw/timings/<device_id>/``. :func:`resolve_target` decides,
when the workflow loads, where a sweep run writes and what it must run on; :func:`check_device`
refuses to measure another device into that folder.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from greenflops.timing.contract import DTYPES

__all__ = [
    "DeviceMismatchError",
    "SweepTarget",
    "check_device",
    "cpu_model_name",
    "dataset_id",
    "device_name",
    "hardware_id",
    "resolve_device",
    "resolve_target",
    "slug",
    "usable_cpus",
]


class DeviceMismatchError(RuntimeError):
    """The device found at run time is not the one whose folder the job was asked to write."""



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


def device_name(device: Any) -> str:
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_model_name()  # MPS: the Apple chip's name ("Apple M2 Pro")


def hardware_id(device: Any, threads: int | None = None) -> str:
    """Stable id of the bare device: ``<type>-<slug of its name>``, plus ``-<n>threads`` on CPU."""
    name = slug(device_name(device))
    if device.type == "cpu":
        n = int(threads) if threads else usable_cpus()
        return f"cpu-{name}-{n}thread{'s' if n != 1 else ''}"
    return f"{device.type}-{name}"


def dataset_id(hardware: str, dtype: str = "float32", channels_last: bool = False,
               profile: str = "paper") -> str:
    """Folder name of a dataset: hardware id, then dtype/channels-last options, then the profile
    (``-quick``; the ``paper`` profile adds no suffix)."""
    if dtype not in DTYPES or not DTYPES[dtype].sweepable:
        sweepable = sorted(n for n, d in DTYPES.items() if d.sweepable)
        raise ValueError(f"dtype must be one of {sweepable}, got {dtype!r}")
    return (hardware + DTYPES[dtype].suffix + ("-cl" if channels_last else "")
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



def check_device(device: Any, threads: int, expected: str) -> None:
    """Raise :class:`DeviceMismatchError` unless ``device`` (with ``threads``) is ``expected``."""
    found = hardware_id(device, threads)
    if found != expected:
        raise DeviceMismatchError(
            f"this job runs on '{found}' but was asked to write data of '{expected}': refusing "
            "to mix devices. Run it where that device is, or set sweeps.device_id to "
            f"'{found}' (or auto)")


