"""Timing datasets on disk: find them, validate them against the contract, and list them.

A dataset is a folder ``data/raw/timings/<device_id>/`` (or ``data/imported/<device_id>/``,
written by an import) with a ``device.yaml``
(``workflow/schemas/device.schema.yaml``) and one ``<sweep>.csv`` per sweep
(``workflow/schemas/timings.schema.yaml``). Besides the row schema, :func:`read_timings` checks
what a schema cannot: the ``sweep`` column names the file, and ``flops`` is the eq.-3/eq.-4 count
of the row's shape with a multiply-add counted as 2 (a file in MACs fails here, with its line).
Sidecars (``<sweep>.meta.yaml``) are optional.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd

from greenflops.io.plainyaml import PlainYAMLError, load_plain_yaml
from greenflops.io.tables import (
    READER_SOURCE,
    TableValidationError,
    check_date_bounds,
    describe_validation_error,
    load_schema,
    read_table,
    row_lines,
)
from greenflops.io.validated import (
    JSONSCHEMA_VERSION,
    mark_validated,
    validation_key,
    was_validated,
)
from greenflops.timing.contract import COLUMN_DEFAULTS, with_defaults

__all__ = [
    "expected_flops",
    "find_datasets",
    "inventory",
    "load_device",
    "read_device",
    "read_timings",
    "validate_datasets",
]

#: Relative difference allowed between a row's ``flops`` and its shape's FLOPs.
FLOPS_RTOL = 1e-6


def find_datasets(root: str | Path = "data/raw/timings", measuring: str | None = None,
                  skip: Collection[str] = ()) -> dict[str, dict[str, Any]]:
    """Datasets under ``root``: ``{device_id: {"device": path, "sweeps": {sweep: csv path}}}``.

    A folder counts when it holds a ``device.yaml``; sorted by device id and sweep name. A folder
    with timing files but no ``device.yaml`` is an error naming it (its data would otherwise be
    skipped without a word), except ``measuring``, the dataset a sweep run is writing (its
    sweeps may finish before its device facts). Folders named in ``skip`` are left out (the
    datasets an import of this run is about to write).
    """
    root = Path(root)
    found: dict[str, dict[str, Any]] = {}
    if not root.is_dir():
        return found
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in skip):
        device = folder / "device.yaml"
        sweeps = {csv.stem: str(csv) for csv in sorted(folder.glob("*.csv"))}
        if not device.exists():
            if sweeps and folder.name != measuring:
                raise TableValidationError(
                    folder, None, None,
                    "has timing files but no device.yaml: add one (device_id, device_type, name; "
                    "workflow/schemas/device.schema.yaml) or move the folder out of " + str(root))
            continue
        found[folder.name] = {"device": str(device), "sweeps": sweeps}
    return found


def validate_datasets(root: str | Path, timings_schema: str | Path,
                      device_schema: str | Path, measuring: str | None = None,
                      skip: Collection[str] = ()) -> dict[str, dict[str, Any]]:
    """:func:`find_datasets`, with every device.yaml and timing CSV validated (raises
    :class:`~greenflops.io.tables.TableValidationError` naming file, line and column); each entry
    also gets ``"facts"``, the validated device.yaml. A timing file without rows is an error."""
    found = find_datasets(root, measuring, skip)
    tschema = load_schema(timings_schema)
    for entry in found.values():
        entry["facts"] = read_device(entry["device"], device_schema)
        for csv_path in entry["sweeps"].values():
            # every check of this function on these bytes passed before: nothing to read
            key = validation_key(Path(csv_path).read_bytes(), tschema, _TIMINGS_CHECKS,
                                 JSONSCHEMA_VERSION)
            if was_validated(key):
                continue
            if read_timings(csv_path, tschema).empty:
                raise TableValidationError(csv_path, None, None, "no rows")
            mark_validated(key)
    return found


#: What a timing file's verdict in :func:`validate_datasets` depends on besides its bytes and
#: the schema (greenflops.io.validated): this module's checks and the reader's.
_TIMINGS_CHECKS = b"validate_datasets" + Path(__file__).read_bytes() + READER_SOURCE


def expected_flops(row: dict[str, Any]) -> tuple[float, ...]:
    """FLOPs a row's shape may have (eq. 3 / eq. 4, multiply-add = 2).

    For a convolution, both the output size of the explicit ``padding`` and, at stride 1, the
    "same" output size (output = input, the sweeps' convention for even kernels) are accepted.
    A grouped convolution (optional ``groups`` column, default 1) reads ``C_in / groups`` input
    channels per output channel.
    """
    b, co = row["batch"], row["c_out"]
    groups = row.get("groups", COLUMN_DEFAULTS["groups"])
    ci = row["c_in"] / groups
    if row["op"] == "linear":
        return (2.0 * b * ci * co,)
    kh, kw, s, p = row["k_h"], row["k_w"], row["stride"], row["padding"]
    h_out = (row["h"] + 2 * p - kh) // s + 1
    w_out = (row["w"] + 2 * p - kw) // s + 1
    values = [2.0 * b * ci * co * kh * kw * h_out * w_out]
    if s == 1:
        values.append(2.0 * b * ci * co * kh * kw * row["h"] * row["w"])
    return tuple(values)


def read_timings(path: str | Path, schema: dict[str, Any] | str | Path) -> pd.DataFrame:
    """Read and validate one timing CSV (schema, key, file name, groups, FLOPs); errors name the
    line. Optional columns the file lacks are added at their defaults (``groups`` = 1)."""
    path = Path(path)
    frame = read_table(path, schema)
    for line, row in zip(row_lines(frame), frame.to_dict("records")):
        if row["sweep"] != path.stem:
            raise TableValidationError(path, line, "sweep",
                                       f"{row['sweep']!r} does not match the file name {path.stem!r}")
        groups = row.get("groups", COLUMN_DEFAULTS["groups"])
        if groups is None:  # the column is optional, its cells are not
            raise TableValidationError(path, line, "groups",
                                       "empty (fill every cell of the column, or drop the column)")
        if row["c_in"] % groups or row["c_out"] % groups:
            raise TableValidationError(
                path, line, "groups",
                f"{groups} does not divide c_in {row['c_in']} and c_out {row['c_out']}")
        if row["op"] == "linear" and groups != 1:
            raise TableValidationError(path, line, "groups", "a linear layer has groups 1")
        allowed = expected_flops(row)
        if not any(abs(row["flops"] - f) <= FLOPS_RTOL * f for f in allowed):
            raise TableValidationError(
                path, line, "flops",
                f"{row['flops']:.10g} is not the shape's FLOPs ({allowed[0]:.10g}; a multiply-add "
                "counts as 2)")
    return with_defaults(frame)


def read_device(path: str | Path, schema: dict[str, Any] | str | Path) -> dict[str, Any]:
    """Read and validate a ``device.yaml``; its ``device_id`` must be the folder's name."""
    path = Path(path)
    if not isinstance(schema, dict):
        schema = load_schema(schema)
    try:
        facts = load_plain_yaml(path)
    except PlainYAMLError as exc:
        raise TableValidationError(path, None, None, str(exc).removeprefix(f"{path}: ")) from None
    if not isinstance(facts, dict):
        raise TableValidationError(path, None, None, "expected a mapping of device facts")
    # Dates read by YAML as datetime.date: compare as text.
    facts = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in facts.items()}
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(facts),
                    key=lambda e: (not e.path, [str(p) for p in e.path]))
    if errors:
        key, problem = describe_validation_error(errors[0])
        raise TableValidationError(path, None, key, problem)
    for key, prop in schema.get("properties", {}).items():
        if prop.get("format") == "date" and key in facts:
            try:
                check_date_bounds(dt.date.fromisoformat(str(facts[key])), prop)
            except ValueError as exc:
                raise TableValidationError(path, None, key, str(exc)) from None
    if facts["device_id"] != path.parent.name:
        raise TableValidationError(
            path, None, "device_id",
            f"{facts['device_id']!r} is not the folder's name {path.parent.name!r}")
    return facts


def inventory(csv_paths: Sequence[str | Path], device_paths: Sequence[str | Path],
              timings_schema: str | Path, device_schema: str | Path) -> pd.DataFrame:
    """One row per timing file: device, sweep, rows, FLOPs range, energy present, checksum."""
    tschema = load_schema(timings_schema)
    devices = {Path(p).parent.name: read_device(p, device_schema) for p in device_paths}
    rows = []
    for csv_path in sorted(map(str, csv_paths)):
        folder = Path(csv_path).parent.name
        if folder not in devices:
            raise TableValidationError(csv_path, None, None,
                                       f"no device.yaml in {Path(csv_path).parent}")
        frame = read_timings(csv_path, tschema)
        facts = devices[folder]
        rows.append({
            "device_id": folder,
            "device_type": facts["device_type"],
            "device_name": facts["name"],
            "profile": facts.get("profile", ""),
            "sweep": Path(csv_path).stem,
            "rows": len(frame),
            "flops_min": float(frame["flops"].min()) if len(frame) else None,
            "flops_max": float(frame["flops"].max()) if len(frame) else None,
            "has_energy": bool(frame["energy_j"].notna().any()) if "energy_j" in frame else False,
            "sha256": hashlib.sha256(Path(csv_path).read_bytes()).hexdigest(),
        })
    columns = ["device_id", "device_type", "device_name", "profile", "sweep", "rows",
               "flops_min", "flops_max", "has_energy", "sha256"]
    return pd.DataFrame(rows, columns=columns)


def load_device(
    folder: str | Path, timings_schema: str | Path, device_schema: str | Path
) -> tuple[pd.DataFrame, dict[str, Any], list[dict[str, Any]]]:
    """Read and validate one dataset folder ``data/raw/timings/<device_id>/``.

    Returns the timing rows of every ``<sweep>.csv`` and the parsed ``device.yaml``, both
    validated as :func:`validate_datasets` does (schema, file name, FLOPs, ``device_id`` =
    folder name), and one ``{path, rows, sha256}`` per timing file.
    Raises :class:`greenflops.io.tables.TableValidationError` naming file, line and column.
    """
    folder = Path(folder)
    meta = read_device(folder / "device.yaml", device_schema)
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise TableValidationError(folder, None, None, "no timing files (<sweep>.csv)")
    frames, provenance = [], []
    for path in files:
        frame = read_timings(path, timings_schema)
        if frame.empty:
            raise TableValidationError(path, None, None, "no rows")
        frames.append(frame)
        provenance.append({"path": str(path), "rows": int(len(frame)),
                           "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    return pd.concat(frames, ignore_index=True), meta, provenance
