"""Reading DeepBench's result workbooks: sheets as rows, the precision, sections and columns.

Workbooks are read with openpyxl (``read_only=True``, cached cell values: formulas are never
evaluated), a maintained reader that parses the XML with the standard library's expat (which has
the "billion laughs" mitigations). A results sheet holds a ``Precision`` row, then **sections**
that start at a row whose column A holds a title (``Dense Matrix Multiplication``,
``Convolution``, ``Sparse Matrix Multiplication``, ``Recurrent Layers - …``, ``All-Reduce``).
A section's header is the first row, from the title row on, that holds every required column;
**columns are found by header name** (:func:`normalise_header`: the text before any
parenthesis, case and spacing ignored, so ``S (Filter width)``, ``S (Fitler width)`` and ``S``
are one key), because their order differs between workbooks. The application column has no
header: it is column B when B's header cell is blank.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenflops.imports.rows import ImportDataError

__all__ = [
    "REQUIRED",
    "SHAPE",
    "TIME",
    "Row",
    "Section",
    "cell",
    "find_sections",
    "has_content",
    "normalise_header",
    "open_workbook",
    "read_specs",
    "sheet_precisions",
    "sheet_rows",
]

Row = tuple[Any, ...]

_SECTION_KINDS = (
    ("dense matrix multiplication", "gemm"),
    ("sparse matrix multiplication", "sparse_gemm"),
    ("convolution", "conv"),
    ("recurrent layers", "rnn"),
    ("all-reduce", "all_reduce"),
)
#: Required columns (normalised headers) of each imported section kind.
REQUIRED = {
    "gemm": ("m", "n", "k", "a transpose", "b transpose", "time"),
    "conv": ("w", "h", "c", "n", "k", "s", "r", "pad_w", "pad_h", "horizontal stride",
             "vertical stride", "forward"),
}
#: The shape columns of each imported section kind.
SHAPE = {
    "gemm": ("m", "n", "k"),
    "conv": ("w", "h", "c", "n", "k", "s", "r", "pad_w", "pad_h", "horizontal stride",
             "vertical stride"),
}
#: The column holding the (forward) time of each imported section kind.
TIME = {"gemm": "time", "conv": "forward"}


def normalise_header(value: Any) -> str | None:
    """A header cell as a lookup key: the text before any '(', lower case, spaces collapsed."""
    if not isinstance(value, str):
        return None
    text = re.sub(r"\s+", " ", value.split("(", 1)[0]).strip().lower()
    return text or None


def _time_unit(value: Any) -> str | None:
    """The parenthesised unit of a time header ('msec'), or None."""
    match = re.search(r"\(([^)]*)\)", value) if isinstance(value, str) else None
    return match.group(1).strip().lower() if match else None


def open_workbook(path: Path) -> Any:
    """The workbook at ``path`` (read-only, cached values); :class:`ImportDataError` naming the
    file when it is missing or not an .xlsx workbook."""
    import openpyxl  # only the DeepBench import needs it
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        raise ImportDataError(path, "file not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Unknown extension is not supported" etc.
            return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportDataError(path, f"cannot read as an .xlsx workbook: {exc}") from None


def sheet_rows(workbook: Any, name: str, path: Path) -> list[Row]:
    """Every row of sheet ``name`` as a tuple of cell values."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [tuple(r) for r in workbook[name].iter_rows(values_only=True)]
    except Exception as exc:  # malformed sheet XML
        raise ImportDataError(path, f"cannot read sheet: {exc}", sheet=name) from None


def cell(row: Row, index: int) -> Any:
    """Cell ``index`` of a row (None past its end)."""
    return row[index] if index < len(row) else None


def has_content(row: Row) -> bool:
    return any(c not in (None, "") for c in row)


def read_specs(rows: Sequence[Row]) -> dict[str, str]:
    """The Specs sheet as ``{label: value}`` (both as text; empty values left out)."""
    specs: dict[str, str] = {}
    for row in rows:
        if not row or not isinstance(row[0], str):
            continue
        value = next((v for v in row[1:] if v not in (None, "")), None)
        if value is not None:
            specs[row[0].strip()] = str(value).strip()
    return specs


def sheet_precisions(rows: Sequence[Row], path: Path, sheet: str) -> dict[str, str]:
    """dtype per imported section kind (``{"gemm": ..., "conv": ..., "text": ...}``) from the
    sheet's ``Precision`` row and the rows below it whose column A is blank.

    ``Float`` → float32; ``16 bit inputs, …`` → float16 (V100 / T4 "FP16 ip, mixed math" and
    P100 "pseudo FP16", which multiplies in fp32: both store fp16 tensors); ``Int8 …`` → int8,
    except the convolutions of a sheet that says "Convolution results are still in float"
    (float32).
    """
    start = next((i for i, r in enumerate(rows) if r and isinstance(r[0], str)
                  and r[0].strip().lower() == "precision"), None)
    if start is None:
        raise ImportDataError(path, "no 'Precision' row", sheet=sheet)
    texts: list[str] = []
    for i in range(start, min(start + 3, len(rows))):
        if i > start and rows[i] and rows[i][0] not in (None, ""):
            break
        texts += [str(c).strip() for c in rows[i][1:] if isinstance(c, str) and c.strip()]
    text = " ".join(texts).lower()
    if "int8" in text:
        gemm = "int8"
        conv = "float32" if "convolution results are still in float" in text else "int8"
    elif "16 bit inputs" in text:
        gemm = conv = "float16"
    elif text.startswith("float") or "fp32" in text or text.startswith("single"):
        gemm = conv = "float32"
    else:
        raise ImportDataError(path, f"unknown precision {' '.join(texts)!r}", sheet=sheet,
                              row=start + 1)
    return {"gemm": gemm, "conv": conv, "text": " / ".join(texts)}


@dataclass
class Section:
    """A section of a results sheet: kind, title row, header row and the data rows after it."""

    kind: str  #: gemm, conv, sparse_gemm, rnn, all_reduce or other
    title: str
    title_row: int  #: 1-based
    header_row: int | None  #: 1-based; None for sections that are not imported
    columns: dict[str, int]  #: normalised header → 0-based column
    app_column: int | None  #: column of the application name, if any
    rows: list[tuple[int, Row]]  #: (1-based row number, cells)


def _section_kind(title: str) -> str:
    low = title.strip().lower()
    return next((kind for prefix, kind in _SECTION_KINDS if low.startswith(prefix)), "other")


def _header(rows: Sequence[Row], body: range, kind: str
            ) -> tuple[int, dict[str, int], dict[str, str], list[str]]:
    """(header row index, columns, header texts, missing columns): the first of the section's
    first rows that holds every required column, else the one that misses the fewest."""
    best: tuple[int, dict[str, int], dict[str, str], list[str]] = (
        body.start, {}, {}, list(REQUIRED[kind]))
    for i in list(body)[:4]:
        cols: dict[str, int] = {}
        texts: dict[str, str] = {}
        for j, value in enumerate(rows[i]):
            key = normalise_header(value)
            if key is not None and key not in cols:
                cols[key], texts[key] = j, str(value)
        missing = [c for c in REQUIRED[kind] if c not in cols]
        if not missing:
            return i, cols, texts, []
        if len(missing) < len(best[3]):
            best = (i, cols, texts, missing)
    return best


def find_sections(rows: Sequence[Row], path: Path, sheet: str) -> list[Section]:
    """Split a results sheet into sections and locate each imported section's columns by name.

    Raises :class:`ImportDataError` (file, sheet, row, column) when a GEMM or convolution section
    lacks a required header, or its time column is not in milliseconds.
    """
    starts = [i for i, r in enumerate(rows)
              if r and isinstance(r[0], str) and r[0].strip()
              and r[0].strip().lower() != "precision"]
    sections: list[Section] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(rows)
        title = rows[start][0].strip()
        kind = _section_kind(title)
        if kind not in REQUIRED:
            data = [(i + 1, rows[i]) for i in range(start + 1, end) if has_content(rows[i])]
            sections.append(Section(kind, title, start + 1, None, {}, None, data))
            continue
        at, columns, texts, missing = _header(rows, range(start, end), kind)
        if missing:
            raise ImportDataError(path, f"{title!r} section (row {start + 1}): no header row "
                                        f"with the required column {missing[0]!r} (missing: "
                                        f"{', '.join(missing)})",
                                  sheet=sheet, row=at + 1, column=missing[0])
        time_header = texts[TIME[kind]]
        if _time_unit(time_header) not in (None, "msec", "ms"):
            raise ImportDataError(path, f"time column {time_header!r} is not in msec",
                                  sheet=sheet, row=at + 1, column=time_header)
        app = next((columns[k] for k in ("application", "app", "source") if k in columns), None)
        first_shape = min(columns[c] for c in SHAPE[kind])
        header_cells = rows[at]
        if app is None and first_shape > 1 and len(header_cells) > 1 \
                and header_cells[1] in (None, ""):
            app = 1  # the unlabelled application column B
        data = [(i + 1, rows[i]) for i in range(at + 1, end) if has_content(rows[i])]
        sections.append(Section(kind, title, start + 1, at + 1, columns, app, data))
    return sections
