"""Rows of the timing contract built from imported data, and the error every importer raises.

:func:`conv_row` / :func:`linear_row` give one row of ``workflow/schemas/timings.schema.yaml``
with its FLOPs (a multiply-add counts 2, eq. 3 / eq. 4 of Asperti et al. 2021, the count
:func:`greenflops.timing.datasets.expected_flops` checks); :func:`dedupe` keeps the first row of
each primary key and says whether the repeats' times differ. :class:`ImportDataError` names the
file and, where they apply, the sheet, row and column of a problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenflops.timing.contract import COLUMN_DEFAULTS, KEY_COLUMNS

__all__ = [
    "DuplicateStats",
    "ImportDataError",
    "conv_output_size",
    "conv_row",
    "dedupe",
    "linear_row",
    "row_key",
]


class ImportDataError(ValueError):
    """A source file cannot be imported. The message names the file, and the sheet, row (or a
    text file's line) and column where they apply (1-based, as a spreadsheet shows them)."""

    def __init__(self, path: str | Path, problem: str, *, sheet: str | None = None,
                 row: int | None = None, column: str | None = None, line: int | None = None):
        self.path = str(path)
        self.sheet = sheet
        self.row = row
        self.line = line
        self.column = column
        self.problem = problem
        where = self.path
        if sheet is not None:
            where += f", sheet {sheet!r}"
        if row is not None:
            where += f", row {row}"
        if line is not None:  # a line of a text file (CSV)
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {problem}")


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """``floor((size + 2·padding − kernel) / stride) + 1`` (may be < 1: the caller checks)."""
    return (size + 2 * padding - kernel) // stride + 1


def conv_row(sweep: str, *, batch: int, c_in: int, c_out: int, h: int, w: int, k_h: int,
             k_w: int, stride: int, padding: int, dtype: str, time_ms: float, runs: int,
             same_output: bool = False) -> dict[str, Any]:
    """A ``conv2d`` row with FLOPs ``2·batch·C_in·C_out·K_h·K_w·H_out·W_out``.

    ``same_output`` (stride 1 only) takes the output size equal to the input size, the "same"
    padding of the alpha-FLOPs paper (for an even kernel the recorded ``padding = (k − 1) // 2``
    alone would give one pixel less); otherwise the output size follows from padding and stride.
    """
    if same_output:
        if stride != 1:
            raise ValueError("same_output needs stride 1")
        h_out, w_out = h, w
    else:
        h_out = conv_output_size(h, k_h, stride, padding)
        w_out = conv_output_size(w, k_w, stride, padding)
    return {
        "sweep": sweep, "op": "conv2d", "batch": batch, "c_in": c_in, "c_out": c_out, "h": h,
        "w": w, "k_h": k_h, "k_w": k_w, "stride": stride, "padding": padding, "dtype": dtype,
        "flops": 2 * batch * c_in * c_out * k_h * k_w * h_out * w_out,
        "time_ms": float(time_ms), "time_ms_iqr": None, "runs": runs, "energy_j": None,
    }


def linear_row(sweep: str, *, batch: int, d_in: int, d_out: int, dtype: str, time_ms: float,
               runs: int) -> dict[str, Any]:
    """A ``linear`` row (dense layer ``d_in → d_out`` on ``batch`` samples), FLOPs
    ``2·batch·d_in·d_out``; ``h = w = k_h = k_w = stride = 1``, ``padding = 0``."""
    return {
        "sweep": sweep, "op": "linear", "batch": batch, "c_in": d_in, "c_out": d_out, "h": 1,
        "w": 1, "k_h": 1, "k_w": 1, "stride": 1, "padding": 0, "dtype": dtype,
        "flops": 2 * batch * d_in * d_out, "time_ms": float(time_ms), "time_ms_iqr": None,
        "runs": runs, "energy_j": None,
    }


def row_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """The contract's primary key of a row (an optional column it lacks takes its default, as
    in a file without that column)."""
    return tuple(row[c] if c in row else COLUMN_DEFAULTS[c] for c in KEY_COLUMNS)


@dataclass
class DuplicateStats:
    """Repeats of a primary key within one sweep: how many, and whether their times differ."""

    repeats: int = 0
    time_differs: int = 0
    max_rel_diff: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"repeats": self.repeats, "time_differs": self.time_differs,
                "max_rel_time_diff": round(self.max_rel_diff, 6)}


def dedupe(rows: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], DuplicateStats]:
    """Keep the first row of each primary key; count the later ones and compare their times
    (``max_rel_diff`` = the largest ``|t_repeat − t_first| / t_first``)."""
    first: dict[tuple[Any, ...], dict[str, Any]] = {}
    kept: list[dict[str, Any]] = []
    stats = DuplicateStats()
    for row in rows:
        key = row_key(row)
        if key in first:
            stats.repeats += 1
            t0, t1 = first[key]["time_ms"], row["time_ms"]
            if t1 != t0:
                stats.time_differs += 1
                stats.max_rel_diff = max(stats.max_rel_diff, abs(t1 - t0) / t0)
            continue
        first[key] = row
        kept.append(row)
    return kept, stats
