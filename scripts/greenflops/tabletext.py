"""Render small DataFrames as Markdown (GitHub pipe tables) and LaTeX (booktabs) text.

Numbers are formatted per column (``formats``: column -> format spec such as ``".2f"``); missing
values print as an empty cell. The output depends only on the data, so reruns give identical bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

__all__ = ["format_cells", "to_latex", "to_markdown"]

_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _cell(value: object, spec: str | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if spec and isinstance(value, (int, float)):
        return format(value, spec)
    return str(value)


def format_cells(frame: pd.DataFrame, formats: Mapping[str, str] | None = None) -> list[list[str]]:
    """Rows of formatted cell text."""
    formats = formats or {}
    return [[_cell(v, formats.get(c)) for c, v in zip(frame.columns, row)] for row in frame.itertuples(index=False)]


def to_markdown(
    frame: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    headers: Sequence[str] | None = None,
    title: str | None = None,
    notes: Sequence[str] = (),
) -> str:
    """GitHub-flavoured Markdown table (numeric columns right-aligned), with optional title and notes."""
    heads = list(headers) if headers is not None else [str(c) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in frame.columns]
    cells = [[c.replace("|", "\\|") for c in row] for row in format_cells(frame, formats)]
    lines = []
    if title:
        lines += [f"# {title}", ""]
    lines.append("| " + " | ".join(h.replace("|", "\\|") for h in heads) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    if notes:
        lines.append("")
        lines += list(notes)
    return "\n".join(lines) + "\n"


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in text)


def to_latex(
    frame: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    headers: Sequence[str] | None = None,
    caption: str | None = None,
    label: str | None = None,
) -> str:
    """A ``table`` environment with a booktabs ``tabular`` (needs ``\\usepackage{booktabs}``)."""
    heads = list(headers) if headers is not None else [str(c) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in frame.columns]
    align = "".join("r" if n else "l" for n in numeric)
    lines = ["\\begin{table}[ht]", "\\centering"]
    if caption:
        lines.append(f"\\caption{{{_latex_escape(caption)}}}")
    if label:
        lines.append(f"\\label{{{label}}}")
    lines += [f"\\begin{{tabular}}{{{align}}}", "\\toprule"]
    lines.append(" & ".join(_latex_escape(h) for h in heads) + " \\\\")
    lines.append("\\midrule")
    lines += [" & ".join(_latex_escape(c) for c in row) + " \\\\" for row in format_cells(frame, formats)]
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(lines) + "\n"
