"""Reruns and determinism of the analysis path, on the session's full build (workflow_build):

* two clean runs on two project copies give byte-identical data/processed/ and figures/ (the
  whole-network check, which times networks on this machine, is compared by shape only);
* after adding one GPU row to gpus.csv, only the jobs that depend on the GPU table rerun;
* after adding one device's timing folder, only that device's jobs run, plus the timing inventory
  (it lists every dataset) and `all`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT, run_snakemake
from workflow_build import copy_sources, derived_files, full_build

NEW_DEVICE = ROOT / "tests" / "data" / "alpha" / "timings" / "synthetic-gpu-elsewhere"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return full_build(tmp_path_factory.getbasetemp())


def _planned(project: Path) -> list[tuple[str, str]]:
    """(rule, output file) of every job a run would execute now (`snakemake --summary`)."""
    proc = run_snakemake(project, "--summary", "--cores", "1", check=True)
    rows = csv.DictReader(io.StringIO(proc.stdout[proc.stdout.index("output_file"):]),
                          delimiter="\t")
    return sorted((r["rule"], r["output_file"]) for r in rows if r["plan"] != "no update")


@contextlib.contextmanager
def _appended(path: Path, line: str) -> Iterator[None]:
    """Append a line to a file of the built project, then restore its bytes and times. The rerun
    checks are dry runs in place: a copy elsewhere would not be up to date (see the report)."""
    data, stat = path.read_bytes(), path.stat()
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line)
        yield
    finally:
        path.write_bytes(data)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@pytest.mark.slow
def test_two_clean_runs_are_byte_identical(built: Path, tmp_path: Path):
    second = copy_sources(built, tmp_path / "second")
    run_snakemake(second, "--cores", "2", timeout=1800, check=True)
    first_files, second_files = derived_files(built), derived_files(second)
    assert sorted(first_files) == sorted(second_files), "the two runs wrote different files"
    assert len(first_files) > 60
    differ = []
    for path, data in first_files.items():
        if data != second_files[path]:
            differ.append(path)
    assert not differ, f"not byte-identical across clean runs: {differ}"


@pytest.mark.slow
def test_new_gpu_row_reruns_only_gpu_dependent_jobs(built: Path):
    assert _planned(built) == [], "the built project is not up to date"
    gpus = built / "data" / "raw" / "tables" / "gpus.csv"
    with _appended(gpus, 'Test GPU 9000,FP32,50.5,300,2024-06-01,server,"greenflops test row"\n'):
        planned = _planned(built)
    rules = {rule for rule, _ in planned}
    # gpus.csv feeds Table 9 / the Fig. 8 fits (gpu_efficiency), Figs. 7-8, the fidelity table and
    # the table inventory; the Fig. 8 fits feed the Joules of every model (energy_*), the trend
    # fits and the figures drawn from them, and the report pages of those tables.
    assert rules == {
        "table_inventory", "gpu_efficiency", "figures_hardware", "tables_hardware",
        "fidelity_trends", "energy_cv", "energy_nlp", "trend_fits", "figures_cv",
        "figures_nlp", "report_table",
        "networks_energy",  # the trends paper's GFLOPS/W beside the networks' energy
    }, rules
    pages = {out for rule, out in planned if rule == "report_table"}
    assert pages == {f"figures/report/trends/{n}.html" for n in (
        "table04_precision_speedups", "table09_gpu_efficiency", "trend_fits", "fidelity_trends")
    } | {"figures/report/networks/energy.html"}
    assert _planned(built) == [], "restoring gpus.csv did not restore the up-to-date state"


@pytest.mark.slow
def test_new_device_folder_runs_only_that_devices_jobs(built: Path):
    device = NEW_DEVICE.name
    folder = built / "data" / "raw" / "timings" / device
    old = [p.name for p in folder.parent.iterdir() if p.is_dir()]
    shutil.copytree(NEW_DEVICE, folder)
    try:
        planned = _planned(built)
    finally:
        shutil.rmtree(folder)
    # The networks stage prices every network on every device (a job per network over all
    # devices, tables over all of them: docs/networks.md), so its jobs rerun for a new device.
    networks = ("data/processed/networks/", "figures/networks/", "figures/report/networks/")
    assert {rule for rule, out in planned if out.startswith(networks)} <= {
        "network_predictions", "networks_validation", "networks_energy", "report_table"}
    planned = [(rule, out) for rule, out in planned if not out.startswith(networks)]
    per_device = [(rule, out) for rule, out in planned if f"/{device}/" in out]
    others = {rule for rule, out in planned if f"/{device}/" not in out}
    # Aggregates that must include the new device: the timing inventory lists every dataset.
    assert others == {"timings_inventory"}, planned
    rules = {rule for rule, _ in per_device}
    assert {"alpha_fit", "alpha_figure", "report_table"} <= rules, rules
    assert rules <= {"alpha_fit", "alpha_figure", "alpha_fig3a_table", "alpha_model_validation",
                     "report_table"}, rules
    # Nothing of the devices already there runs again.
    assert not [out for _, out in planned if any(f"/{d}/" in out for d in old)]
    assert _planned(built) == []
