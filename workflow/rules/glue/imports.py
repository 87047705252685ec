"""Planning the imports of config ``imports`` when the workflow loads (``workflow/rules/imports.smk``).

Snakemake must know every file a job writes before it runs, and the alpha stage plans one fit,
one figure job and report pages per device, so the datasets (device ids and sweeps) an import
will write are planned here, when the workflow loads, from the import's own input: the plan is
what :func:`greenflops.imports.formats.run_import` produces from those files (its
``ImportResult.plan()``), so it matches the import job exactly. Reading DeepBench's workbooks
takes seconds, so a plan is cached under ``.snakemake/greenflops/import_plans/``, keyed by the
format, the source files (path, size, modification time) and the importer's code; a later load
with the same sources reads the cache (milliseconds). A path that does not exist, a hostile
pickle or an unreadable workbook stops the load with an error naming the file; nothing is
written.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glue.code import library_files

__all__ = [
    "IMPORTED_ROOT",
    "IMPORT_SCRIPT",
    "PLAN_CACHE",
    "PlannedImport",
    "import_names",
    "plan_imports",
]

#: Where imports write their timing folders (git-ignored; never committed).
IMPORTED_ROOT = "data/imported"
#: The script of the import jobs (its library files key the plan cache).
IMPORT_SCRIPT = "import_data"
#: Where plans are cached, relative to the working directory.
PLAN_CACHE = ".snakemake/greenflops/import_plans"


@dataclass(frozen=True)
class PlannedImport:
    """One configured import and what its job will write."""

    name: str  #: rule ``import_data_<name>``; summaries ``import_summary_<name>.*``
    format: str
    path: str  #: as configured
    sources: tuple[str, ...]  #: the files it reads (job inputs)
    datasets: Mapping[str, Mapping[str, Any]]  #: device_id → {"sweeps": [...], "device_type"}

    def folder(self, device_id: str) -> str:
        return f"{IMPORTED_ROOT}/{device_id}"

    def plan_json(self) -> str:
        """The plan as canonical JSON (a job parameter: it changes exactly when the plan does)."""
        return json.dumps(self.datasets, sort_keys=True)

    def summaries(self) -> list[str]:
        """The whole-import summaries (YAML, CSV), at the top of ``data/imported``."""
        return [f"{IMPORTED_ROOT}/import_summary_{self.name}.yaml",
                f"{IMPORTED_ROOT}/import_summary_{self.name}.csv"]

    def dataset_entry(self, device_id: str) -> dict[str, Any]:
        """The dataset as :func:`greenflops.timing.datasets.find_datasets` would list it once
        written, plus ``facts`` (its device type) and ``import`` (this import's name)."""
        folder = self.folder(device_id)
        info = self.datasets[device_id]
        return {"device": f"{folder}/device.yaml",
                "sweeps": {s: f"{folder}/{s}.csv" for s in info["sweeps"]},
                "facts": {"device_type": info["device_type"]}, "import": self.name}

    def outputs(self) -> list[str]:
        """Every file the import job writes."""
        out = []
        for device_id in sorted(self.datasets):
            entry = self.dataset_entry(device_id)
            out += [entry["device"], f"{self.folder(device_id)}/import_summary.yaml",
                    *entry["sweeps"].values()]
        return out + self.summaries()


def import_names(imports: Sequence[Mapping[str, Any]]) -> list[str]:
    """Names of the configured imports: the format, or ``<format>_<i>`` (1-based, in config
    order) when several imports share a format."""
    formats = [str(i["format"]) for i in imports]
    names, seen = [], {}
    for fmt in formats:
        seen[fmt] = seen.get(fmt, 0) + 1
        names.append(fmt if formats.count(fmt) == 1 else f"{fmt}_{seen[fmt]}")
    return names


def _fingerprint(fmt: str, sources: Sequence[Path], scripts: Path) -> str:
    digest = hashlib.sha256(fmt.encode())
    for path in sources:
        stat = path.stat()
        digest.update(f"\0{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    for code in library_files(scripts / f"{IMPORT_SCRIPT}.py", scripts):
        digest.update(Path(code).read_bytes())
    return digest.hexdigest()


def _cached(cache: Path | None, key: str) -> dict[str, Any] | None:
    if cache is None:
        return None
    try:
        return json.loads((cache / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _store(cache: Path | None, key: str, plan: Mapping[str, Any]) -> None:
    if cache is None:
        return
    try:  # a cache: a read-only working directory only costs the next load its time
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(plan, handle, sort_keys=True)
        os.replace(tmp, cache / f"{key}.json")
    except OSError:
        pass


def _canonical(plan: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """A plan with sorted keys and sweeps, the same whether fresh or read from the cache."""
    return {dev: {"device_type": str(plan[dev]["device_type"]),
                  "sweeps": sorted(map(str, plan[dev]["sweeps"]))} for dev in sorted(plan)}


def plan_imports(imports: Sequence[Mapping[str, Any]], scripts: str | Path,
                 cache: str | Path | None = PLAN_CACHE) -> dict[str, PlannedImport]:
    """Plan every configured import (``{format, path}`` mappings, validated by the config
    schema), in config order, by name. ``scripts`` is the project's ``scripts/`` folder;
    ``cache`` None plans without a cache.

    Raises :class:`ValueError` whose message names the config entry and the file: a path that
    does not exist, a file the importer refuses (greenflops.imports.rows.ImportDataError), two
    imports that would write the same dataset.
    """
    from greenflops.imports.formats import run_import, source_files
    from greenflops.imports.rows import ImportDataError

    scripts = Path(scripts)
    cache = Path(cache) if cache is not None else None
    planned: dict[str, PlannedImport] = {}
    owner: dict[str, str] = {}
    for index, (spec, name) in enumerate(zip(imports, import_names(imports))):
        fmt, path = str(spec["format"]), str(spec["path"])
        where = f"config: imports[{index}] ({fmt}, path {path})"
        try:
            sources = source_files(fmt, path)
            key = _fingerprint(fmt, sources, scripts)
            plan = _cached(cache, key)
            if plan is None:
                plan = run_import(fmt, path).plan()
                _store(cache, key, plan)
        except ImportDataError as err:
            raise ValueError(f"{where}: {err}") from None
        plan = _canonical(plan)
        for device_id in plan:
            if device_id in owner:
                raise ValueError(f"{where}: writes dataset {device_id!r}, which "
                                 f"{owner[device_id]} writes too; configure one of them")
            owner[device_id] = where
        planned[name] = PlannedImport(name, fmt, path, tuple(str(s) for s in sources), plan)
    return planned
