"""Write the datasets of one import, all or nothing, validated by the contract's own reader.

:func:`write_datasets` writes every dataset of an :class:`~greenflops.imports.accounting.ImportResult`
into a staging folder beside the destination (``<out>/../.import-staging-*``, outside ``<out>``
so that a workflow loading meanwhile never sees a half-written dataset), validates the staged
folders with :func:`greenflops.timing.datasets.validate_datasets` (the check the workflow runs
when it loads), and only then moves them into place (``os.replace``; folders that existed are
restored if a later move fails). On any error nothing is left behind.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from greenflops.imports.accounting import (
    SUMMARY_COLUMNS,
    ImportResult,
    dataset_summary,
    import_summary,
)
from greenflops.imports.rows import ImportDataError
from greenflops.io.tables import TableValidationError
from greenflops.timing.contract import COLUMN_DEFAULTS, TIMING_COLUMNS
from greenflops.timing.datasets import validate_datasets

__all__ = ["summary_paths", "timings_csv_text", "write_datasets", "yaml_text"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite value {value!r}")
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def timings_csv_text(rows: Iterable[Mapping[str, Any]]) -> str:
    """The text of a timing CSV: header and rows in the contract's column order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TIMING_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(c, COLUMN_DEFAULTS.get(c))) for c in TIMING_COLUMNS])
    return buffer.getvalue()


def yaml_text(data: Any) -> str:
    """Plain YAML (no aliases, keys in insertion order), as the workflow's YAML reader expects."""

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump(data, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=100)


def _summary_csv_text(records: Iterable[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for rec in records:
        writer.writerow([rec[c] for c in SUMMARY_COLUMNS])
    return buffer.getvalue()


def summary_paths(out_dir: str | Path, name: str) -> tuple[Path, Path]:
    """The whole-import summaries of import ``name``: ``<out>/import_summary_<name>.yaml`` and
    ``.csv``, at the top of ``<out>`` (a CSV inside a dataset folder would be read as a sweep)."""
    out_dir = Path(out_dir)
    return (out_dir / f"import_summary_{name}.yaml", out_dir / f"import_summary_{name}.csv")


def _stage(result: ImportResult, staging: Path, source: Mapping[str, Any], name: str) -> None:
    for dataset in result.datasets:
        folder = staging / dataset.device_id
        folder.mkdir()
        for sweep, rows in sorted(dataset.sweeps.items()):
            (folder / f"{sweep}.csv").write_text(timings_csv_text(rows), encoding="utf-8")
        (folder / "device.yaml").write_text(yaml_text(dataset.device), encoding="utf-8")
        (folder / "import_summary.yaml").write_text(yaml_text(dataset_summary(result, dataset)),
                                                    encoding="utf-8")
    yaml_path, csv_path = summary_paths(staging, name)
    yaml_path.write_text(yaml_text(import_summary(result, source)), encoding="utf-8")
    csv_path.write_text(_summary_csv_text(result.log.records()), encoding="utf-8")


def write_datasets(result: ImportResult, out_dir: str | Path, *, name: str,
                   timings_schema: str | Path, device_schema: str | Path,
                   source: Mapping[str, Any] | None = None) -> list[Path]:
    """Validate and write every dataset of ``result`` under ``out_dir``, all or nothing.

    Layout: ``<out>/<device_id>/{<sweep>.csv, device.yaml, import_summary.yaml}`` per dataset,
    and :func:`summary_paths` for the whole import (``source`` goes into its YAML). A dataset
    folder that exists is replaced. Raises :class:`ImportDataError` naming the file (as it would
    be in ``out_dir``), line and column when a dataset does not validate; nothing is written then.
    Returns the dataset folders.
    """
    out_dir = Path(out_dir)
    ids = [d.device_id for d in result.datasets]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ImportDataError(out_dir, f"two datasets share the id {dupes[0]!r}")
    if not result.datasets:
        raise ImportDataError(out_dir, "the import produced no dataset")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-staging-", dir=out_dir.parent))
    moved: list[tuple[Path, Path | None]] = []  # (destination, backup of the folder it replaced)
    try:
        _stage(result, staging, source or {}, name)
        try:
            validate_datasets(staging, timings_schema, device_schema)
        except TableValidationError as err:
            shown = Path(err.path)
            shown = out_dir / shown.relative_to(staging) if shown.is_relative_to(staging) else shown
            raise ImportDataError(shown, f"does not validate: {err.problem}", line=err.line,
                                  column=err.column) from None
        out_dir.mkdir(parents=True, exist_ok=True)
        backups = staging / ".replaced"
        backups.mkdir()
        for dataset in result.datasets:
            dest = out_dir / dataset.device_id
            backup = None
            if dest.exists():
                backup = backups / dataset.device_id
                os.replace(dest, backup)
            moved.append((dest, backup))
            os.replace(staging / dataset.device_id, dest)
        for src, dest in zip(summary_paths(staging, name), summary_paths(out_dir, name)):
            os.replace(src, dest)
    except BaseException:
        for dest, backup in reversed(moved):  # undo: remove new folders, restore old ones
            if dest.exists():
                shutil.rmtree(dest, ignore_errors=True)
            if backup is not None and backup.exists():
                os.replace(backup, dest)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / d.device_id for d in result.datasets]
