"""Everything the workflow reads when it loads, validated before any job can start.

:func:`load_inputs` is what ``common.smk`` calls (and what the tests call, in-process): the
configuration (closed mappings: an unknown key is named with the nearest known one), the papers'
specifications under ``workflow/resources/``, every curated table (cell by cell, then the
references between tables and specifications), the sweep target of this run, the imports of
config ``imports`` (planned by :func:`glue.imports.plan_imports`) and every timing dataset
(``data/raw/timings/`` and ``data/imported/``; device ids unique across both). The first problem raises :class:`InputError`, whose message names the file (line and
column for a table) or the configuration key and the offending value; Snakemake then stops with
it before any output is written or deleted. :func:`check_config_file` runs even earlier, before
Snakemake reads ``config.yaml`` (``workflow/rules/preflight.smk``).
"""

from __future__ import annotations

import difflib
import importlib.metadata
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from greenflops.io.plainyaml import PlainYAMLError, load_plain_yaml, read_yaml
from greenflops.io.tables import READER_SOURCE, TableValidationError, read_table, row_lines
from greenflops.io.validated import (
    JSONSCHEMA_VERSION,
    mark_validated,
    validation_key,
    was_validated,
)
from greenflops.networks.ops import op_points
from greenflops.timing.datasets import validate_datasets
from greenflops.timing.gpu_specs import alias_collisions, specs_from_frame
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
RESOURCES = ("tables", "trends", "sweeps", "alpha_figures", "trends2025", "networks")
TIMINGS_ROOT = "data/raw/timings"
IMPORTED_ROOT = "data/imported"


class InputError(ValueError):
    """An input of the workflow is not valid; the message says where and why."""


@dataclass
class WorkflowInputs:
    """What the rule files plan with: validated resources, tables, sweep target, datasets."""

    resources: dict[str, dict[str, Any]]
    tables: dict[str, pd.DataFrame]
    sweep_target: Any = None  # greenflops.timing.device.SweepTarget of this run, if measuring
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Curated rows beyond the papers (``extension_tables`` of workflow/resources/tables.yaml):
    #: validated like ``tables``, kept apart so that no output regenerating a paper reads them.
    extension_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    imports: dict[str, Any] = field(default_factory=dict)  # name -> glue.imports.PlannedImport

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
    if isinstance(data, list) and isinstance(schema, Mapping) and "items" in schema:
        return [p for i, item in enumerate(data)
                for p in unknown_keys(item, schema["items"], f"{where.rstrip('.')}[{i}].")]
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


#: What Snakemake's verdict depends on besides the data and the schema (greenflops.io.validated).
_SNAKEMAKE_VALIDATOR = "snakemake.utils.validate: snakemake {}, jsonschema {}, pandas {}".format(
    importlib.metadata.version("snakemake"), JSONSCHEMA_VERSION,
    importlib.metadata.version("pandas"))


def _validate(data: Any, schema: Path, source: bytes | None = None) -> None:
    """Snakemake's JSON-schema validation (the workflow template's), errors as InputError.

    A pass is recorded (:mod:`greenflops.io.validated`) under a key over the data, the schema
    file and the versions of Snakemake, jsonschema and pandas, and not validated again:
    Snakemake reads each schema with a pure-Python YAML parser, a second per start. ``source``:
    the bytes the data was read from (a table's CSV file), keyed instead of the data itself."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    if source is None:
        source = json.dumps(data, sort_keys=True, default=str).encode()
    key = validation_key(source, {"schema": Path(schema).read_text(encoding="utf-8")},
                         b"glue.inputs._validate", _SNAKEMAKE_VALIDATOR)
    if was_validated(key):
        return
    try:
        validate(data, schema=str(schema), set_default=False)
    except WorkflowError as err:
        raise InputError(str(err)) from None
    mark_validated(key)


def load_resource(root: Path, name: str) -> dict[str, Any]:
    """``workflow/resources/<name>.yaml``, validated against its schema."""
    path = Path(root) / "workflow" / "resources" / f"{name}.yaml"
    shown = _shown(path)
    try:
        data = load_plain_yaml(path)
    except PlainYAMLError as err:
        raise InputError(str(err)) from None
    schema = Path(root) / "workflow" / "schemas" / "resources" / f"{name}.schema.yaml"
    problems = unknown_keys(data, read_yaml(schema))
    if problems:
        raise InputError(f"{shown}: {problems[0]}")
    try:
        _validate(data, schema)
    except InputError as err:
        raise InputError(f"{shown}: {err}") from None
    return data


def _check_config(root: Path, config: Mapping[str, Any]) -> None:
    schema = schema_path(root, "config")
    problems = unknown_keys(dict(config), read_yaml(schema))
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


def _check_gpu_specs(tables: Mapping[str, pd.DataFrame], path: str) -> None:
    """Every name and alias of the GPU spec table names one row only (else a lookup by that
    name could not tell the rows apart)."""
    if "gpu_specs" not in tables:
        return
    frame = tables["gpu_specs"]
    lines = dict(zip(frame["name"], row_lines(frame)))
    for alias, row, other in alias_collisions(specs_from_frame(frame)):
        raise InputError(f"Invalid input: {path}, line {lines[row]}, column 'aliases': {alias!r} "
                         f"also names {other!r} (line {lines[other]}): a GPU name must name "
                         "one row")


def _check_gpu_spec_refs(datasets: Mapping[str, Mapping[str, Any]],
                         tables: Mapping[str, pd.DataFrame], path: str) -> None:
    """A device.yaml's ``gpu_spec`` names a row of the GPU spec table."""
    if "gpu_specs" not in tables:
        return
    names = list(tables["gpu_specs"]["name"])
    for entry in datasets.values():
        ref = entry.get("facts", {}).get("gpu_spec")
        if ref is not None and ref not in names:
            close = difflib.get_close_matches(str(ref), names, n=1, cutoff=0.5)
            raise InputError(f"Invalid timing data: {entry['device']}, column 'gpu_spec': "
                             f"{ref!r} is not a row name of {path}"
                             + (f" (nearest: {close[0]!r})" if close else ""))


def _timing_datasets(root: Path, target: Any, imports: Mapping[str, Any]
                     ) -> dict[str, dict[str, Any]]:
    """Every dataset: those under data/raw/timings/ and data/imported/ (validated), then those
    the imports of this run will write (planned; their folders are the import jobs' outputs and
    are validated there). A device id found under both roots is an error naming both folders."""
    planned = {dev: imp for imp in imports.values() for dev in imp.datasets}
    try:
        raw = validate_datasets(_shown(root / TIMINGS_ROOT), schema_path(root, "timings"),
                                schema_path(root, "device"),
                                measuring=target.dataset if target else None)
        imported = validate_datasets(_shown(root / IMPORTED_ROOT), schema_path(root, "timings"),
                                     schema_path(root, "device"), skip=set(planned))
    except TableValidationError as err:
        raise InputError(f"Invalid timing data: {err}") from None
    for dev, imp in planned.items():
        imported[dev] = imp.dataset_entry(dev)
    for dev in sorted(set(raw) & set(imported)):
        raise InputError(
            f"Invalid timing data: device id {dev!r} names two timing folders, "
            f"{Path(raw[dev]['device']).parent} and {Path(imported[dev]['device']).parent}"
            + (f" (written by import {imported[dev]['import']})" if "import" in imported[dev]
               else "") + ": device ids must be unique; rename or remove one")
    target_dataset = target.dataset if target else None
    if target_dataset in imported:
        raise InputError(f"Invalid timing data: this run measures {target_dataset!r}, which is "
                         f"also the imported dataset {IMPORTED_ROOT}/{target_dataset}")
    return {**raw, **imported}


def load_inputs(root: str | Path, config: Mapping[str, Any], *,
                timings: bool = True, plan_cache: str | Path | None = None) -> WorkflowInputs:
    """Validate the configuration, load the specifications, every curated table (and the
    references between them), the sweep target, the imports of config ``imports`` (planned from
    their sources; ``plan_cache`` is the folder that caches plans, None for none) and (with
    ``timings``) every timing dataset under ``data/raw/timings/`` and ``data/imported/``, plus
    those the imports will write. Paths in messages are relative to the working directory."""
    root = Path(root)
    _check_config(root, config)
    resources = {name: load_resource(root, name) for name in RESOURCES}
    # Profiles given in the configuration add to (or replace) the specification's.
    resources["sweeps"]["profiles"].update(config["sweeps"].get("profiles", {}))
    _check_figures(root, resources["alpha_figures"]["figures"])
    tables, paths = _load_tables(root, resources["tables"]["tables"])
    extension_tables, _ = _load_tables(root, resources["tables"].get("extension_tables", []))
    try:
        check_references(tables, resources["trends"], paths,
                         str(_shown(root / "workflow" / "resources" / "trends.yaml")))
    except ReferenceProblem as err:
        raise InputError(f"Invalid input: {err}") from None
    _check_networks(root, resources["networks"], resources["trends"], tables)
    _check_trends2025(resources["trends2025"], tables, extension_tables)
    if "gpu_specs" in paths:
        _check_gpu_specs(tables, paths["gpu_specs"])
    target = _sweep_target(config, resources["sweeps"]["profiles"])
    imports: dict[str, Any] = {}
    if config.get("imports"):
        from glue.imports import plan_imports  # only when imports are configured

        try:
            imports = plan_imports(config["imports"], root / "scripts", plan_cache)
        except ValueError as err:
            raise InputError(str(err)) from None
    datasets = {}
    if timings:
        datasets = _timing_datasets(root, target, imports)
        _check_gpu_spec_refs(datasets, tables, paths.get("gpu_specs", "gpu_specs.csv"))
    return WorkflowInputs(resources, tables, sweep_target=target, datasets=datasets,
                          extension_tables=extension_tables, imports=imports)


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


def _load_tables(root: Path, names: list[str]
                 ) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The curated tables ``names`` (data/raw/tables/<name>.csv), each validated against its
    row schema: cell by cell (:func:`read_table`), then by Snakemake's validator; and their
    paths as messages name them."""
    tables, paths = {}, {}
    for name in names:
        paths[name] = str(_shown(root / "data" / "raw" / "tables" / f"{name}.csv"))
        schema = schema_path(root, name)
        try:
            frame = read_table(paths[name], schema)
        except TableValidationError as err:
            raise InputError(f"Invalid input: {err}") from None
        # Snakemake's own validator on the typed rows (the frame follows from the file's bytes
        # and the reader: keyed by both)
        _validate(frame, schema, Path(paths[name]).read_bytes() + READER_SOURCE)
        tables[name] = frame
    return tables, paths


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it (shorter messages, and
    a copied project keeps its inputs' names)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
