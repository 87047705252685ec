"""What an import produced, and the account of every source row it read.

Every row an importer reads ends up *imported* or *dropped for a reason* (:class:`DropLog`,
counted per source file, sheet, section, dataset and reason), so nothing is dropped silently.
:class:`Dataset` is one timing folder to write, :class:`ImportResult` all of one import;
:func:`dataset_summary` and :func:`import_summary` are the summaries written beside the data
(``<device_id>/import_summary.yaml`` and ``import_summary_<name>.yaml`` / ``.csv``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "SUMMARY_COLUMNS",
    "Dataset",
    "DropLog",
    "ImportResult",
    "dataset_summary",
    "import_summary",
]

#: Columns of the whole-import summary CSV, one row per count.
SUMMARY_COLUMNS = ("source", "sheet", "section", "device_id", "reason", "rows")


@dataclass(frozen=True)
class _Where:
    source: str
    sheet: str
    section: str
    device_id: str
    reason: str


class DropLog:
    """Counts of source rows by outcome: ``imported`` or a drop reason.

    Each count is keyed by (source file, sheet, section, dataset id, reason); ``device_id`` is
    empty for rows that belong to no dataset (a section or workbook that is not imported).
    ``descriptions`` explains each reason once.
    """

    def __init__(self, descriptions: Mapping[str, str] | None = None) -> None:
        self.counts: Counter[_Where] = Counter()
        self.descriptions: dict[str, str] = dict(descriptions or {})

    def add(self, *, source: str, sheet: str, section: str, device_id: str, reason: str,
            rows: int = 1) -> None:
        """Count ``rows`` rows under ``reason`` (``"imported"`` for rows that were kept)."""
        if rows > 0:
            self.counts[_Where(source, sheet, section, device_id, reason)] += rows

    def records(self) -> list[dict[str, Any]]:
        """One dict per count (:data:`SUMMARY_COLUMNS`), sorted."""
        out = [{"source": w.source, "sheet": w.sheet, "section": w.section,
                "device_id": w.device_id, "reason": w.reason, "rows": n}
               for w, n in self.counts.items()]
        return sorted(out, key=lambda r: tuple(r[c] for c in SUMMARY_COLUMNS[:-1]))

    def by_reason(self, device_id: str | None = None) -> dict[str, int]:
        """Rows per reason, for one dataset or (``None``) for everything."""
        totals: Counter[str] = Counter()
        for w, n in self.counts.items():
            if device_id is None or w.device_id == device_id:
                totals[w.reason] += n
        return dict(sorted(totals.items()))


@dataclass
class Dataset:
    """One timing folder to write: ``<device_id>/`` with ``<sweep>.csv`` files, device.yaml and
    import_summary.yaml (``summary``: extra facts for the latter, e.g. repeated shapes)."""

    device_id: str
    device: dict[str, Any]
    sweeps: dict[str, list[dict[str, Any]]]
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(len(r) for r in self.sweeps.values())


@dataclass
class ImportResult:
    """What one import produced: its datasets and the account of every source row.

    ``notes`` are source-level facts for the whole-import summary (files read, skipped
    workbooks, naming conventions)."""

    importer: str
    datasets: list[Dataset]
    log: DropLog
    notes: dict[str, Any] = field(default_factory=dict)

    def plan(self) -> dict[str, dict[str, Any]]:
        """``{device_id: {"sweeps": [...], "device_type": ...}}``: what writing it produces."""
        return {d.device_id: {"sweeps": sorted(d.sweeps),
                              "device_type": str(d.device["device_type"])}
                for d in sorted(self.datasets, key=lambda d: d.device_id)}


def dataset_summary(result: ImportResult, dataset: Dataset) -> dict[str, Any]:
    """Content of ``<device_id>/import_summary.yaml``: rows read, imported and dropped by reason
    (with what each reason means), rows per sweep, and the counts per source section."""
    reasons = result.log.by_reason(dataset.device_id)
    dropped = {k: v for k, v in reasons.items() if k != "imported"}
    return {
        "device_id": dataset.device_id,
        "importer": result.importer,
        "rows_read": sum(reasons.values()),
        "rows_imported": dataset.rows,
        "rows_dropped": dropped,
        "reasons": {k: result.log.descriptions.get(k, "") for k in dropped},
        "sweeps": {s: len(r) for s, r in sorted(dataset.sweeps.items())},
        **dataset.summary,
        "by_source": [r for r in result.log.records() if r["device_id"] == dataset.device_id],
    }


def import_summary(result: ImportResult, source: Mapping[str, Any]) -> dict[str, Any]:
    """Content of the whole-import summary YAML: the source, rows per dataset, rows per reason
    over everything read (sections and workbooks not imported included) and the notes."""
    return {
        "importer": result.importer,
        "source": dict(source),
        "datasets": {d.device_id: d.rows for d in sorted(result.datasets,
                                                          key=lambda d: d.device_id)},
        "rows_by_reason": result.log.by_reason(),
        "reasons": {k: result.log.descriptions.get(k, "") for k in result.log.by_reason()},
        **result.notes,
    }
