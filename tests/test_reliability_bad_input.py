"""Bad input never gets past the workflow's load.

The matrix runs in-process through the function the workflow loads with
(``glue.inputs.load_inputs``, called by ``workflow/rules/common.smk`` when Snakemake parses the
Snakefile): every curated table of ``workflow/resources/tables.yaml``, a timing CSV and a
device.yaml, each broken in up to 9 ways, plus a misspelt configuration key and a bad
specification. Each must raise :class:`glue.inputs.InputError` naming the file, the line and the
column (the key, for YAML), exactly as Snakemake prints it.

A few end-to-end cases (slow) show the rest: a real ``snakemake`` run on a project copy exits
non-zero with that message before any job starts, and leaves nothing (hidden temporaries
included) under data/processed/, figures/ or logs/.
"""

from __future__ import annotations

import copy
import csv
import io
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, copy_project, run_snakemake
from glue.inputs import InputError, load_inputs

SCHEMAS = ROOT / "workflow" / "schemas"
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
TABLES = yaml.safe_load((ROOT / "workflow" / "resources" / "tables.yaml").read_text())["tables"]
# The smallest timing file of the first dataset the load validates (all have the same schema).
_FIRST = sorted(p.parent for p in (ROOT / "data" / "raw" / "timings").glob("*/device.yaml"))[:1]
TIMINGS = sorted((csv for d in _FIRST for csv in d.glob("*.csv")), key=lambda p: p.stat().st_size)
KINDS = ["missing_column", "extra_column", "duplicate_column", "non_numeric", "empty_required",
         "malformed_date", "negative_value", "duplicate_key", "unknown_enum"]
#: What load_inputs reads (config.yaml is passed in, as Snakemake passes its config).
INPUTS = ("workflow/schemas", "workflow/resources", "data/raw/tables", "data/raw/timings")


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


FILES = [(f"data/raw/tables/{name}.csv", name) for name in TABLES]
FILES += [(str(p.relative_to(ROOT)), "timings") for p in TIMINGS[:1]]


def _kinds(rel: str, schema: str) -> list[str]:
    """The ways ``rel`` can be broken (a date only where there is one, a duplicate key only
    where there is a key)."""
    text, parsed = (ROOT / rel).read_text(encoding="utf-8"), _schema(schema)
    return [kind for kind in KINDS if mutate(text, parsed, kind) is not None]


CASES = [(rel, schema, kind) for rel, schema in FILES for kind in _kinds(rel, schema)]

DEVICE_CASES = {
    "missing_required_key": ("name", None),
    "non_numeric": ("threads", "two"),
    "empty_required": ("name", ""),
    "malformed_date": ("measured_on", "2026-13-45"),
    "negative_value": ("ram_gb", -4),
    "unknown_enum": ("device_type", "abacus"),
    "wrong_folder": ("device_id", "not-this-folder"),
}


def _trim(path: Path, keep: int = 3) -> None:
    """Keep a timing CSV's header, its first ``keep`` rows and its last row: still valid (every
    check of a timing file is per row, or per key), and about ten times quicker to validate.
    Curated tables stay whole: they are small, and their rows reference each other."""
    if "timings" not in path.parts:
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if len(lines) > keep + 2:
        path.write_text("".join(lines[:keep + 1] + lines[-1:]), encoding="utf-8")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """A copy of what the workflow's load reads, the timing CSVs trimmed (:func:`_trim`). Each case
    writes the whole committed file it breaks over its trimmed copy, and restores the copy."""
    root = tmp_path_factory.mktemp("bad-input")
    for rel in INPUTS:
        shutil.copytree(ROOT / rel, root / rel)
    for csv_path in (root / "data" / "raw").rglob("*.csv"):
        _trim(csv_path)
    return root


@pytest.fixture
def load(inputs: Path, monkeypatch):
    """``load_inputs`` as common.smk calls it: from the project directory, which makes the paths
    in messages relative (as Snakemake prints them). Returns the InputError's message."""
    monkeypatch.chdir(inputs)

    def failing_load(config: dict = CONFIG) -> str:
        with pytest.raises(InputError) as info:
            load_inputs(inputs, config)
        return str(info.value)

    return failing_load


@pytest.fixture
def broken(inputs: Path):
    """Replace a file of the inputs copy for one test: broken(rel, text)."""
    saved: dict[Path, bytes] = {}

    def write(rel: str, text: str) -> None:
        path = inputs / rel
        saved.setdefault(path, path.read_bytes())
        path.write_text(text, encoding="utf-8")

    yield write
    for path, data in saved.items():
        path.write_bytes(data)


def test_the_inputs_copy_loads(inputs: Path, monkeypatch):
    """The unbroken (trimmed) copy loads, and so does every committed file the matrix breaks,
    whole: each failure below comes from the one broken file."""
    monkeypatch.chdir(inputs)
    try:
        for rel, _ in FILES:
            shutil.copy(ROOT / rel, inputs / rel)
        loaded = load_inputs(inputs, CONFIG)
    finally:
        for rel, _ in FILES:
            _trim(inputs / rel)
    assert sorted(loaded.tables) == sorted(TABLES)
    assert {Path(p).parent.name for p in TIMINGS} <= set(loaded.datasets)
    assert all(len(frame) > 0 for frame in loaded.tables.values())


@pytest.mark.parametrize("rel,schema,kind", CASES, ids=[f"{Path(r).stem}-{k}" for r, _, k in CASES])
def test_bad_table_is_named_with_line_and_column(load, broken, rel: str, schema: str, kind: str):
    text, line, col = mutate((ROOT / rel).read_text(encoding="utf-8"), _schema(schema), kind)
    broken(rel, text)
    message = load()
    assert f"{rel}, line {line}, column '{col}'" in message, message


def _device_yaml(key: str, value) -> tuple[str, str]:
    """(path, text) of the first committed device.yaml with ``key`` set (None: removed)."""
    path = sorted((ROOT / "data" / "raw" / "timings").glob("*/device.yaml"))[0]
    facts = yaml.safe_load(path.read_bytes())
    if value is None:
        facts.pop(key)
    else:
        facts[key] = value
    return str(path.relative_to(ROOT)), yaml.safe_dump(facts, sort_keys=False)


@pytest.mark.parametrize("kind", sorted(DEVICE_CASES))
def test_bad_device_yaml_is_named_with_its_key(load, broken, kind: str):
    key, value = DEVICE_CASES[kind]
    rel, text = _device_yaml(key, value)
    broken(rel, text)
    message = load()
    assert f"{rel}, column '{key}'" in message, message


def test_misspelt_config_key_is_named(load):
    config = copy.deepcopy(CONFIG)
    config["cluster"]["timing_gpuz"] = 1
    message = load(config)
    assert "unknown key 'cluster.timing_gpuz'" in message, message
    assert "did you mean 'cluster.timing_gpus'?" in message, message


def test_bad_specification_is_named(load, broken):
    rel = "workflow/resources/sweeps.yaml"
    spec = yaml.safe_load((ROOT / rel).read_text(encoding="utf-8"))
    spec["profiles"]["quick"]["timing"]["min_run_time"] = "fast"
    broken(rel, yaml.safe_dump(spec))
    message = load()
    assert message.startswith(f"{rel}: ") and "'fast'" in message, message


def test_mutations_cover_every_kind_for_every_table():
    """Each table and the timing CSV are broken in at least 8 ways (a date only where there is
    one)."""
    assert len(FILES) == len(TABLES) + 1, "no committed timing dataset to break"
    for rel, name in FILES:
        has_date = any(p.get("format") == "date" for p in _schema(name)["properties"].values())
        assert len(_kinds(rel, name)) == (9 if has_date else 8), (name, _kinds(rel, name))


# --- end to end: Snakemake stops before any job ------------------------------------------------


def _written(project: Path) -> list[str]:
    """Every file or folder under the derived folders and logs/ (hidden ones too)."""
    return sorted(str(p.relative_to(project)) for top in ("data/processed", "figures", "logs")
                  for p in (project / top).rglob("*"))


def _break_line(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert old in lines[line - 1], (path, lines[line - 1])
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


E2E = {
    # A non-numeric TDP on file line 5 of gpus.csv, default target.
    "table": ("data/raw/tables/gpus.csv", 5, "data/raw/tables/gpus.csv, line 5, column "
              "'watts_tdp'", "'lots' is not an integer", []),
    # An unknown dtype in a committed timing file, asking for that device's fit only.
    "timings": ("data/raw/timings/cpu-amd-epyc-1thread/dense_batch.csv", 3,
                "data/raw/timings/cpu-amd-epyc-1thread/dense_batch.csv, line 3, column 'dtype'",
                "'float33'", ["data/processed/alpha/cpu-amd-epyc-1thread/fit_report.csv"]),
    # A device.yaml of another folder.
    "device": ("data/raw/timings/cpu-amd-epyc-2threads/device.yaml", None,
               "data/raw/timings/cpu-amd-epyc-2threads/device.yaml, column 'device_id'",
               "'elsewhere' is not the folder's name", []),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("bad-input-e2e") / "project")


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(E2E))
def test_snakemake_stops_before_any_job(project: Path, case: str):
    rel, line, where, problem, targets = E2E[case]
    path = project / rel
    original = path.read_bytes()
    try:
        if case == "table":
            cells = path.read_text(encoding="utf-8").splitlines()[line - 1].split(",")
            _break_line(path, line, cells[3], "lots")
        elif case == "timings":
            _break_line(path, line, ",float32,", ",float33,")
        else:
            path.write_text(original.decode().replace(
                "device_id: cpu-amd-epyc-2threads", "device_id: elsewhere"), encoding="utf-8")
        before = _written(project)
        proc = run_snakemake(project, "--cores", "1", *targets, timeout=300)
    finally:
        path.write_bytes(original)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text[-3000:]
    assert where in text and problem in text, text[-3000:]
    # Stopped while parsing: no DAG was built, no job was planned or started.
    assert "Building DAG of jobs" not in text and "Job stats" not in text, text[-3000:]
    assert _written(project) == before == [], "a file was written under the derived folders"
