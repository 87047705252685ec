"""Load CSV tables and validate them cell by cell against a JSON Schema for one row.

Every curated table in ``data/raw/tables/`` and every timing file in ``data/raw/timings/`` has a
schema in ``workflow/schemas/<name>.schema.yaml`` that describes ONE ROW (``type: object``). CSV
cells are text, so the loader converts each cell by the declared type of its column before it
validates, and an error names the file, the line (1 = header) and the column, e.g.::

    data/raw/tables/gpus.csv, line 7, column 'watts_tdp': 'abc' is not a number

Custom schema keys (ignored by JSON Schema itself):

``x-primary-key``
    list of columns whose values must be unique together.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml

__all__ = [
    "TableValidationError",
    "describe_validation_error",
    "load_schema",
    "read_table",
    "validate_records",
]

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


def load_schema(path: str | Path) -> dict[str, Any]:
    """Read a YAML (or JSON) schema with ``yaml.safe_load``."""
    with open(path, encoding="utf-8") as handle:
        schema = yaml.safe_load(handle)
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise ValueError(f"{path}: a table schema must describe one row (type: object)")
    return schema


def _declared_types(prop: dict[str, Any]) -> list[str]:
    declared = prop.get("type", "string")
    return [declared] if isinstance(declared, str) else list(declared)


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
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an integer") from None
        if not value.is_integer():
            raise ValueError(f"{text!r} is not an integer")
        return int(value)
    if "number" in types:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{text!r} is not a finite number")
        return value
    if "boolean" in types:
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{text!r} is not a boolean (true/false)")
    if prop.get("format") == "date":
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None
        if len(text) != 10:
            raise ValueError(f"{text!r} is not an ISO date (YYYY-MM-DD)")
    return text


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
            key = tuple(record.get(col) for col in key_columns)
            if key in seen:
                shown = ", ".join(f"{c}={v!r}" for c, v in zip(key_columns, key))
                column = key_columns[0] if len(key_columns) == 1 else "/".join(key_columns)
                raise TableValidationError(
                    path, line, column, f"duplicate key ({shown}) already on line {seen[key]}"
                )
            seen[key] = line


def read_table(path: str | Path, schema: dict[str, Any] | str | Path) -> pd.DataFrame:
    """Read a CSV, convert and validate every cell, and return it as a DataFrame.

    Column order follows the file. Nullable numeric columns hold ``NaN`` for empty cells.
    Raises :class:`TableValidationError` naming file, line and column on the first problem.
    """
    if not isinstance(schema, dict):
        schema = load_schema(schema)
    path = Path(path)
    if not path.exists():
        raise TableValidationError(path, None, None, "file not found")
    properties: dict[str, Any] = schema.get("properties", {})
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise TableValidationError(path, 1, None, "file is empty (no header)") from None
        header = [name.strip() for name in header]
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
            record["__line__"] = line
            records.append(record)
    lines = [r.pop("__line__") for r in records]
    validate_records(records, schema, path, lines)
    return pd.DataFrame.from_records(records, columns=header)


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
