"""The import formats a user can configure (``config.yaml`` key ``imports``), by name.

Each format reads a path (a file or a folder) and returns an
:class:`~greenflops.imports.accounting.ImportResult` without writing anything; :func:`source_files`
lists the files it reads (the inputs of its workflow job), :func:`run_import` runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from greenflops.imports.accounting import ImportResult
from greenflops.imports.asperti2021 import import_asperti2021
from greenflops.imports.deepbench import import_deepbench, workbooks
from greenflops.imports.rows import ImportDataError

__all__ = ["FORMATS", "run_import", "source_files"]

#: Format name → importer (path → ImportResult). The names are those of config ``imports``.
FORMATS: dict[str, Callable[..., ImportResult]] = {
    "asperti2021": import_asperti2021,
    "deepbench": import_deepbench,
}


def source_files(fmt: str, path: str | Path) -> list[Path]:
    """The files an import of format ``fmt`` reads at ``path``; :class:`ImportDataError` naming
    the path when it does not exist (or holds nothing of that format)."""
    path = Path(path)
    if fmt == "asperti2021":
        if not path.is_file():
            raise ImportDataError(path, "no such file (the alpha-FLOPs dataset's data.pickle)")
        return [path]
    if fmt == "deepbench":
        return workbooks(path)
    raise ImportDataError(path, f"unknown import format {fmt!r} (known: {', '.join(FORMATS)})")


def run_import(fmt: str, source: str | Path | Sequence[str | Path]) -> ImportResult:
    """The datasets an import of format ``fmt`` makes (nothing is written) from ``source``: the
    configured path, or the files :func:`source_files` listed for it."""
    if fmt not in FORMATS:
        raise ImportDataError(str(source), f"unknown import format {fmt!r} (known: "
                                           f"{', '.join(FORMATS)})")
    if isinstance(source, (str, Path)):
        return FORMATS[fmt](Path(source))
    files = [Path(f) for f in source]
    if fmt == "asperti2021":
        if len(files) != 1:
            raise ImportDataError(", ".join(map(str, files)), "expected one data.pickle")
        return FORMATS[fmt](files[0])
    return FORMATS[fmt](files)
