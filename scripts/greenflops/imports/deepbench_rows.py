"""One DeepBench GEMM or convolution row → one contract row, or the reason it cannot be one.

* Convolution → ``conv2d``: ``h = H, w = W, c_in = C, batch = N, c_out = K, k_h = R`` (filter
  height), ``k_w = S`` (filter width), ``stride``, ``padding``; FLOPs ``2·N·C·K·R·S·P·Q`` with the
  output size from padding and stride. Where the sheet has P / Q columns (output width /
  height) they must agree with that size.
* GEMM ``C(M×N) = A(M×K)·B(K×N)`` → ``linear`` with ``batch = N, c_in = K, c_out = M``, FLOPs
  ``2·M·N·K``. The transposes are not a contract column: the row carries them as ``__transpose``
  (``NN``, ``TN``, ...) and the importer keeps the first row of each M, N, K of a sweep, counting
  the same M, N, K with other transposes (forward and backward-data GEMMs of one layer) as a
  shape listed twice (:mod:`greenflops.imports.deepbench`).
* Sweeps are ``<kind>_<application>`` (``conv_vision``, ``gemm_deepspeech``); a blank
  application cell gives ``unlabelled`` unless the importer found the row's application in the
  labelled workbook (``label``, after checking that the two rows' shapes agree).

A row that cannot be converted gets one reason of :data:`REASONS`, the first that applies in this
order: note row, padded kernel, bad shape, asymmetric stride, asymmetric padding, kernel larger
than the input, P/Q mismatch, then the time cell.
"""

from __future__ import annotations

import re
from typing import Any

from greenflops.imports.rows import conv_output_size, conv_row, linear_row
from greenflops.imports.xlsx import SHAPE, TIME, Row, Section, cell

__all__ = ["FLAG_NOTES", "REASONS", "application", "convert_row", "shape_key", "slug",
           "time_reason"]

#: Why a row is not imported (keys of the summaries), with what each reason means.
REASONS: dict[str, str] = {
    "imported": "converted to a contract row",
    "not_supported": "time cell says 'Not Supported'",
    "not_available": "time cell says 'N/A'",
    "no_time": "time cell is blank",
    "spreadsheet_error": "time cell holds a spreadsheet error (#VALUE!, #DIV/0!, ...)",
    "unreadable_time": "time cell is text that is not a number",
    "zero_time": "time is 0 (below the sheets' 1 microsecond resolution)",
    "padded_kernel": "int8 row flagged 'Padded Kernels': timed on a padded shape, not this one",
    "asymmetric_stride": "horizontal and vertical stride differ (the contract has one stride)",
    "asymmetric_padding": "pad_h and pad_w differ (the contract has one padding)",
    "bad_shape": "a shape cell is missing or not a positive integer (padding: >= 0)",
    "kernel_exceeds_input": "kernel larger than the padded input (no output)",
    "output_size_mismatch": "the sheet's P/Q output size disagrees with the shape (in either "
                            "order)",
    "duplicate_shape": "shape repeated within a sweep (a layer recurring in a network); first "
                       "kept",
    "duplicate_shape_transposed": "GEMM with the M, N, K of an earlier GEMM of its sweep but "
                                  "other transposes (the contract has no transpose column): a "
                                  "shape listed twice, first kept",
    "note_row": "a text row inside a section (footnote), not a layer",
    "section_sparse_gemm": "sparse GEMM section: no contract op",
    "section_rnn": "recurrent-layer section (vanilla RNN / LSTM / GRU): no contract op",
    "section_all_reduce": "all-reduce section (communication): no contract op",
    "section_other": "section of an unknown kind",
    "non_nvidia_device": "workbook of a non-NVIDIA device (AMD GPU, Intel or ARM CPU), not "
                         "imported: its timing code records no repeat count and the GPU spec "
                         "table is NVIDIA's",
}

#: Rows imported with a remark (counted in the dataset's summary).
FLAG_NOTES = {
    "pq_transposed": "the sheet's P/Q columns give (output height, output width) instead of "
                     "(width, height); the output size and FLOPs are the same: imported",
}


def slug(text: str) -> str:
    """Lower-case ``a_b`` form of a label (an application name, a device key)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def as_int(value: Any, minimum: int) -> int | None:
    """A cell as an integer ≥ ``minimum``, or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)) and float(value).is_integer() and value >= minimum:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and int(value) >= minimum:
        return int(value)
    return None


def time_reason(value: Any) -> tuple[float | None, str | None]:
    """(time, None) for a usable time cell, (None, reason) otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "no_time"
    if isinstance(value, bool):
        return None, "unreadable_time"
    if isinstance(value, (int, float)):
        if value != value or value < 0 or value == float("inf"):
            return None, "unreadable_time"
        return (float(value), None) if value > 0 else (None, "zero_time")
    text = str(value).strip().lower()
    if text.startswith("not supported"):
        return None, "not_supported"
    if text.startswith("n/a") or text == "na":
        return None, "not_available"
    if text.startswith("#"):
        return None, "spreadsheet_error"
    try:
        number = float(text)
    except ValueError:
        return None, "unreadable_time"
    return time_reason(number)


def _padded(section: Section, row: Row) -> bool:
    col = section.columns.get("padded kernels")
    if col is None:
        return False
    value = cell(row, col)
    return value not in (None, "", 0, "0", False) and str(value).strip().lower() not in ("no", "n")


def application(section: Section, row: Row) -> str:
    """The row's application as a sweep-name part, ``unlabelled`` when blank."""
    value = cell(row, section.app_column) if section.app_column is not None else None
    if not isinstance(value, str) or not slug(value):
        return "unlabelled"
    return slug(value)


def shape_key(section: Section, row: Row) -> tuple[Any, ...] | None:
    """What identifies a kernel row across workbooks: its shape cells (by header name, as
    integers where they are) and, for a GEMM, its transposes; None for a row without any numeric
    shape cell (a footnote)."""
    values = [cell(row, section.columns[c]) for c in SHAPE[section.kind]]
    if not any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return None
    key = [as_int(v, 0) if as_int(v, 0) is not None else v for v in values]
    if section.kind == "gemm":
        key += [str(cell(row, section.columns[c]) or "").strip().upper()
                for c in ("a transpose", "b transpose")]
    return tuple(key)


def _gemm(section: Section, row: Row, values: dict[str, Any], dtype: str, runs: int,
          time_ms: float | None, reason: str | None, app: str
          ) -> tuple[dict[str, Any] | None, str]:
    m, n, k = (as_int(values[c], 1) for c in ("m", "n", "k"))
    ta = str(cell(row, section.columns["a transpose"]) or "").strip().upper()
    tb = str(cell(row, section.columns["b transpose"]) or "").strip().upper()
    if None in (m, n, k) or ta not in ("N", "T") or tb not in ("N", "T"):
        return None, "bad_shape"
    if reason is not None:
        return None, reason
    out = linear_row(f"gemm_{app}", batch=n, d_in=k, d_out=m, dtype=dtype, time_ms=time_ms,
                     runs=runs)
    out["__transpose"] = ta + tb
    return out, "imported"


def _conv(section: Section, row: Row, values: dict[str, Any], dtype: str, runs: int,
          time_ms: float | None, reason: str | None, app: str
          ) -> tuple[dict[str, Any] | None, str]:
    shape = {c: as_int(values[c], 0 if c.startswith("pad") else 1) for c in values}
    if any(v is None for v in shape.values()):
        return None, "bad_shape"
    if shape["horizontal stride"] != shape["vertical stride"]:
        return None, "asymmetric_stride"
    if shape["pad_h"] != shape["pad_w"]:
        return None, "asymmetric_padding"
    stride, pad = shape["horizontal stride"], shape["pad_h"]
    q = conv_output_size(shape["h"], shape["r"], stride, pad)  # output height
    p = conv_output_size(shape["w"], shape["s"], stride, pad)  # output width
    if p < 1 or q < 1:
        return None, "kernel_exceeds_input"
    flag = None
    col = section.columns
    if "p" in col and "q" in col:
        p_sheet, q_sheet = as_int(cell(row, col["p"]), 1), as_int(cell(row, col["q"]), 1)
        if p_sheet is not None and q_sheet is not None and (p_sheet, q_sheet) != (p, q):
            if (q_sheet, p_sheet) != (p, q):
                return None, "output_size_mismatch"
            flag = "pq_transposed"
    if reason is not None:
        return None, reason
    out = conv_row(f"conv_{app}", batch=shape["n"], c_in=shape["c"],
                   c_out=shape["k"], h=shape["h"], w=shape["w"], k_h=shape["r"], k_w=shape["s"],
                   stride=stride, padding=pad, dtype=dtype, time_ms=time_ms, runs=runs)
    if flag:
        out["__flags"] = [flag]
    return out, "imported"


def convert_row(section: Section, row: Row, dtype: str, runs: int, label: str | None = None
                ) -> tuple[dict[str, Any] | None, str]:
    """A contract row (or None) and the reason: ``imported`` or why not (:data:`REASONS`).
    An imported row may carry ``__flags`` (:data:`FLAG_NOTES`) and ``__transpose`` (GEMMs),
    removed before writing. ``label`` is the application to use where the row's own cell is
    blank (found by the importer in the labelled workbook)."""
    values = {c: cell(row, section.columns[c]) for c in SHAPE[section.kind]}
    if not any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values.values()):
        return None, "note_row"
    if _padded(section, row):
        return None, "padded_kernel"
    time_ms, reason = time_reason(cell(row, section.columns[TIME[section.kind]]))
    app = application(section, row)
    if app == "unlabelled" and label:
        app = label
    convert = _gemm if section.kind == "gemm" else _conv
    return convert(section, row, values, dtype, runs, time_ms, reason, app)
