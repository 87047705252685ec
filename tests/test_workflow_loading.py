"""What each Snakemake start computes before any job: the library files each rule lists as inputs
(glue.code) and Snakemake's own validation of the configuration, specifications and tables, whose
passes are recorded (glue.inputs._validate)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT
from glue import code, inputs
from glue.code import library_files
from glue.inputs import InputError


def _modules_by_full_parse(path: Path) -> frozenset[str]:
    """Library modules imported anywhere in ``path``, from a walk of its whole syntax tree."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "greenflops")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "greenflops":
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
    return frozenset(found)


def test_import_scan_agrees_with_a_full_parse_of_every_project_file():
    files = [*sorted((ROOT / "scripts").rglob("*.py")),
             *sorted((ROOT / "workflow" / "rules" / "glue").rglob("*.py"))]
    assert len(files) > 100
    differ = [str(f) for f in files if code._imported_modules(f) != _modules_by_full_parse(f)]
    assert differ == []
    assert code._imported_modules(ROOT / "scripts" / "alpha_figures.py") >= {
        "greenflops.alpha.plots", "greenflops.io.outputs"}


def _library(tmp_path: Path, files: dict[str, str]) -> Path:
    scripts = tmp_path / "scripts"
    for name, text in files.items():
        path = scripts / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return scripts


def test_every_form_of_import_is_followed_through_the_library(tmp_path):
    scripts = _library(tmp_path, {
        "greenflops/__init__.py": '"""The library."""\n',
        "greenflops/pkg/__init__.py": "",
        "greenflops/pkg/top.py": "import os\nfrom greenflops.pkg import (\n    lazy,  # (a)\n"
                                 "    cont,\n)\n",
        "greenflops/pkg/lazy.py": "def f():\n    from greenflops.deep import leaf\n",
        "greenflops/pkg/cont.py": "from greenflops.pkg.alias \\\n    import name\n",
        "greenflops/pkg/alias.py": "import numpy as np, greenflops.other as other\nname = 1\n",
        "greenflops/deep/__init__.py": "",
        "greenflops/deep/leaf.py": "",
        "greenflops/other.py": "",
        "greenflops/unused.py": "",
        "job.py": '"""Reads x; see from greenflops the tables (prose)."""\n'
                  "import greenflops.pkg.top\n",
    })
    found = library_files(scripts / "job.py", scripts)
    names = sorted(str(Path(f).relative_to(scripts / "greenflops")) for f in found)
    assert names == ["__init__.py", "deep/__init__.py", "deep/leaf.py", "other.py",
                     "pkg/__init__.py", "pkg/alias.py", "pkg/cont.py", "pkg/lazy.py",
                     "pkg/top.py"]


def test_prose_that_looks_like_an_import_falls_back_to_the_whole_file(tmp_path):
    source = ('"""Usage:\n\nimport greenflops tables, then read them\n"""\n'
              "from greenflops.real import thing\n")
    assert code._import_statements(source) == source  # the prose does not parse alone
    path = tmp_path / "mod.py"
    path.write_text(source, encoding="utf-8")
    assert code._imported_modules(path) == {"greenflops.real", "greenflops.real.thing"}


SCHEMA = ("\"$schema\": \"https://json-schema.org/draft/2020-12/schema\"\n"
          "type: object\nproperties:\n  n: {type: integer, minimum: 0}\nrequired: [n]\n")


def test_a_passed_validation_is_recorded_and_any_change_validates_again(tmp_path, monkeypatch):
    monkeypatch.setenv("GREENFLOPS_CACHE_DIR", str(tmp_path / "cache"))
    schema = tmp_path / "n.schema.yaml"
    schema.write_text(SCHEMA, encoding="utf-8")
    with pytest.raises(InputError, match="n"):
        inputs._validate({"n": -1}, schema)
    assert not (tmp_path / "cache").exists()  # a failure is never recorded
    inputs._validate({"n": 1}, schema)
    assert len(list((tmp_path / "cache").iterdir())) == 1

    calls = []
    import snakemake.utils

    monkeypatch.setattr(snakemake.utils, "validate", lambda *a, **k: calls.append(a))
    inputs._validate({"n": 1}, schema)  # recorded: Snakemake's validator is not called
    assert calls == []
    inputs._validate({"n": 2}, schema)  # other data
    schema.write_text(SCHEMA.replace("minimum: 0", "minimum: 1"), encoding="utf-8")
    inputs._validate({"n": 1}, schema)  # other schema
    inputs._validate({"n": 1}, schema, source=b"n\n1\n")  # keyed by the file it came from
    assert len(calls) == 3


def test_recording_off_validates_every_time(tmp_path, monkeypatch):
    monkeypatch.setenv("GREENFLOPS_CACHE_DIR", "off")
    schema = tmp_path / "n.schema.yaml"
    schema.write_text(SCHEMA, encoding="utf-8")
    inputs._validate({"n": 1}, schema)
    import snakemake.utils

    calls = []
    monkeypatch.setattr(snakemake.utils, "validate", lambda *a, **k: calls.append(a))
    inputs._validate({"n": 1}, schema)
    assert len(calls) == 1


def test_a_timing_file_that_passed_is_not_read_again_until_its_bytes_change(
        tmp_path, monkeypatch):
    import shutil

    from greenflops.timing import datasets

    monkeypatch.setenv("GREENFLOPS_CACHE_DIR", str(tmp_path / "cache"))
    device = tmp_path / "timings" / "cpu-amd-epyc-2threads-quick"
    shutil.copytree(ROOT / "data" / "raw" / "timings" / device.name, device)
    schemas = ROOT / "workflow" / "schemas"
    args = (tmp_path / "timings", schemas / "timings.schema.yaml", schemas / "device.schema.yaml")
    first = datasets.validate_datasets(*args)
    files = list(first[device.name]["sweeps"].values())
    assert len(files) >= 2

    read = []
    real = datasets.read_timings
    monkeypatch.setattr(datasets, "read_timings", lambda p, s: read.append(p) or real(p, s))
    assert datasets.validate_datasets(*args) == first
    assert read == []  # every file passed before: none is read
    changed = Path(files[0])
    text = changed.read_text(encoding="utf-8").splitlines(keepends=True)
    changed.write_text("".join(text[:-1]), encoding="utf-8")  # one row fewer
    datasets.validate_datasets(*args)
    assert [Path(p) for p in read] == [changed]
