"""Bad input never gets past the workflow's load: every curated table (config `tables:`), a timing
CSV and a device.yaml, each broken in up to 8 ways. For each, a real `snakemake --cores 1` run on a
project copy must exit non-zero, name the file, the line and the column, and leave no new or
half-written file (hidden temporaries included) under data/processed/ or figures/."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, copy_project, run_snakemake

SCHEMAS = ROOT / "workflow" / "schemas"
TABLES = yaml.safe_load((ROOT / "workflow" / "resources" / "tables.yaml").read_text())["tables"]
TIMINGS = sorted((ROOT / "data" / "raw" / "timings").glob("*/dense_batch.csv")) or sorted(
    (ROOT / "data" / "raw" / "timings").glob("*/*.csv"))
KINDS = ["missing_column", "extra_column", "duplicate_column", "non_numeric", "empty_required",
         "malformed_date", "negative_value", "duplicate_key", "unknown_enum"]


def _schema(name: str) -> dict:
    return yaml.safe_load((SCHEMAS / f"{name}.schema.yaml").read_text())


def _types(prop: dict) -> list[str]:
    declared = prop.get("type", "string")
    return [declared] if isinstance(declared, str) else list(declared)


def mutate(text: str, schema: dict, kind: str) -> tuple[str, int, str] | None:
    """Break a CSV one way: (new text, line, column) the error must name, or None if the schema
    has nothing to break that way (e.g. no date column)."""
    rows = list(csv.reader(io.StringIO(text)))
    header, props = rows[0], schema["properties"]
    required = [c for c in schema.get("required", []) if c in header]
    row = 1  # the first data row: file line 2
    line = row + 1

    def cols(test) -> list[str]:
        return [c for c in header if test(props.get(c, {}))]

    if kind == "missing_column":
        col = required[-1]
        i = header.index(col)
        rows = [r[:i] + r[i + 1:] for r in rows]
        line = 1
    elif kind == "extra_column":
        col = "unknown_extra"
        rows = [r + [col if n == 0 else "1"] for n, r in enumerate(rows)]
        line = 1
    elif kind == "duplicate_column":
        col = header[0]
        rows = [r + [r[0]] for r in rows]
        line = 1
    elif kind == "non_numeric":
        col = cols(lambda p: {"number", "integer"} & set(_types(p)))[0]
        rows[row][header.index(col)] = "twelve"
    elif kind == "empty_required":
        col = required[1] if len(required) > 1 else required[0]
        rows[row][header.index(col)] = ""
    elif kind == "malformed_date":
        dates = cols(lambda p: p.get("format") == "date")
        if not dates:
            return None
        col = dates[0]
        rows[row][header.index(col)] = "2019-13-45"
    elif kind == "negative_value":
        col = cols(lambda p: {"number", "integer"} & set(_types(p))
                   and (p.get("minimum", -1) >= 0 or p.get("exclusiveMinimum", -1) >= 0))[0]
        rows[row][header.index(col)] = "-5"
    elif kind == "duplicate_key":
        key = schema.get("x-primary-key")
        if not key:
            return None
        rows.append(list(rows[row]))
        line = len(rows)
        col = key[0] if len(key) == 1 else "/".join(key)
    elif kind == "unknown_enum":
        # The last row: in flops_estimates it is the one whose other cells satisfy either branch
        # of the method-dependent schema, so the unknown value is the row's only problem.
        row = len(rows) - 1
        line = row + 1
        enums = cols(lambda p: "enum" in p)
        # A table without an enum column (nlp_models) gets an unknown boolean (true/false).
        col = (enums or cols(lambda p: "boolean" in _types(p)))[0]
        rows[row][header.index(col)] = "NoSuchValue"
    else:
        raise ValueError(kind)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue(), line, col


CASES = [(f"data/raw/tables/{name}.csv", name, kind) for name in TABLES for kind in KINDS]
CASES += [(str(p.relative_to(ROOT)), "timings", kind) for p in TIMINGS[:1] for kind in KINDS]


def _snapshot(project: Path) -> dict[str, int]:
    return {str(p.relative_to(project)): p.stat().st_size
            for top in ("data/processed", "figures") for p in (project / top).rglob("*")}


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    """One project copy for the whole module; each case restores the file it broke."""
    return copy_project(tmp_path_factory.mktemp("bad-input") / "project")


def _expect_failure(project: Path, rel: str, line: int | None, col: str) -> None:
    """``line`` None: a YAML file (no lines); the key must be named, quoted."""
    before = _snapshot(project)
    proc = run_snakemake(project, "--cores", "1", timeout=300)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text[-3000:]
    where = rel if line is None else f"{rel}, line {line}"
    assert where in text, f"error does not name {where!r}:\n{text[-3000:]}"
    named = f"column '{col}'" if line is not None else f"'{col}'"
    assert named in text, f"error does not name {named}:\n{text[-3000:]}"
    assert _snapshot(project) == before, "a file was written under data/processed/ or figures/"


@pytest.mark.slow
@pytest.mark.parametrize("rel,schema,kind", CASES, ids=[f"{Path(r).stem}-{k}" for r, _, k in CASES])
def test_bad_table_stops_before_any_output(shared: Path, rel: str, schema: str, kind: str):
    path = shared / rel
    original = path.read_bytes()
    broken = mutate(original.decode("utf-8"), _schema(schema), kind)
    if broken is None:
        pytest.skip(f"{rel} has no column to break as {kind}")
    text, line, col = broken
    try:
        path.write_text(text, encoding="utf-8")
        _expect_failure(shared, rel, line, col)
    finally:
        path.write_bytes(original)


DEVICE_CASES = {
    "missing_required_key": ("name", None),
    "non_numeric": ("threads", "two"),
    "empty_required": ("name", ""),
    "malformed_date": ("measured_on", "2026-13-45"),
    "negative_value": ("ram_gb", -4),
    "unknown_enum": ("device_type", "abacus"),
    "wrong_folder": ("device_id", "not-this-folder"),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(DEVICE_CASES))
def test_bad_device_yaml_stops_before_any_output(shared: Path, kind: str):
    devices = sorted((shared / "data" / "raw" / "timings").glob("*/device.yaml"))
    if not devices:
        pytest.skip("no timing dataset in this checkout")
    path = devices[0]
    rel = str(path.relative_to(shared))
    original = path.read_bytes()
    facts = yaml.safe_load(original)
    key, value = DEVICE_CASES[kind]
    if value is None:
        facts.pop(key)
    else:
        facts[key] = value
    try:
        path.write_text(yaml.safe_dump(facts, sort_keys=False), encoding="utf-8")
        _expect_failure(shared, rel, None, key)
    finally:
        path.write_bytes(original)


def test_mutations_cover_every_kind_for_every_table():
    """Each table and the timing CSV are broken in at least 8 ways (a date only where there is
    one)."""
    files = [(ROOT / "data" / "raw" / "tables" / f"{name}.csv", name) for name in TABLES]
    files += [(path, "timings") for path in TIMINGS[:1]]
    for path, name in files:
        made = [k for k in KINDS if mutate(path.read_text(encoding="utf-8"), _schema(name), k)]
        has_date = any(p.get("format") == "date" for p in _schema(name)["properties"].values())
        assert len(made) == (9 if has_date else 8), (name, made)
