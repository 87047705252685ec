"""Reruns and determinism of the analysis path, on the session's full build (workflow_build):

* two clean runs on two project copies give byte-identical data/processed/ and figures/ (the
  session's two builds);
* after adding one CV model to cv_models.csv, only the jobs that read the CV table rerun (the CV
  half of the `energy` rule, not the NLP half);
* after adding one GPU row to gpus.csv, only the jobs that depend on the GPU table rerun;
* after adding one device's timing folder, only that device's jobs run, plus the timing inventory
  (it lists every dataset).

The rerun checks compare the *outputs* Snakemake plans (`--summary`), not only rule names: one
rule (`energy`, `report_table`) makes several independent outputs. They are dry runs in place,
each restoring the file it changed (bytes and times), and the last test checks that the build is
up to date again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT
from workflow_build import build_outputs, build_summary, derived_files, summary

NEW_DEVICE = ROOT / "tests" / "data" / "alpha" / "timings" / "synthetic-gpu-elsewhere"
CV_ROW = ('TestNet-X,80.00,10.00,2.00,none,2021-05-01,cnn,reported,reported,"Test, 2021",paper,'
          'paper,paper\n')
# Dated within the paper's period: a later GPU belongs in gpus_2021_2025.csv (docs/data.md).
GPU_ROW = 'Test GPU 9000,FP32,50.5,300,2020-06-01,server,"greenflops test row"\n'


def _planned(project: Path) -> dict[str, str]:
    """Output file -> rule, for every output a run would (re)make now."""
    return {out: rule for out, (rule, plan) in summary(project).items() if plan != "no update"}


def _by_rule(planned: dict[str, str]) -> dict[str, set[str]]:
    rules: dict[str, set[str]] = {}
    for out, rule in planned.items():
        rules.setdefault(rule, set()).add(out)
    return rules


@pytest.fixture(scope="module")
def outputs(built: Path) -> dict[str, set[str]]:
    """Rule -> every output it makes in the built project."""
    return _by_rule(build_outputs())


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


def _pages(*names: str) -> set[str]:
    return {f"figures/report/trends/{name}.html" for name in names}


@pytest.mark.slow
def test_the_build_is_up_to_date(built: Path):
    """The reruns below are measured from an up-to-date build."""
    stale = [out for out, (_, plan) in build_summary().items()
             if plan != "no update"]
    assert stale == []


@pytest.mark.slow
def test_two_clean_runs_are_byte_identical(built: Path, second_build: Path):
    """Runs last (conftest.py): the second build runs in the background meanwhile."""
    first_files, second_files = derived_files(built), derived_files(second_build)
    assert sorted(first_files) == sorted(second_files), "the two runs wrote different files"
    assert len(first_files) > 60
    differ = [path for path, data in first_files.items() if data != second_files[path]]
    assert not differ, f"not byte-identical across clean runs: {differ}"


@pytest.mark.slow
def test_new_cv_row_reruns_only_cv_dependent_jobs(built: Path, outputs: dict[str, set[str]]):
    with _appended(built / "data" / "raw" / "tables" / "cv_models.csv", CV_ROW):
        planned = _by_rule(_planned(built))
    # cv_models.csv feeds the table inventory and the computed estimates (flops_estimates), which
    # feed the CV energy and fits, the Fig. 1 correlation, Table 1, the CV figures, the fidelity
    # table and the trend fits, the paper period of the trends through 2025, the networks' FLOPs
    # beside Table 2, the summary, and the report pages of those tables.
    whole = {"table_inventory", "flops_estimates", "params_flops_correlation",
             "trends_tables_cv", "trends_figures_cv", "fidelity_trends", "trend_fits",
             "trends2025_analysis", "trends2025_figures", "networks_flops", "summary"}
    assert set(planned) == whole | {"energy", "report_table"}, sorted(planned)
    for rule in whole:  # every output of these jobs, nothing of the others
        assert planned[rule] == outputs[rule], rule
    assert planned["energy"] == {"data/processed/energy_cv.csv",
                                 "data/processed/trends/fits_cv.csv"}
    assert planned["report_table"] == _pages("table01_alexnet_flops", "trend_fits",
                                             "fidelity_trends") | {
        "figures/report/networks/flops_comparison.html"}


@pytest.mark.slow
def test_new_gpu_row_reruns_only_gpu_dependent_jobs(built: Path, outputs: dict[str, set[str]]):
    with _appended(built / "data" / "raw" / "tables" / "gpus.csv", GPU_ROW):
        planned = _by_rule(_planned(built))
    # gpus.csv feeds Table 9 / the Fig. 8 fits (gpu_efficiency), Figs. 7-8, the fidelity table and
    # the table inventory; the Fig. 8 fits feed the Joules of every model (both halves of
    # `energy`), the trend fits and the figures drawn from them, the paper period of the trends
    # through 2025, the networks' energy beside the trends paper's GFLOPS/W, the summary, and the
    # report pages of those tables.
    whole = {"table_inventory", "gpu_efficiency", "trends_figures_hardware",
             "trends_tables_hardware", "fidelity_trends", "trend_fits", "trends_figures_cv",
             "trends_figures_nlp", "energy", "networks_energy", "trends2025_analysis",
             "trends2025_figures", "summary"}
    assert set(planned) == whole | {"report_table"}, sorted(planned)
    for rule in whole:
        assert planned[rule] == outputs[rule], rule
    assert len(planned["energy"]) == 4  # cv and nlp: energy table and fitted lines each
    assert planned["report_table"] == _pages("table04_precision_speedups",
                                             "table09_gpu_efficiency", "trend_fits",
                                             "fidelity_trends") | {
        "figures/report/networks/energy.html"}


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
    assert {rule for out, rule in planned.items() if out.startswith(networks)} <= {
        "network_predictions", "networks_validation", "networks_energy", "report_table"}
    planned = {out: rule for out, rule in planned.items() if not out.startswith(networks)}
    per_device = {out: rule for out, rule in planned.items() if f"/{device}/" in out}
    others = {rule for out, rule in planned.items() if out not in per_device}
    # Aggregates that must include the new device: the timing inventory lists every dataset,
    # the summary its fit, the figure index its figures, the cross-device table (and its report
    # page) its recommended model.
    assert others == {"timings_inventory", "summary", "figure_index", "alpha_cross_device",
                      "report_table"}, planned
    assert {out for out, rule in planned.items() if rule == "report_table"
            and out not in per_device} == {"figures/report/alpha/alpha_cross_device.html"}
    figures = f"alpha_figures_{device.replace('-', '_')}"
    rules = set(per_device.values())
    assert {"alpha_fit", figures, "alpha_fig3a_table", "report_table"} <= rules, rules
    assert rules <= {"alpha_fit", figures, "alpha_fig3a_table", "alpha_model_validation",
                     "report_table"}, rules
    # Nothing of the devices already there runs again.
    assert not [out for out in planned if any(f"/{d}/" in out for d in old)]


@pytest.mark.slow
def test_restoring_leaves_the_build_up_to_date(built: Path):
    """Last in this module: the changes above were undone (the report and the SLURM tests use
    the same build)."""
    assert _planned(built) == {}
