"""The timing contract: the columns of a timing file and the dtypes it may hold.

A timing file ``data/raw/timings/<device_id>/<sweep>.csv`` has one row per timed layer; its
columns, their order and its primary key are those of ``workflow/schemas/timings.schema.yaml``,
read from there (the schema is the one place that defines them), and so are the defaults of its
optional columns (:data:`COLUMN_DEFAULTS`: ``groups`` absent means 1). :data:`DTYPES` is the one
table of what each dtype label means: bytes per element, the torch dtype that times it, and the
suffix it adds to a dataset's folder name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "COLUMN_DEFAULTS",
    "CONFIG_COLUMNS",
    "DTYPES",
    "KEY_COLUMNS",
    "TIMINGS_SCHEMA",
    "TIMING_COLUMNS",
    "DType",
    "point_key",
    "with_defaults",
]

#: The contract's schema (one row of a timing file).
TIMINGS_SCHEMA = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "timings.schema.yaml"


def _schema() -> dict[str, Any]:
    with open(TIMINGS_SCHEMA, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


_SCHEMA = _schema()

#: Every column of a timing file, in the schema's order.
TIMING_COLUMNS: tuple[str, ...] = tuple(_SCHEMA["properties"])
#: Columns that describe a configuration: the primary key, in order.
KEY_COLUMNS: tuple[str, ...] = tuple(_SCHEMA["x-primary-key"])
#: Configuration columns written by the grids: the key plus its FLOPs.
CONFIG_COLUMNS: tuple[str, ...] = KEY_COLUMNS + ("flops",)
#: Optional columns and the value their absence means (the schema's ``default``): a file
#: measured before a column existed stays valid as it is.
COLUMN_DEFAULTS: Mapping[str, Any] = {
    name: prop["default"] for name, prop in _SCHEMA["properties"].items() if "default" in prop
}


@dataclass(frozen=True)
class DType:
    """What a dtype label of the contract means."""

    bytes: int  #: bytes per element
    torch: str  #: name of the torch dtype that times it (``torch.<name>``)
    suffix: str  #: suffix of a dataset folder measured in it (float32: none)
    sweepable: bool = True  #: whether the sweeps can time it (config ``sweeps.dtype``)


#: The dtype labels of the contract (``dtype`` column; ``tf32`` is float32 storage, TF32 math;
#: ``int8`` is 8-bit integer inputs with 32-bit accumulation, imported data only).
DTYPES: Mapping[str, DType] = {
    "float32": DType(4, "float32", ""),
    "tf32": DType(4, "float32", "-tf32"),
    "bfloat16": DType(2, "bfloat16", "-bf16"),
    "float16": DType(2, "float16", "-fp16"),
    "float64": DType(8, "float64", "-fp64", sweepable=False),
    "int8": DType(1, "int8", "-int8", sweepable=False),
}
if set(DTYPES) != set(_SCHEMA["properties"]["dtype"]["enum"]):
    raise RuntimeError(f"{TIMINGS_SCHEMA}: dtype enum and greenflops.timing.contract.DTYPES differ")


def point_key(point: Mapping[str, Any]) -> tuple[Any, ...]:
    """The primary key of a configuration: its :data:`KEY_COLUMNS` values, in order (an
    optional column it lacks has its default)."""
    return tuple(point[c] if c in point else COLUMN_DEFAULTS[c] for c in KEY_COLUMNS)


def with_defaults(frame: Any) -> Any:
    """``frame`` (timing rows) with every optional column it lacks added at its default, in the
    contract's column order for the columns it has (a copy; the input is not changed)."""
    missing = {c: v for c, v in COLUMN_DEFAULTS.items() if c not in frame.columns}
    if not missing:
        return frame
    out = frame.copy()
    for name, value in missing.items():
        out[name] = value
    order = [c for c in TIMING_COLUMNS if c in out.columns]
    return out[order + [c for c in out.columns if c not in order]]
