"""Everything the workflow reads when it loads, validated before any job can start.

:func:`load_inputs` is what ``common.smk`` and ``sweeps.smk`` call (and what the tests call,
in-process): the configuration, the papers' specifications under ``workflow/resources/``, every
curated table and every timing dataset. The first problem raises :class:`InputError`, whose
message names the file (line and column for a table) or the configuration key; Snakemake then
stops with it before any output is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from greenflops.io.tables import TableValidationError, read_table
from greenflops.timing.datasets import validate_datasets

__all__ = ["InputError", "WorkflowInputs", "load_inputs", "load_resource", "schema_path"]

#: The papers' specifications: workflow/resources/<name>.yaml.
RESOURCES = ("tables", "trends", "sweeps", "alpha_figures", "trends2025")
TIMINGS_ROOT = "data/raw/timings"


class InputError(ValueError):
    """An input of the workflow is not valid; the message says where and why."""


@dataclass
class WorkflowInputs:
    """What the rule files plan with: validated resources, tables and timing datasets."""

    resources: dict[str, dict[str, Any]]
    tables: dict[str, pd.DataFrame]
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Curated rows beyond the papers (``extension_tables`` of workflow/resources/tables.yaml):
    #: validated like ``tables``, kept apart so that no output regenerating a paper reads them.
    extension_tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def sweep_profiles(self) -> dict[str, Any]:
        return self.resources["sweeps"]["profiles"]


def schema_path(root: Path, name: str) -> Path:
    """Schema of one row of table (or contract) ``name``: workflow/schemas/<name>.schema.yaml."""
    return root / "workflow" / "schemas" / f"{name}.schema.yaml"


def _validate(data: Any, schema: Path, set_default: bool = False) -> None:
    """Snakemake's JSON-schema validation (the workflow template's), errors as InputError."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    try:
        validate(data, schema=str(schema), set_default=set_default)
    except WorkflowError as err:
        raise InputError(str(err)) from None


def load_resource(root: Path, name: str) -> dict[str, Any]:
    """``workflow/resources/<name>.yaml``, validated against its schema."""
    path = root / "workflow" / "resources" / f"{name}.yaml"
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as err:
        raise InputError(f"{path.relative_to(root)}: cannot read YAML: {err}") from None
    try:
        _validate(data, root / "workflow" / "schemas" / "resources" / f"{name}.schema.yaml")
    except InputError as err:
        raise InputError(f"{path.relative_to(root)}: {err}") from None
    return data


def load_inputs(root: str | Path, config: Mapping[str, Any], *,
                timings: bool = True) -> WorkflowInputs:
    """Validate the configuration, load the specifications, every curated table and (with
    ``timings``) every timing dataset under ``data/raw/timings/``. Paths in messages are
    relative to ``root`` when ``root`` is the working directory (as under Snakemake)."""
    root = Path(root)
    _validate(dict(config), root / "workflow" / "schemas" / "config.schema.yaml")
    resources = {name: load_resource(root, name) for name in RESOURCES}
    # Profiles given in the configuration add to (or replace) the specification's.
    resources["sweeps"]["profiles"].update(config["sweeps"].get("profiles", {}))
    tables = _load_tables(root, resources["tables"]["tables"])
    extension_tables = _load_tables(root, resources["tables"].get("extension_tables", []))
    datasets = {}
    if timings:
        try:
            datasets = validate_datasets(_relative(root, root / TIMINGS_ROOT),
                                         schema_path(root, "timings"),
                                         schema_path(root, "device"))
        except TableValidationError as err:
            raise InputError(f"Invalid timing data: {err}") from None
    _check_trends2025(resources["trends2025"], tables, extension_tables)
    return WorkflowInputs(resources, tables, datasets, extension_tables)


def _check_trends2025(spec: dict[str, Any], tables: dict[str, pd.DataFrame],
                      extension_tables: dict[str, pd.DataFrame]) -> None:
    """workflow/resources/trends2025.yaml against the tables: its tables are extension tables,
    its variants consistent, and exactly the post-2021 rows dated within the paper's own tables
    are marked ``paper_window`` (they would change the paper-period sample otherwise)."""
    from greenflops.trends.adaptation import AdaptationSpec
    from greenflops.trends.extended import check_post_paper

    where = "workflow/resources/trends2025.yaml"
    for name in spec["tables"].values():
        if name not in extension_tables:
            raise InputError(f"{where}: table {name!r} is not among the extension_tables of "
                             "workflow/resources/tables.yaml")
    try:
        variants = AdaptationSpec.from_mapping(spec["adaptation"]).variants
        unknown = [r["variant"] for r in spec["sensitivity"] if r["variant"] not in variants]
        if unknown:
            raise ValueError(f"sensitivity run of unknown variant {unknown[0]!r}")
    except ValueError as err:
        raise InputError(f"{where}: {err}") from None
    for kind, paper, date in (("gpus", "gpus", "launch_date"), ("cv_models", "cv_models", "release_date")):
        name = spec["tables"][kind]
        try:
            check_post_paper(extension_tables[name], date, max(tables[paper][date]),
                             f"data/raw/tables/{name}.csv")
        except ValueError as err:
            raise InputError(f"Invalid input: {err}") from None


def _load_tables(root: Path, names: list[str]) -> dict[str, pd.DataFrame]:
    """The curated tables ``names`` (data/raw/tables/<name>.csv), each validated against its
    row schema: cell by cell (:func:`read_table`), then by Snakemake's validator."""
    tables = {}
    for name in names:
        table = _relative(root, root / "data" / "raw" / "tables" / f"{name}.csv")
        schema = schema_path(root, name)
        try:
            frame = read_table(table, schema)
        except TableValidationError as err:
            raise InputError(f"Invalid input: {err}") from None
        _validate(frame, schema)  # Snakemake's own validator on the typed rows
        tables[name] = frame
    return tables


def _relative(root: Path, path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it (shorter messages, and
    a copied project keeps its inputs' names)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
