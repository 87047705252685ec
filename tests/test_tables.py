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


# --- recorded validations (greenflops.io.validated) -----------------------------------------


def test_validation_key_changes_with_every_part_of_the_verdict():
    import datetime as dt

    from greenflops.io.validated import validation_key

    day = dt.date(2026, 1, 2)
    base = validation_key(b"a,b\n1,2\n", {"type": "object"}, b"code", "4.0", day)
    assert base == validation_key(b"a,b\n1,2\n", {"type": "object"}, b"code", "4.0", day)
    changed = [
        validation_key(b"a,b\n1,3\n", {"type": "object"}, b"code", "4.0", day),
        validation_key(b"a,b\n1,2\n", {"type": "object", "required": ["a"]}, b"code", "4.0", day),
        validation_key(b"a,b\n1,2\n", {"type": "object"}, b"code2", "4.0", day),
        validation_key(b"a,b\n1,2\n", {"type": "object"}, b"code", "4.1", day),
        validation_key(b"a,b\n1,2\n", {"type": "object"}, b"code", "4.0", dt.date(2026, 1, 3)),
    ]
    assert base not in changed and len(set(changed)) == len(changed)


def test_a_passed_file_is_not_validated_again_and_a_changed_one_is(tmp_path, monkeypatch):
    import greenflops.io.tables as tables

    monkeypatch.setenv("GREENFLOPS_CACHE_DIR", str(tmp_path / "cache"))
    good = tmp_path / "gpus.csv"
    good.write_bytes((TABLES / "gpus.csv").read_bytes())
    calls = []
    real = tables.validate_records
    monkeypatch.setattr(tables, "validate_records",
                        lambda *a, **k: (calls.append(a[2]), real(*a, **k)))
    first = read_table(good, schema("gpus"))
    again = read_table(good, schema("gpus"))
    assert calls == [good] and first.equals(again)
    assert len(list((tmp_path / "cache").iterdir())) == 1
    # a changed cell is validated again, and a failure is not recorded
    (tmp_path / "bad").mkdir()
    bad = _mutate("gpus", tmp_path / "bad", row=3, column="watts_tdp", value="-5")
    for _ in range(2):
        with pytest.raises(TableValidationError, match="watts_tdp"):
            read_table(bad, schema("gpus"))
    assert calls == [good, bad, bad]


def test_recording_off_or_unwritable_only_means_validating_again(tmp_path, monkeypatch):
    import greenflops.io.tables as tables

    calls = []
    real = tables.validate_records
    monkeypatch.setattr(tables, "validate_records",
                        lambda *a, **k: (calls.append(1), real(*a, **k)))
    monkeypatch.setenv("GREENFLOPS_CACHE_DIR", "off")
    read_table(TABLES / "gpus.csv", schema("gpus"))
    read_table(TABLES / "gpus.csv", schema("gpus"))
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("GREENFLOPS_CACHE_DIR", str(blocked / "cache"))
    read_table(TABLES / "gpus.csv", schema("gpus"))
    assert len(calls) == 3
