"""Everything the workflow reads when it loads, validated before any job can start.

:func:`load_inputs` is what ``common.smk`` calls (and what the tests call, in-process): the
configuration (closed mappings: an unknown key is named with the nearest known one), the papers'
specifications under ``workflow/resources/``, every curated table (cell by cell, then the
references between tables and specifications), the sweep target of this run, and every timing
dataset. The first problem raises :class:`InputError`, whose message names the file (line and
column for a table) or the configuration key and the offending value; Snakemake then stops with
it before any output is written or deleted. :func:`check_config_file` runs even earlier, before
Snakemake reads ``config.yaml`` (``workflow/rules/preflight.smk``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from greenflops.io.plainyaml import PlainYAMLError, load_plain_yaml
from greenflops.io.tables import TableValidationError, read_table
from greenflops.networks.ops import op_points
from greenflops.timing.datasets import validate_datasets
from greenflops.timing.grids import FAMILIES, SweepConfigError, sweep_points
from greenflops.trends.references import ReferenceProblem, check_references

__all__ = [
    "InputError",
    "WorkflowInputs",
    "check_config_file",
    "load_inputs",
    "load_resource",
    "schema_path",
    "unknown_keys",
]

#: The papers' specifications: workflow/resources/<name>.yaml.
RESOURCES = ("tables", "trends", "sweeps", "alpha_figures", "networks")
TIMINGS_ROOT = "data/raw/timings"


class InputError(ValueError):
    """An input of the workflow is not valid; the message says where and why."""


@dataclass
class WorkflowInputs:
    """What the rule files plan with: validated resources, tables, sweep target, datasets."""

    resources: dict[str, dict[str, Any]]
    tables: dict[str, pd.DataFrame]
    sweep_target: Any = None  # greenflops.timing.device.SweepTarget of this run, if measuring
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def sweep_profiles(self) -> dict[str, Any]:
        return self.resources["sweeps"]["profiles"]


def schema_path(root: Path, name: str) -> Path:
    """Schema of one row of table (or contract) ``name``: workflow/schemas/<name>.schema.yaml."""
    return Path(root) / "workflow" / "schemas" / f"{name}.schema.yaml"


def check_config_file(path: str | Path) -> None:
    """Refuse a config file with YAML aliases, anchors or tags (a "billion laughs" file, an
    arbitrary type) before Snakemake reads it. Missing files are left to Snakemake."""
    if not Path(path).is_file():
        return
    try:
        load_plain_yaml(path)
    except PlainYAMLError as err:
        raise InputError(str(err)) from None


def unknown_keys(data: Any, schema: Mapping[str, Any], where: str = "") -> list[str]:
    """Messages for keys of ``data`` that a closed mapping of ``schema`` does not know, each
    with the nearest known key (``properties`` followed recursively)."""
    if not isinstance(data, Mapping) or not isinstance(schema, Mapping):
        return []
    props = schema.get("properties", {})
    found = []
    for key, value in data.items():
        if key in props:
            found += unknown_keys(value, props[key], f"{where}{key}.")
        elif schema.get("additionalProperties", True) is False:
            close = difflib.get_close_matches(str(key), list(props), n=1, cutoff=0.5)
            hint = f"; did you mean '{where}{close[0]}'?" if close else (
                f"; known: {', '.join(where + p for p in props)}")
            found.append(f"unknown key '{where}{key}'{hint}")
    return found


def _validate(data: Any, schema: Path) -> None:
    """Snakemake's JSON-schema validation (the workflow template's), errors as InputError."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    try:
        validate(data, schema=str(schema), set_default=False)
    except WorkflowError as err:
        raise InputError(str(err)) from None


def load_resource(root: Path, name: str) -> dict[str, Any]:
    """``workflow/resources/<name>.yaml``, validated against its schema."""
    path = Path(root) / "workflow" / "resources" / f"{name}.yaml"
    shown = _shown(path)
    try:
        data = load_plain_yaml(path)
    except PlainYAMLError as err:
        raise InputError(str(err)) from None
    schema = Path(root) / "workflow" / "schemas" / "resources" / f"{name}.schema.yaml"
    problems = unknown_keys(data, yaml.safe_load(schema.read_text(encoding="utf-8")))
    if problems:
        raise InputError(f"{shown}: {problems[0]}")
    try:
        _validate(data, schema)
    except InputError as err:
        raise InputError(f"{shown}: {err}") from None
    return data


def _check_config(root: Path, config: Mapping[str, Any]) -> None:
    schema = schema_path(root, "config")
    problems = unknown_keys(dict(config), yaml.safe_load(schema.read_text(encoding="utf-8")))
    if problems:
        raise InputError(f"config: {problems[0]} (config.yaml or --config)")
    _validate(dict(config), schema)
    alpha = config["alpha"]
    if alpha["figure_model"] != "best" and alpha["figure_model"] not in alpha["models"]:
        raise InputError(f"config: alpha.figure_model {alpha['figure_model']!r} is not one of "
                         f"alpha.models ({', '.join(alpha['models'])})")


def _sweep_target(config: Mapping[str, Any], profiles: Mapping[str, Any]) -> Any:
    """The device this run measures (None with sweep_profile none); checks the grids too."""
    profile = config["sweep_profile"]
    if profile == "none":
        return None
    if profile not in profiles:
        close = difflib.get_close_matches(profile, list(profiles), n=1)
        raise InputError(f"config: sweep_profile {profile!r} is not none or a sweep profile ("
                         + ", ".join(profiles) + ")"
                         + (f"; did you mean {close[0]!r}?" if close else ""))
    from greenflops.timing.device import resolve_target  # imports torch: only when measuring

    try:
        target = resolve_target(config["sweeps"], profile)
    except ValueError as err:
        raise InputError(f"config: sweeps: {err}") from None
    try:  # bad grids stop the run before any job starts
        for name, grid in profiles[profile]["grids"].items():
            sweep_points(name, grid, config["sweeps"]["dtype"])
        for name, grid in profiles[profile].get("op_grids", {}).items():
            op_points(name, grid, config["sweeps"]["dtype"])
    except SweepConfigError as err:
        raise InputError(f"sweep profile {profile}: {err}") from None
    return target


def _check_networks(root: Path, networks: Mapping[str, Any], trends: Mapping[str, Any],
                    tables: Mapping[str, pd.DataFrame]) -> None:
    """Each Table 2 row the networks' specification names exists once in cv_models, and each
    GPU of its energy comparison is a GPU of gpus.csv."""
    where = _shown(Path(root) / "workflow" / "resources" / "networks.yaml")
    cv = tables.get("cv_models")
    for net, entry in networks["architectures"].items():
        paper = entry.get("paper")
        if not paper or cv is None:
            continue
        rows = cv[cv["model"] == paper["model"]]
        if "extra_data" in paper:
            rows = rows[rows["extra_data"] == paper["extra_data"]]
        if len(rows) != 1:
            close = difflib.get_close_matches(paper["model"], cv["model"].astype(str).tolist(),
                                              n=1)
            raise InputError(
                f"{where}: architectures.{net}.paper: {len(rows)} rows of cv_models.csv have "
                f"model {paper['model']!r}" + ("" if "extra_data" not in paper else
                                                f" and extra_data {paper['extra_data']!r}")
                + (f" (nearest: {close[0]!r})" if close and not len(rows) else
                   "; name extra_data to pick one" if len(rows) > 1 else ""))
    gpus = tables.get("gpus")
    if gpus is not None:
        # Table 9's names: Table 8's (gpus.csv) with the display names the trends spec gives.
        shown = trends.get("table9", {}).get("display_names", {})
        known = {str(shown.get(g, g)) for g in gpus["gpu"].astype(str)}
        for i, row in enumerate(networks["energy"]["gpus"]):
            if row["gpu"] not in known:
                close = difflib.get_close_matches(row["gpu"], sorted(known), n=1)
                raise InputError(f"{where}: energy.gpus[{i}]: {row['gpu']!r} is not a GPU of "
                                 "Table 9 (gpus.csv with trends.yaml's display_names)"
                                 + (f" (nearest: {close[0]!r})" if close else ""))


def _check_figures(root: Path, figures: Mapping[str, Any]) -> None:
    for fig, spec in figures.items():
        for sweep in spec["sweeps"]:
            if sweep not in FAMILIES:
                close = difflib.get_close_matches(sweep, list(FAMILIES), n=1)
                raise InputError(
                    f"{_shown(Path(root) / 'workflow/resources/alpha_figures.yaml')}: figures."
                    f"{fig}.sweeps: {sweep!r} is not a sweep family"
                    + (f" (nearest: {close[0]!r})" if close else ""))


def load_inputs(root: str | Path, config: Mapping[str, Any], *,
                timings: bool = True) -> WorkflowInputs:
    """Validate the configuration, load the specifications, every curated table (and the
    references between them), the sweep target and (with ``timings``) every timing dataset under
    ``data/raw/timings/``. Paths in messages are relative to the working directory."""
    root = Path(root)
    _check_config(root, config)
    resources = {name: load_resource(root, name) for name in RESOURCES}
    # Profiles given in the configuration add to (or replace) the specification's.
    resources["sweeps"]["profiles"].update(config["sweeps"].get("profiles", {}))
    _check_figures(root, resources["alpha_figures"]["figures"])
    tables = {}
    paths = {}
    for name in resources["tables"]["tables"]:
        paths[name] = str(_shown(root / "data" / "raw" / "tables" / f"{name}.csv"))
        schema = schema_path(root, name)
        try:
            frame = read_table(paths[name], schema)
        except TableValidationError as err:
            raise InputError(f"Invalid input: {err}") from None
        _validate(frame, schema)  # Snakemake's own validator on the typed rows
        tables[name] = frame
    try:
        check_references(tables, resources["trends"], paths,
                         str(_shown(root / "workflow" / "resources" / "trends.yaml")))
    except ReferenceProblem as err:
        raise InputError(f"Invalid input: {err}") from None
    _check_networks(root, resources["networks"], resources["trends"], tables)
    target = _sweep_target(config, resources["sweeps"]["profiles"])
    datasets = {}
    if timings:
        try:
            datasets = validate_datasets(_shown(root / TIMINGS_ROOT),
                                         schema_path(root, "timings"),
                                         schema_path(root, "device"),
                                         measuring=target.dataset if target else None)
        except TableValidationError as err:
            raise InputError(f"Invalid timing data: {err}") from None
    return WorkflowInputs(resources, tables, target, datasets)


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it (shorter messages, and
    a copied project keeps its inputs' names)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
