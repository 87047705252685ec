"""Config ``imports`` in the workflow: planned when the workflow loads (cached), bad imports
stop the load naming the file and the config entry, device ids stay unique across
data/raw/timings/ and data/imported/; end to end on the public data (slow): the imported
devices are fitted, drawn and reported, a second run does nothing, nothing is tracked by git."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import copy_project, run_snakemake
from glue.imports import import_names, plan_imports
from glue.inputs import InputError, load_inputs
from greenflops.timing.datasets import validate_datasets
from imports_fixtures import (
    HOSTILE,
    make_workbook,
    require_openpyxl,
    shared_data,
    write_alpha_pickle,
)

ROOT = Path(__file__).resolve().parents[1]
T2000 = "asperti2021-quadro-t2000"


def _config(imports: list | None = None) -> dict:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    if imports is not None:
        config["imports"] = imports
    return config


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The inputs load_inputs reads (workflow, curated data, scripts for the plan's key)."""
    for sub in ("workflow", "data/raw", "scripts"):
        shutil.copytree(ROOT / sub, tmp_path / sub, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_default_config_imports_nothing(tree, monkeypatch):
    monkeypatch.chdir(tree)
    assert _config()["imports"] == []
    inputs = load_inputs(tree, _config(), plan_cache=tree / ".cache")
    assert inputs.imports == {}
    assert all("import" not in e for e in inputs.datasets.values())
    assert not (tree / ".cache").exists() and not (tree / "data/imported").exists()


def test_an_import_is_planned_from_its_source_and_cached(tree, tmp_path, monkeypatch):
    pickle_path = write_alpha_pickle(tmp_path / "src" / "data.pickle")
    monkeypatch.chdir(tree)
    config = _config([{"format": "asperti2021", "path": str(pickle_path)}])
    inputs = load_inputs(tree, config, plan_cache=tree / ".cache")
    (planned,) = inputs.imports.values()
    assert planned.name == "asperti2021" and planned.sources == (str(pickle_path),)
    assert sorted(planned.datasets[T2000]["sweeps"])[:2] == ["dense_batch", "dense_vs_conv"]
    entry = inputs.datasets[T2000]
    assert entry["device"] == f"data/imported/{T2000}/device.yaml"
    assert entry["facts"]["device_type"] == "cuda" and entry["import"] == "asperti2021"
    outputs = planned.outputs()
    assert f"data/imported/{T2000}/k_vs_spatial.csv" in outputs
    assert outputs[-2:] == ["data/imported/import_summary_asperti2021.yaml",
                            "data/imported/import_summary_asperti2021.csv"]
    assert len(list((tree / ".cache").glob("*.json"))) == 1
    # a second load reads the cache: the importer does not run again
    import greenflops.imports.formats as formats

    monkeypatch.setattr(formats, "run_import", lambda *a: pytest.fail("re-planned"))
    again = load_inputs(tree, config, plan_cache=tree / ".cache")
    assert again.imports["asperti2021"].datasets == planned.datasets
    # a changed source is planned again
    write_alpha_pickle(pickle_path, numpy1_names=True)
    with pytest.raises(pytest.fail.Exception, match="re-planned"):
        load_inputs(tree, config, plan_cache=tree / ".cache")


def test_names_of_imports():
    assert import_names([{"format": "deepbench"}, {"format": "asperti2021"}]) == [
        "deepbench", "asperti2021"]
    assert import_names([{"format": "deepbench"}, {"format": "deepbench"}]) == [
        "deepbench_1", "deepbench_2"]


def test_a_missing_path_stops_the_load(tree, tmp_path, monkeypatch):
    monkeypatch.chdir(tree)
    missing = tmp_path / "nowhere" / "data.pickle"
    config = _config([{"format": "asperti2021", "path": str(missing)}])
    with pytest.raises(InputError, match=r"config: imports\[0\] .*no such file") as err:
        load_inputs(tree, config, plan_cache=None)
    assert str(missing) in str(err.value)
    config = _config([{"format": "deepbench", "path": str(tmp_path / "nowhere")}])
    with pytest.raises(InputError, match="no such file or folder"):
        load_inputs(tree, config, plan_cache=None)
    assert not (tree / "data/imported").exists()


@pytest.mark.parametrize("name", ["os.system", "subprocess.Popen"])
def test_a_hostile_pickle_stops_the_load_and_runs_nothing(tree, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tree)
    marker = tmp_path / "PWNED"
    path = tmp_path / "data.pickle"
    path.write_bytes(HOSTILE[name](marker))
    config = _config([{"format": "asperti2021", "path": str(path)}])
    with pytest.raises(InputError, match="refused to load global") as err:
        load_inputs(tree, config, plan_cache=tree / ".cache")
    assert str(path) in str(err.value)
    assert not marker.exists() and not (tree / "data/imported").exists()
    assert not list((tree / ".cache").glob("*.json"))


def test_a_workbook_without_the_headers_stops_the_load(tree, tmp_path, monkeypatch):
    require_openpyxl()
    monkeypatch.chdir(tree)
    book = make_workbook(tmp_path / "results/train/DeepBench_NV_V100.xlsx", drop_header="Q")
    make_workbook(tmp_path / "results/train/DeepBench_NV_M40.xlsx", drop_header="pad_w")
    config = _config([{"format": "deepbench", "path": str(tmp_path / "results")}])
    with pytest.raises(InputError, match="column 'pad_w'") as err:
        load_inputs(tree, config, plan_cache=None)
    assert "DeepBench_NV_M40.xlsx" in str(err.value) and "sheet 'Results FP32'" in str(err.value)
    assert book.exists()  # P/Q are optional: the V100 workbook alone plans fine
    config = _config([{"format": "deepbench", "path": str(book)}])
    (planned,) = load_inputs(tree, config, plan_cache=None).imports.values()
    assert list(planned.datasets) == ["deepbench-v100-train"]


def test_unknown_keys_of_an_import_are_named(tree, monkeypatch):
    monkeypatch.chdir(tree)
    config = _config([{"format": "asperti2021", "paht": "x"}])
    with pytest.raises(InputError, match=r"unknown key 'imports\[0\].paht'; did you mean "
                                         r"'imports\[0\].path'"):
        load_inputs(tree, config, plan_cache=None)
    with pytest.raises(InputError, match="asperti2021"):
        load_inputs(tree, _config([{"format": "mlperf", "path": "x"}]), plan_cache=None)


def test_device_ids_are_unique_across_both_roots(tree, tmp_path, monkeypatch):
    monkeypatch.chdir(tree)
    pickle_path = write_alpha_pickle(tmp_path / "data.pickle")
    clash = tree / "data/raw/timings" / T2000
    shutil.copytree(tree / "data/raw/timings/cpu-amd-epyc-1thread", clash)
    facts = yaml.safe_load((clash / "device.yaml").read_text())
    (clash / "device.yaml").write_text(yaml.safe_dump(dict(facts, device_id=T2000)))
    config = _config([{"format": "asperti2021", "path": str(pickle_path)}])
    with pytest.raises(InputError, match=f"device id '{T2000}' names two timing folders, "
                                         f"data/raw/timings/{T2000} and data/imported/{T2000}"):
        load_inputs(tree, config, plan_cache=None)
    twice = _config([{"format": "asperti2021", "path": str(pickle_path)}] * 2)
    shutil.rmtree(clash)
    with pytest.raises(InputError, match=r"imports\[1\] .*writes dataset .*imports\[0\]"):
        load_inputs(tree, twice, plan_cache=None)


def test_a_folder_left_in_data_imported_is_validated(tree, monkeypatch):
    monkeypatch.chdir(tree)
    left = tree / "data/imported/old-gpu"
    shutil.copytree(tree / "data/raw/timings/cpu-amd-epyc-1thread", left)
    facts = yaml.safe_load((left / "device.yaml").read_text())
    (left / "device.yaml").write_text(yaml.safe_dump(dict(facts, device_id="old-gpu")))
    assert "old-gpu" in load_inputs(tree, _config(), plan_cache=None).datasets
    csv = left / "dense_batch.csv"
    csv.write_text(csv.read_text().replace("float32", "float8", 1))
    with pytest.raises(InputError, match="old-gpu/dense_batch.csv, line 2, column 'dtype'"):
        load_inputs(tree, _config(), plan_cache=None)


def test_planning_without_cache_folder(tmp_path):
    write_alpha_pickle(tmp_path / "d.pickle")
    plan = plan_imports([{"format": "asperti2021", "path": str(tmp_path / "d.pickle")}],
                        ROOT / "scripts", cache=None)
    assert list(plan["asperti2021"].datasets) == [T2000]


# --- end to end on the public data -----------------------------------------------------------


def _imports(data: Path) -> str:
    return ("imports=[{format: asperti2021, path: "
            f"{data / 'asperti2021-t2000' / 'data.pickle'}}}, {{format: deepbench, path: "
            f"{data / 'deepbench' / 'results' / 'inference' / 'DeepBench_NV_T4.xlsx'}}}]")


@pytest.mark.slow
def test_imports_end_to_end_on_the_public_data(tmp_path):
    data = shared_data()
    require_openpyxl()
    project = copy_project(tmp_path / "project")
    imports = _imports(data)
    devices = [T2000, "deepbench-t4-inference-int8"]
    targets = [f"data/imported/import_summary_{n}.yaml" for n in ("asperti2021", "deepbench")]
    for dev in devices:
        targets += [f"data/processed/alpha/{dev}/fit_report.csv",
                    f"figures/alpha/{dev}/pred_vs_measured.png",
                    f"figures/report/alpha/{dev}/fit_quality.html"]
    targets += [f"figures/alpha/{T2000}/fig02a_k_vs_channels.png",  # the GPU Fig. 2a
                f"figures/alpha/{T2000}/fig03a_table.md",
                "figures/tables/fidelity_alpha_t2000.md",
                "figures/report/alpha/fidelity_alpha_t2000.html"]
    run_snakemake(project, "--cores", "2", *targets, "--config", imports, timeout=1800,
                  check=True)
    found = validate_datasets(project / "data/imported",
                              project / "workflow/schemas/timings.schema.yaml",
                              project / "workflow/schemas/device.schema.yaml")
    assert sorted(found) == sorted(devices)
    assert sum(1 for _ in found[T2000]["sweeps"]) == 8
    t4 = yaml.safe_load((project / f"data/imported/{devices[1]}/import_summary.yaml").read_text())
    assert (t4["rows_imported"], t4["rows_dropped"]) == (111, {"padded_kernel": 71})
    assert found[devices[1]]["facts"]["source"]["license"] == "Apache-2.0"
    page = (project / f"figures/report/alpha/{devices[1]}/fit_quality.html").read_text()
    assert f"data/imported/{devices[1]}/" in page
    fidelity = (project / "figures/tables/fidelity_alpha_t2000.md").read_text()
    assert "The printed K > 1 values (β = 0.001, γ = 0.56) are" in fidelity
    log = (project / "logs/imports/import_data_deepbench.log").read_text()
    assert "111 rows imported" in log and "padded_kernel" in log
    # a second identical run does nothing
    again = run_snakemake(project, "-n", "--cores", "2", *targets, "--config", imports,
                          check=True)
    assert "Nothing to be done" in again.stdout + again.stderr
    # and the whole workflow has the imported devices' rules
    rules = run_snakemake(project, "--list-rules", "--config", imports, check=True).stdout
    for rule in ("import_data_asperti2021", "import_data_deepbench", "alpha_t2000_fidelity",
                 f"alpha_figures_{T2000.replace('-', '_')}",
                 "alpha_figures_deepbench_t4_inference_int8"):
        assert rule in rules.split(), rule
    # nothing from the public data is tracked by git
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    tracked = subprocess.run(["git", "ls-files"], cwd=project, check=True, capture_output=True,
                             text=True).stdout.splitlines()
    assert not [f for f in tracked if f.startswith("data/imported/")
                or f.endswith((".xlsx", ".pickle"))]


@pytest.mark.slow
def test_a_hostile_import_stops_snakemake_before_any_job(tmp_path):
    project = copy_project(tmp_path / "project")
    marker = tmp_path / "PWNED"
    path = tmp_path / "data.pickle"
    path.write_bytes(HOSTILE["os.system"](marker))
    proc = run_snakemake(project, "-n", "--cores", "1", "--config",
                         f"imports=[{{format: asperti2021, path: {path}}}]")
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "refused to load global os.system" in output and str(path) in output
    assert not marker.exists() and not (project / "data/imported").exists()


@pytest.mark.slow
def test_a_file_turned_hostile_after_planning_fails_its_job_and_writes_nothing(tmp_path):
    """The job reads its files again: one swapped for a hostile pickle of the same size and
    modification time (so the cached plan is used) stops the job, which leaves nothing."""
    project = copy_project(tmp_path / "project")
    good = write_alpha_pickle(tmp_path / "data.pickle")
    imports = f"imports=[{{format: asperti2021, path: {good}}}]"
    run_snakemake(project, "-n", "--cores", "1", "--config", imports, check=True)  # plans, caches
    stat = good.stat()
    marker = tmp_path / "PWNED"
    hostile = HOSTILE["os.system"](marker)
    good.write_bytes(hostile + b"\0" * (stat.st_size - len(hostile)))
    os.utime(good, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    proc = run_snakemake(project, "--cores", "1", "data/imported/import_summary_asperti2021.yaml",
                         "--config", imports)
    assert proc.returncode != 0
    log = (project / "logs/imports/import_data_asperti2021.log").read_text()
    assert "refused to load global os.system" in log and str(good) in log
    assert not marker.exists() and not (project / "data/imported").exists()
