"""References between the trends tables and the trends specification, checked before any job.

The specification (``workflow/resources/trends.yaml``) names rows of the curated tables: the GPUs
behind Tables 4 and 9 and their speed-up baselines, Table 1's reference model and printed rows,
Table 9's exclusions and display names; the estimates table names rows of the CV table. A name
without its row would crash a job halfway or silently change a table, so :func:`check_references`
finds every such name first and raises :class:`ReferenceProblem`, naming the specification key
(or the file, line and column) and the value that has no match, with the nearest existing name.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from greenflops.io.tables import key_text, row_lines

__all__ = ["ReferenceProblem", "check_references", "nearest"]


class ReferenceProblem(ValueError):
    """A name in the specification or a table has no row to refer to."""


def nearest(value: Any, candidates: Iterable[Any]) -> str:
    """``" (nearest: 'X')"`` for the closest candidate by spelling, or ``""`` when none is close."""
    names = sorted({str(c) for c in candidates})
    match = difflib.get_close_matches(str(value), names, n=1, cutoff=0.6)
    if not match:  # case and spaces differ only
        match = [n for n in names if key_text(n) == key_text(value)][:1]
    return f" (nearest: {match[0]!r})" if match else ""


def _missing(where: str, what: str, value: Any, candidates: Iterable[Any]) -> ReferenceProblem:
    return ReferenceProblem(f"{where}: {value!r} is not {what}{nearest(value, candidates)}")


def check_references(tables: Mapping[str, pd.DataFrame], spec: Mapping[str, Any],
                     table_paths: Mapping[str, str], spec_path: str) -> None:
    """Every row the trends specification and the estimates table name exists.

    ``tables`` are the validated curated tables by name (``gpus``, ``precision_throughput``,
    ``cv_models``, ``flops_estimates``), ``table_paths`` their files, ``spec`` the trends
    specification read from ``spec_path``. Raises :class:`ReferenceProblem` on the first
    name without a row.
    """
    gpus = tables["gpus"]
    gpu_rows = set(zip(gpus["gpu"], gpus["precision"]))
    fp32 = sorted(g for g, p in gpu_rows if p == "FP32")
    throughput = tables["precision_throughput"]
    table3_gpus = sorted(set(throughput["gpu"]))
    fp32_runs = set(throughput.loc[throughput["precision"] == "FP32", "gpu"])

    # Table 3: every GPU has a speed-up baseline that has FP32 runs.
    for gpu in table3_gpus:
        if gpu not in spec["fp32_reference"]:
            line = row_lines(throughput)[list(throughput["gpu"]).index(gpu)]
            raise ReferenceProblem(
                f"{table_paths['precision_throughput']}, line {line}, column 'gpu': {gpu!r} has no "
                f"speed-up baseline in {spec_path}, fp32_reference"
                + nearest(gpu, spec["fp32_reference"]))
    for gpu, reference in spec["fp32_reference"].items():
        if gpu not in table3_gpus:
            raise _missing(f"{spec_path}, fp32_reference", "a GPU of "
                           f"{table_paths['precision_throughput']}", gpu, table3_gpus)
        if reference not in fp32_runs:
            raise _missing(f"{spec_path}, fp32_reference.{gpu}", "a GPU with FP32 runs in "
                           f"{table_paths['precision_throughput']}", reference, fp32_runs)
    # Table 3 names -> Table 8 rows, whose FP32 peak, power and date Table 9 reads.
    for gpu in table3_gpus:
        if gpu not in spec["gpu_names"]:
            raise _missing(f"{spec_path}, gpu_names", f"given a {table_paths['gpus']} name; add "
                           f"gpu_names.{gpu}", gpu, spec["gpu_names"])
    for gpu, name in spec["gpu_names"].items():
        if name not in fp32:
            raise _missing(f"{spec_path}, gpu_names.{gpu}", f"an FP32 row of {table_paths['gpus']}",
                           name, fp32)
    table9 = spec["table9"]
    for i, row in enumerate(table9["exclude"]):
        if (row["gpu"], row["precision"]) not in gpu_rows:
            names = [f"{g} {p}" for g, p in gpu_rows]
            raise _missing(f"{spec_path}, table9.exclude[{i}]", f"a row of {table_paths['gpus']}",
                           f"{row['gpu']} {row['precision']}", names)
    for gpu in table9["display_names"]:
        if gpu not in set(gpus["gpu"]):
            raise _missing(f"{spec_path}, table9.display_names", f"a GPU of {table_paths['gpus']}",
                           gpu, gpus["gpu"])
    # Table 1.
    cv = tables["cv_models"]
    models = list(cv["model"])
    table1 = spec["table1"]
    if models.count(table1["reference_model"]) != 1:
        raise _missing(f"{spec_path}, table1.reference_model",
                       f"exactly one model of {table_paths['cv_models']}",
                       table1["reference_model"], models)
    for i, model in enumerate(table1["paper_models"]):
        if model not in models:
            raise _missing(f"{spec_path}, table1.paper_models[{i}]",
                           f"a model of {table_paths['cv_models']}", model, models)
    _check_estimates(cv, tables["flops_estimates"], table_paths)


def _check_estimates(cv: pd.DataFrame, estimates: pd.DataFrame,
                     table_paths: Mapping[str, str]) -> None:
    """Each estimate names a CV row (and its base, one), and each estimated CV row has one."""
    rows = set(zip(cv["model"], cv["extra_data"]))
    flagged = {(m, e) for m, e, g in zip(cv["model"], cv["extra_data"], cv["gflops_method"])
               if g == "estimated"}
    path = table_paths["flops_estimates"]
    for line, est in zip(row_lines(estimates), estimates.to_dict("records")):
        if (est["model"], est["extra_data"]) not in rows:
            raise _missing(f"{path}, line {line}, column 'model'",
                           f"a model (with extra_data {est['extra_data']!r}) of "
                           f"{table_paths['cv_models']}", est["model"], cv["model"])
        if (est["model"], est["extra_data"]) not in flagged:
            raise ReferenceProblem(
                f"{path}, line {line}, column 'model': {est['model']!r} is not marked "
                f"gflops_method=estimated in {table_paths['cv_models']}")
        if est["method"] == "compound_scaling" and (
                est["base_model"], est["base_extra_data"]) not in rows:
            raise _missing(f"{path}, line {line}, column 'base_model'",
                           f"a model (with extra_data {est['base_extra_data']!r}) of "
                           f"{table_paths['cv_models']}", est["base_model"], cv["model"])
    estimated = set(zip(estimates["model"], estimates["extra_data"]))
    for line, row in zip(row_lines(cv), cv.to_dict("records")):
        if row["gflops_method"] == "estimated" and (row["model"], row["extra_data"]) not in estimated:
            raise ReferenceProblem(
                f"{table_paths['cv_models']}, line {line}, column 'gflops_method': "
                f"{row['model']!r} is marked estimated but {path} has no estimate for it")
