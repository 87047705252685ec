"""Public specifications of NVIDIA GPUs (the curated table) and a lookup by device name.

The table is ``data/raw/tables/gpu_specs.csv`` (row schema ``workflow/schemas/gpu_specs.schema.yaml``,
validated when the workflow loads like every curated table): one row per GPU model and
board / memory variant, Maxwell to Blackwell, each with the document it was transcribed from.
Throughput figures are theoretical **dense** peaks at the boost clock.

:func:`lookup` maps a device name as tools report it (torch / nvidia-smi, a DeepBench ``Specs``
sheet, a ``device.yaml``) to its row: vendor and brand words (NVIDIA, GeForce, Tesla, Quadro,
GTX, RTX), case, punctuation and spacing do not matter, and as a fallback neither do memory words
("80GB", "HBM3", "GDDR6X"). :func:`spec_of_device` finds the row of a validated ``device.yaml``
(its ``gpu_spec`` key, else its ``name``); :func:`alias_collisions` is the load-time check that
every alias names one row only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from greenflops.io.tables import read_table

__all__ = [
    "SPECS_CSV",
    "SPECS_SCHEMA",
    "AmbiguousGPUName",
    "GpuSpec",
    "alias_collisions",
    "load_specs",
    "lookup",
    "normalise_name",
    "spec_name",
    "spec_of_device",
    "specs_from_frame",
]

_ROOT = Path(__file__).resolve().parents[3]
#: The curated table and its row schema.
SPECS_CSV = _ROOT / "data" / "raw" / "tables" / "gpu_specs.csv"
SPECS_SCHEMA = _ROOT / "workflow" / "schemas" / "gpu_specs.schema.yaml"

#: Words dropped before names are compared (vendor and brand words).
_BRAND_WORDS = frozenset({"nvidia", "geforce", "tesla", "quadro", "gtx", "rtx"})
#: Memory words dropped in the fallback comparison ("80gb", "hbm3", "hbm3e", "gddr6x").
_MEMORY_WORD = re.compile(r"^(\d+gb|hbm\d*e?|gddr\d+x?)$")


@dataclass(frozen=True)
class GpuSpec:
    """One row of gpu_specs.csv (empty cells as None)."""

    name: str
    aliases: tuple[str, ...]
    architecture: str
    chip: str
    segment: str
    sm_count: int | None
    boost_clock_mhz: float | None
    fp32_tflops: float
    fp16_tflops: float | None
    fp16_tensor_tflops: float | None
    bf16_tensor_tflops: float | None
    tf32_tensor_tflops: float | None
    int8_tops: float | None
    int8_basis: str | None
    memory_gb: float
    memory_bandwidth_gbs: float
    tdp_w: int
    launch_date: str
    date_kind: str
    source: str
    source_grade: str
    notes: str | None

    def peak_tflops(self, dtype: str) -> float | None:
        """Peak TFLOPS (TOPS for int8) for a contract dtype: float32 → FP32; tf32 → TF32 tensor;
        float16 / bfloat16 → the tensor figure where there are tensor cores, else (float16) the
        CUDA-core FP16; int8 → int8_tops; None where the table has no figure."""
        if dtype == "float32":
            return self.fp32_tflops
        if dtype == "tf32":
            return self.tf32_tensor_tflops
        if dtype == "float16":
            return self.fp16_tensor_tflops or self.fp16_tflops
        if dtype == "bfloat16":
            return self.bf16_tensor_tflops
        if dtype == "int8":
            return self.int8_tops
        return None

    def ceiling_tflops(self, dtype: str) -> float | None:
        """The fastest any unit of the GPU runs a contract dtype, TFLOPS: :meth:`peak_tflops`,
        except float32, which cuDNN runs on TF32 tensor cores where there are some (its
        default), so the larger of FP32 and TF32. None where the table has no figure."""
        peak = self.peak_tflops(dtype)
        if dtype == "float32" and self.tf32_tensor_tflops:
            return max(peak or 0.0, self.tf32_tensor_tflops)
        return peak


class AmbiguousGPUName(LookupError):
    """A name matches more than one row (e.g. a memory-less name with 16 and 32 GB variants)."""


def _words(name: str) -> list[str]:
    text = name.lower().replace("(r)", " ").replace("(tm)", " ")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return [w for w in text.split() if w not in _BRAND_WORDS]


def normalise_name(name: str) -> str:
    """Comparison key: lower case, ``(R)`` / ``(TM)`` and brand words removed, letters and digits
    only ("NVIDIA GeForce GTX 1080 Ti" → "1080ti")."""
    return "".join(_words(name))


def _loose_key(name: str) -> tuple[str, float | None]:
    """Key without memory words, and the memory size the name states (GB) if any."""
    words = _words(name)
    memory = next((float(w[:-2]) for w in words if re.fullmatch(r"\d+gb", w)), None)
    return "".join(w for w in words if not _MEMORY_WORD.match(w)), memory


def _value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def specs_from_frame(frame: pd.DataFrame) -> tuple[GpuSpec, ...]:
    """The rows of a validated table (:func:`greenflops.io.tables.read_table`), in file order."""
    out = []
    for record in frame.to_dict("records"):
        values = {f.name: _value(record.get(f.name)) for f in fields(GpuSpec)}
        values["aliases"] = tuple(a.strip() for a in str(values["aliases"]).split(";")
                                  if a.strip())
        if values["sm_count"] is not None:
            values["sm_count"] = int(values["sm_count"])
        values["tdp_w"] = int(values["tdp_w"])
        out.append(GpuSpec(**values))
    return tuple(out)


@lru_cache(maxsize=4)
def _load(path: str, schema: str, mtime_ns: int) -> tuple[GpuSpec, ...]:
    return specs_from_frame(read_table(path, schema))


def load_specs(path: str | Path = SPECS_CSV, schema: str | Path = SPECS_SCHEMA
               ) -> tuple[GpuSpec, ...]:
    """The table's rows, validated against the row schema (cached while the file is unchanged).
    Raises :class:`greenflops.io.tables.TableValidationError` naming file, line and column."""
    path = Path(path)
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    return _load(str(path), str(schema), mtime)


def _index(specs: tuple[GpuSpec, ...]
           ) -> tuple[dict[str, list[GpuSpec]], dict[str, list[GpuSpec]]]:
    exact: dict[str, list[GpuSpec]] = {}
    loose: dict[str, list[GpuSpec]] = {}
    for spec in specs:
        for label in (spec.name, *spec.aliases):
            hits = exact.setdefault(normalise_name(label), [])
            if spec not in hits:
                hits.append(spec)
            hits = loose.setdefault(_loose_key(label)[0], [])
            if spec not in hits:
                hits.append(spec)
    return exact, loose


def lookup(name: str, specs: tuple[GpuSpec, ...] | None = None) -> GpuSpec:
    """The spec row of a device name.

    1. exact match of :func:`normalise_name` against every row's name and aliases
       ("NVIDIA GeForce GTX 1080 Ti", "Nvidia 1080Ti" and "GTX 1080 Ti" are one key);
    2. else the same with memory words ("80GB", "HBM3", "GDDR6X") removed on both sides; if the
       name states a memory size, only rows of that size qualify ("Tesla P100 16GB" finds the
       16 GB PCIe row, "V100 SXM2 32 GB" the 32 GB one).

    ``specs`` defaults to the curated table. Raises :class:`LookupError` when nothing matches
    (also when the stated memory size matches no candidate), :class:`AmbiguousGPUName` when
    several rows match at the same step.
    """
    exact, loose = _index(load_specs() if specs is None else specs)
    key = normalise_name(name)
    if not key:
        raise LookupError(f"empty GPU name {name!r}")
    hits = exact.get(key, [])
    if len(hits) > 1:
        raise AmbiguousGPUName(f"{name!r} matches {', '.join(h.name for h in hits)}")
    if hits:
        return hits[0]
    lkey, memory = _loose_key(name)
    hits = loose.get(lkey, [])
    if memory is not None and hits:
        sized = [h for h in hits if h.memory_gb == memory]
        if not sized:
            raise LookupError(f"no GPU spec for {name!r}: {', '.join(h.name for h in hits)} "
                              f"match the name but not {memory:g} GB")
        hits = sized
    if len(hits) > 1:
        raise AmbiguousGPUName(f"{name!r} matches {', '.join(h.name for h in hits)}")
    if hits:
        return hits[0]
    raise LookupError(f"no GPU spec for {name!r} (key {key!r})")


def spec_name(name: str) -> str | None:
    """The row name of a device name in the curated table, or None when it has no row (or
    several)."""
    try:
        return lookup(name).name
    except LookupError:
        return None


def spec_of_device(facts: Mapping[str, Any], specs: tuple[GpuSpec, ...] | None = None
                   ) -> GpuSpec | None:
    """The spec row of a device (a validated ``device.yaml``): its ``gpu_spec`` key when set
    (an exact row name), else :func:`lookup` of its ``name``; None for a device that is not a
    CUDA GPU or whose name the table does not know (models that need the facts are then skipped;
    nothing is guessed)."""
    specs = load_specs() if specs is None else specs
    if facts.get("gpu_spec"):
        return next((s for s in specs if s.name == facts["gpu_spec"]), None)
    if facts.get("device_type") != "cuda" or not facts.get("name"):
        return None
    try:
        return lookup(str(facts["name"]), specs)
    except LookupError:
        return None


def alias_collisions(specs: tuple[GpuSpec, ...]) -> list[tuple[str, str, str]]:
    """``(alias, row, other row)`` for each name or alias that, once normalised, names two rows
    (which :func:`lookup` could not tell apart)."""
    owner: dict[str, str] = {}
    found = []
    for spec in specs:
        for label in dict.fromkeys((spec.name, *spec.aliases)):
            key = normalise_name(label)
            if key in owner and owner[key] != spec.name:
                found.append((label, spec.name, owner[key]))
            owner.setdefault(key, spec.name)
    return found
