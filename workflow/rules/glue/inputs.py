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
RESOURCES = ("tables", "trends", "sweeps", "alpha_figures")
TIMINGS_ROOT = "data/raw/timings"


class InputError(ValueError):
    """An input of the workflow is not valid; the message says where and why."""


@dataclass
class WorkflowInputs:
    """What the rule files plan with: validated resources, tables and timing datasets."""

    resources: dict[str, dict[str, Any]]
    tables: dict[str, pd.DataFrame]
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)

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
    tables = {}
    for name in resources["tables"]["tables"]:
        table = _relative(root, root / "data" / "raw" / "tables" / f"{name}.csv")
        schema = schema_path(root, name)
        try:
            frame = read_table(table, schema)
        except TableValidationError as err:
            raise InputError(f"Invalid input: {err}") from None
        _validate(frame, schema)  # Snakemake's own validator on the typed rows
        tables[name] = frame
    datasets = {}
    if timings:
        try:
            datasets = validate_datasets(_relative(root, root / TIMINGS_ROOT),
                                         schema_path(root, "timings"),
                                         schema_path(root, "device"))
        except TableValidationError as err:
            raise InputError(f"Invalid timing data: {err}") from None
    return WorkflowInputs(resources, tables, datasets)


def _relative(root: Path, path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it (shorter messages, and
    a copied project keeps its inputs' names)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
