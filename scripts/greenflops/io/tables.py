"""Load CSV tables and validate them cell by cell against a JSON Schema for one row.

Every curated table in ``data/raw/tables/`` and every timing file in ``data/raw/timings/`` has a
schema in ``workflow/schemas/<name>.schema.yaml`` that describes ONE ROW (``type: object``). CSV
cells are text, so the loader converts each cell by the declared type of its column before it
validates, and an error names the file, the line (1 = header) and the column, e.g.::

    data/raw/tables/gpus.csv, line 7, column 'watts_tdp': 'abc' is not a number

Numbers must be written as a CSV holds them: decimal digits with an optional sign, point and
exponent (no ``7_600``, no hex, no ``inf``/``nan``). Files are UTF-8 (a byte-order mark, which
spreadsheet programs write, is read as if absent) and comma-separated; a file that is neither gets
one sentence saying what to do. Line numbers are the file's own (blank lines counted).

Custom schema keys (ignored by JSON Schema itself):

``x-primary-key``
    list of columns whose values must be unique together. Text values are compared as people
    read them: after Unicode normalisation (NFKC), trimming and case-folding, so ``resnet-50 ``
    duplicates ``ResNet-50``.
``x-min-date`` / ``x-max-date`` (on a ``format: date`` column)
    the earliest and latest date allowed, ISO; ``x-max-date: today`` is the date of the run.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import functools
import io
import math
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml

# read_yaml lives with the other YAML reader; importable from here too
from greenflops.io.plainyaml import read_yaml
from greenflops.io.validated import (
    JSONSCHEMA_VERSION,
    mark_validated,
    validation_key,
    was_validated,
)

__all__ = [
    "READER_SOURCE",
    "TableValidationError",
    "check_date_bounds",
    "describe_validation_error",
    "key_text",
    "load_schema",
    "read_table",
    "read_yaml",
    "row_lines",
    "validate_records",
]

#: This module's source: conversion and validation live here, so a change to either makes every
#: recorded validation stale (greenflops.io.validated).
READER_SOURCE = Path(__file__).read_bytes()

_TRUE = {"true", "True", "TRUE", "1", "yes"}
_FALSE = {"false", "False", "FALSE", "0", "no"}


class TableValidationError(ValueError):
    """A table does not match its schema. The message names file, line and column."""

    def __init__(self, path: str | Path, line: int | None, column: str | None, problem: str):
        self.path = str(path)
        self.line = line
        self.column = column
        self.problem = problem
        where = self.path
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {problem}")


#: libyaml's loader where PyYAML has it (ten times faster on the schemas), else PyYAML's own.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=64)
def _cached_schema(path: str, mtime_ns: int) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        schema = yaml.load(handle, Loader=_LOADER)  # noqa: S506 (a safe loader)
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise ValueError(f"{path}: a table schema must describe one row (type: object)")
    return schema


def load_schema(path: str | Path) -> dict[str, Any]:
    """Read a YAML (or JSON) schema of one row with a safe loader (cached while the file is
    unchanged; the caller gets its own copy)."""
    path = Path(path)
    return copy.deepcopy(_cached_schema(str(path.resolve()), path.stat().st_mtime_ns))


def _declared_types(prop: dict[str, Any]) -> list[str]:
    declared = prop.get("type", "string")
    return [declared] if isinstance(declared, str) else list(declared)


#: A number as a CSV holds it: sign, digits, optional point and decimals, optional exponent.
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _number(text: str, kind: str) -> float:
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not {kind} written in decimal digits (e.g. 7600 or 1.5e3)")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _date_bound(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.today() if value == "today" else dt.date.fromisoformat(value)


def _convert_cell(text: str, prop: dict[str, Any]) -> Any:
    """Convert one CSV cell to the Python value its JSON-Schema type asks for.

    Raises ``ValueError`` with a readable reason when the text cannot be that type.
    """
    types = _declared_types(prop)
    if text == "":
        # An empty cell is null; the schema says whether null is allowed (and `required` whether
        # the column may be empty), so the error comes from validation, with the column named.
        return None
    if "integer" in types:
        value = _number(text, "an integer")
        if not value.is_integer():
            raise ValueError(f"{text!r} is not an integer")
        return int(value)
    if "number" in types:
        return _number(text, "a number")
    if "boolean" in types:
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{text!r} is not a boolean (true/false)")
    if prop.get("format") == "date":
        try:
            date = dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None
        if len(text) != 10:
            raise ValueError(f"{text!r} is not an ISO date (YYYY-MM-DD)")
        check_date_bounds(date, prop)
    return text


def check_date_bounds(date: dt.date, prop: dict[str, Any]) -> None:
    """Raise ``ValueError`` when ``date`` lies outside the column's ``x-min-date`` /
    ``x-max-date`` (``today``: the date of the run)."""
    if "x-min-date" in prop and date < _date_bound(prop["x-min-date"]):
        earliest = _date_bound(prop["x-min-date"]).isoformat()
        raise ValueError(f"{date.isoformat()!r} is before {earliest}, the earliest date allowed")
    if "x-max-date" in prop and date > _date_bound(prop["x-max-date"]):
        latest = _date_bound(prop["x-max-date"]).isoformat()
        raise ValueError(f"{date.isoformat()!r} is after {latest}, the latest date allowed"
                         + (" (the date of this run)" if prop["x-max-date"] == "today" else ""))


def key_text(value: Any) -> Any:
    """A key value as people read it: text normalised (NFKC), trimmed and case-folded."""
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).strip().casefold()
    return value


def describe_validation_error(error: jsonschema.ValidationError) -> tuple[str | None, str]:
    """Column and message of a jsonschema error, phrased for people editing a CSV."""
    column = str(error.path[0]) if error.path else None
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return missing, "required value is empty"
    if error.validator == "additionalProperties":
        return None, error.message
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return column, f"{error.instance!r} is not one of the allowed values ({allowed})"
    if error.validator == "type" and error.instance is None:
        return column, "required value is empty"
    return column, error.message


def validate_records(
    records: Sequence[dict[str, Any]],
    schema: dict[str, Any],
    path: str | Path,
    lines: Sequence[int] | None = None,
) -> None:
    """Validate converted rows against ``schema`` and its ``x-primary-key``.

    ``lines`` gives the file line of each record (default: 2, 3, ... as under a header line).
    """
    if lines is None:
        lines = range(2, 2 + len(records))
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    key_columns: list[str] = list(schema.get("x-primary-key", []))
    seen: dict[tuple[Any, ...], int] = {}
    for record, line in zip(records, lines):
        # Drop nulls so that `required` reports an empty cell in a required column.
        present = {k: v for k, v in record.items() if v is not None}
        # A bad cell (wrong enum, out of range) comes before a `required` that it may trigger
        # through a conditional (if/then), so the message names the cell that is wrong.
        errors = sorted(
            validator.iter_errors(present),
            key=lambda e: (not e.path, [str(p) for p in e.path]),
        )
        if errors:
            column, problem = describe_validation_error(errors[0])
            raise TableValidationError(path, line, column, problem)
        if key_columns:
            key = tuple(key_text(record.get(col)) for col in key_columns)
            if key in seen:
                shown = ", ".join(f"{c}={record.get(c)!r}" for c in key_columns)
                column = key_columns[0] if len(key_columns) == 1 else "/".join(key_columns)
                raise TableValidationError(
                    path, line, column, f"duplicate key ({shown}) already on line {seen[key]}"
                )
            seen[key] = line


def _text(path: Path, data: bytes) -> str:
    """The file's bytes as text: UTF-8, a byte-order mark dropped; anything else is one clear
    error."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise TableValidationError(
            path, line, None,
            f"byte 0x{data[err.start]:02x} is not UTF-8: the file is in another encoding "
            "(Latin-1 or Windows-1252, say); save it as UTF-8 (spreadsheets: \"CSV UTF-8\")"
        ) from None


def _check_delimiter(path: Path, header: list[str], expected: int) -> None:
    """A header read as one column that holds ';' or tabs: the file uses another separator."""
    if len(header) == 1 and expected > 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in header[0]:
                raise TableValidationError(
                    path, 1, None,
                    f"the header is one column separated by {name}: greenflops reads "
                    "comma-separated files; save it with commas as the separator")


def read_table(path: str | Path, schema: dict[str, Any] | str | Path) -> pd.DataFrame:
    """Read a CSV, convert and validate every cell, and return it as a DataFrame.

    Column order follows the file. Nullable numeric columns hold ``NaN`` for empty cells; each
    row's line in the file is :func:`row_lines` of the frame. Raises
    :class:`TableValidationError` naming file, line and column on the first problem.
    """
    if not isinstance(schema, dict):
        schema = load_schema(schema)
    path = Path(path)
    if not path.is_file():
        raise TableValidationError(path, None, None, "file not found")
    properties: dict[str, Any] = schema.get("properties", {})
    data = path.read_bytes()
    reader = csv.reader(io.StringIO(_text(path, data), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise TableValidationError(path, 1, None, "file is empty (no header)") from None
    header = [name.strip() for name in header]
    _check_delimiter(path, header, len(schema.get("required", [])))
    dupes = sorted({name for name in header if header.count(name) > 1})
    if dupes:
        raise TableValidationError(path, 1, dupes[0], "column appears twice in the header")
    for name in header:
        if name not in properties and schema.get("additionalProperties", True) is False:
            raise TableValidationError(path, 1, name, "unknown column (not in the schema)")
    for name in schema.get("required", []):
        if name not in header:
            raise TableValidationError(path, 1, name, "required column is missing")
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    for row in reader:
        line = reader.line_num
        if not row or all(cell.strip() == "" for cell in row):
            continue  # a blank line is not a row
        if len(row) != len(header):
            raise TableValidationError(
                path, line, None, f"{len(row)} cells, but the header has {len(header)} columns"
            )
        record: dict[str, Any] = {}
        for name, cell in zip(header, row):
            try:
                record[name] = _convert_cell(cell.strip(), properties.get(name, {}))
            except ValueError as exc:
                raise TableValidationError(path, line, name, str(exc)) from None
        records.append(record)
        lines.append(line)
    # The same bytes under the same schema and code passed before: skip the slow part.
    key = validation_key(data, schema, READER_SOURCE, JSONSCHEMA_VERSION)
    if not was_validated(key):
        validate_records(records, schema, path, lines)
        mark_validated(key)
    frame = pd.DataFrame.from_records(records, columns=header)
    frame.attrs["lines"] = lines
    return frame


def row_lines(frame: pd.DataFrame) -> list[int]:
    """The file line of each row of a frame from :func:`read_table` (2, 3, ... if unknown)."""
    return list(frame.attrs.get("lines") or range(2, 2 + len(frame)))


def inventory(table_paths: Sequence[str | Path], schema_paths: Sequence[str | Path]) -> pd.DataFrame:
    """One row per table: name, rows, columns, primary key and SHA-256 of the file's bytes."""
    import hashlib

    rows = []
    for table_path, schema_path in zip(table_paths, schema_paths):
        schema = load_schema(schema_path)
        frame = read_table(table_path, schema)
        digest = hashlib.sha256(Path(table_path).read_bytes()).hexdigest()
        rows.append(
            {
                "table": Path(table_path).stem,
                "path": str(table_path),
                "rows": len(frame),
                "columns": len(frame.columns),
                "primary_key": "+".join(schema.get("x-primary-key", [])),
                "sha256": digest,
            }
        )
    return pd.DataFrame(rows, columns=["table", "path", "rows", "columns", "primary_key", "sha256"])
