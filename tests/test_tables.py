"""The curated tables: row counts, schema validation, and errors that name file, line and column.
(The same errors through the workflow's load and Snakemake: tests/test_reliability_bad_input.py.)"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from conftest import ROOT
from greenflops.io.tables import TableValidationError, read_table

TABLES = ROOT / "data" / "raw" / "tables"
SCHEMAS = ROOT / "workflow" / "schemas"

EXPECTED_ROWS = {
    "cv_models": 94,  # Table 2
    "nlp_models": 19,  # Table 7
    "gpus": 48,  # Table 8
    "precision_throughput": 58,  # Table 3
    "alpha_t2000_reference": 5,  # Asperti et al., Fig. 1a / 3a
}


def schema(name: str) -> Path:
    return SCHEMAS / f"{name}.schema.yaml"


@pytest.mark.parametrize(("name", "rows"), sorted(EXPECTED_ROWS.items()))
def test_table_row_counts_match_the_paper(name, rows):
    frame = read_table(TABLES / f"{name}.csv", schema(name))
    assert len(frame) == rows


def test_derived_columns_are_not_stored():
    gpus = read_table(TABLES / "gpus.csv", schema("gpus"))
    throughput = read_table(TABLES / "precision_throughput.csv", schema("precision_throughput"))
    assert not any("watt" in c and "gflops" in c for c in gpus.columns)
    assert not any("speed" in c for c in throughput.columns)


def test_estimated_gflops_are_flagged():
    cv = read_table(TABLES / "cv_models.csv", schema("cv_models"))
    estimated = set(cv.loc[cv["gflops_method"] == "estimated", "model"])
    assert estimated == {
        "NoisyStudent-L2",
        "Meta Pseudo Labels L2",
        "FixEfficientNet-L2",
        "FixEfficientNet-B7",
        "FixEfficientNet-B0",
        "ViT-G/14",
    }


def test_every_row_carries_its_source():
    for name in EXPECTED_ROWS:
        frame = read_table(TABLES / f"{name}.csv", schema(name))
        source_columns = [c for c in frame.columns if c.startswith("source")]
        assert source_columns, name


def _mutate(name: str, tmp_path: Path, row: int, column: str | None, value: str | None,
            drop_column: str | None = None, duplicate_row: int | None = None) -> Path:
    """Copy a table with one change: a cell set, a column dropped or a row duplicated."""
    with open(TABLES / f"{name}.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    if column is not None:
        rows[row][header.index(column)] = value
    if drop_column is not None:
        index = header.index(drop_column)
        rows = [r[:index] + r[index + 1 :] for r in rows]
    if duplicate_row is not None:
        rows.append(list(rows[duplicate_row]))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    target = tmp_path / f"{name}.csv"
    target.write_text(out.getvalue(), encoding="utf-8")
    return target


# (table, mutation, expected line, expected column, words expected in the problem)
BAD_INPUTS = [
    ("gpus", dict(row=0, column=None, value=None, drop_column="watts_tdp"), 1, "watts_tdp",
     "missing"),
    ("gpus", dict(row=5, column="tflops", value="fast"), 6, "tflops", "not a number"),
    ("cv_models", dict(row=3, column="release_date", value="04/09/2014"), 4, "release_date",
     "ISO date"),
    ("cv_models", dict(row=7, column="params_m", value="-3"), 8, "params_m", "minimum"),
    ("gpus", dict(row=0, column=None, value=None, duplicate_row=10), 50, "gpu/precision",
     "duplicate key"),
    ("gpus", dict(row=2, column="precision", value="FP8"), 3, "precision", "allowed values"),
    ("nlp_models", dict(row=4, column="gflops", value=""), 5, "gflops", "empty"),
    ("precision_throughput", dict(row=9, column="task", value="ASR"), 10, "task",
     "allowed values"),
]


@pytest.mark.parametrize(("name", "mutation", "line", "column", "words"), BAD_INPUTS)
def test_bad_input_names_file_line_and_column(tmp_path, name, mutation, line, column, words):
    bad = _mutate(name, tmp_path, **mutation)
    with pytest.raises(TableValidationError) as info:
        read_table(bad, schema(name))
    err = info.value
    assert err.path == str(bad)
    assert err.line == line
    assert err.column == column
    assert words in str(err)
    assert str(bad) in str(err) and f"line {line}" in str(err) and f"'{column}'" in str(err)


def test_unknown_column_is_rejected(tmp_path):
    text = (TABLES / "gpus.csv").read_text(encoding="utf-8").splitlines()
    text[0] += ",gflops_per_watt"
    text[1:] = [line + ",1" for line in text[1:]]
    bad = tmp_path / "gpus.csv"
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(TableValidationError, match=r"line 1, column 'gflops_per_watt': unknown"):
        read_table(bad, schema("gpus"))
