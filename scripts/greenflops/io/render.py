"""Tables as text: Markdown and LaTeX through pandas, and standalone HTML pages through Markdown.

Numbers are formatted per column (``formats``: column -> format spec such as ``".2f"``) before
layout; a missing value prints as an empty cell and a boolean as yes/no. The layout is pandas'
(``DataFrame.to_markdown``, which uses tabulate, and ``Styler.to_latex`` with booktabs rules);
an HTML page is the Markdown rendered by Python-Markdown with its tables extension. The output
depends only on the data, so reruns give identical bytes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where a table is rendered: a page needs only Markdown
    import pandas as pd

__all__ = ["format_cells", "markdown_page", "to_latex", "to_markdown"]


def _cell(value: object, spec: str | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if spec and isinstance(value, (int, float)):
        return format(value, spec)
    return str(value)


def format_cells(frame: pd.DataFrame, formats: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The table as text cells, each column formatted by its spec in ``formats``."""
    import pandas as pd

    formats = formats or {}
    return pd.DataFrame(
        {c: [_cell(v, formats.get(c)) for v in frame[c].tolist()] for c in frame.columns},
        columns=list(frame.columns),
    )


def _numeric(frame: pd.DataFrame) -> list[bool]:
    """Which columns hold numbers (right-aligned)."""
    import pandas as pd

    return [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]


def to_markdown(
    frame: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    headers: Sequence[str] | None = None,
    title: str | None = None,
    notes: Sequence[str] = (),
) -> str:
    """GitHub-flavoured Markdown table (numbers right-aligned), with optional title and notes."""
    cells = format_cells(frame, formats).apply(lambda col: col.str.replace("|", "\\|"))
    cells.columns = [
        h.replace("|", "\\|") for h in (headers or [str(c) for c in frame.columns])
    ]
    body = cells.to_markdown(
        index=False,
        tablefmt="pipe",
        colalign=["right" if n else "left" for n in _numeric(frame)],
        disable_numparse=True,
    )
    parts = ([f"# {title}", ""] if title else []) + [body]
    if notes:
        parts += ["", *notes]
    return "\n".join(parts) + "\n"


def to_latex(
    frame: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    headers: Sequence[str] | None = None,
    caption: str | None = None,
    label: str | None = None,
) -> str:
    """A ``table`` environment with a booktabs ``tabular`` (needs ``\\usepackage{booktabs}``);
    text is escaped for LaTeX."""
    cells = format_cells(frame, formats)
    cells.columns = list(headers or [str(c) for c in frame.columns])
    styler = cells.style.hide(axis="index").format(escape="latex").format_index(
        escape="latex", axis=1
    )
    return styler.to_latex(
        column_format="".join("r" if n else "l" for n in _numeric(frame)),
        position="ht",
        position_float="centering",
        hrules=True,
        caption=caption.translate(_LATEX) if caption else None,
        label=label,
    )


#: Characters a caption must escape (Styler escapes the cells, not the caption).
_LATEX = str.maketrans(
    {
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
)

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5em;
       color: #1e293b; background: #fff; font-size: 14px; }
h1 { font-size: 1.25em; } h2 { font-size: 1.1em; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #cbd5e1; padding: 0.25em 0.6em; }
th { background: #f1f5f9; }
td[style*="right"] { font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #f8fafc; }
code { background: #f1f5f9; padding: 0 0.2em; }
p { max-width: 60em; }
""".strip()


def markdown_page(text: str, title: str, source: str | None = None) -> str:
    """A standalone HTML page (no external resources) of Markdown ``text``: headings, pipe
    tables, lists, `code`, **bold**, *italic* (Python-Markdown, tables extension)."""
    import markdown

    body = markdown.markdown(text, extensions=["tables"], output_format="html")
    foot = (
        f'<p class="source">Source: <code>{html.escape(source)}</code></p>\n' if source else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        f"{body}\n{foot}</body>\n</html>\n"
    )
