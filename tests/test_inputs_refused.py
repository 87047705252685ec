"""Wrong-but-plausible input stops the load, in-process, through the loader the workflow uses
(``glue.inputs.load_inputs``, called by workflow/rules/common.smk): bounds, references across
tables and specifications, keys compared as people read them, a config that cannot hang or be
misread, encodings and line numbers. Each case breaks one file of a project copy and checks the
message names the place and the value. End-to-end cases (Snakemake stops before any job) are at
the bottom, marked slow."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, copy_project, run_snakemake
from glue.inputs import InputError, check_config_file, load_inputs
from greenflops.io.plainyaml import PlainYAMLError, load_plain_yaml

CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
CV = "data/raw/tables/cv_models.csv"
GPUS = "data/raw/tables/gpus.csv"
TRENDS = "workflow/resources/trends.yaml"
TIMING_DIR = "data/raw/timings/cpu-amd-epyc-1thread"

#: A 9 x 9 "billion laughs": 9^9 list items once expanded.
BOMB = "\n".join(
    [f"l0: &l0 [{', '.join(['lol'] * 9)}]"]
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
) + "\n"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A project copy that the cases below copy again (only the inputs the loader reads)."""
    return copy_project(tmp_path_factory.mktemp("inputs") / "project")


@pytest.fixture
def project(base, tmp_path, monkeypatch) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(base, dest, symlinks=True)
    monkeypatch.chdir(dest)  # messages name paths relative to the working directory
    return dest


def _load(project: Path, config: dict | None = None, timings: bool = False):
    """The workflow's load; the timing datasets (a second or two) only where a case needs them."""
    return load_inputs(project, config or CONFIG, timings=timings)


def _edit_line(path: Path, match: str, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` on the first line containing ``match``; its line number."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for i, line in enumerate(lines):
        if match in line:
            assert old in line, (old, line)
            lines[i] = line.replace(old, new, 1)
            path.write_text("".join(lines), encoding="utf-8")
            return i + 1
    raise AssertionError(f"no line with {match!r} in {path}")


def _refused(project: Path, *parts: str, config: dict | None = None,
             timings: bool = False) -> str:
    with pytest.raises(InputError) as err:
        _load(project, config, timings)
    message = str(err.value)
    for part in parts:
        assert part in message, f"{part!r} not in: {message}"
    return message


def test_the_committed_inputs_load(project):
    inputs = _load(project, timings=True)
    assert "cv_models" in inputs.tables and "cpu-amd-epyc-1thread" in inputs.datasets


# --- bounds -------------------------------------------------------------------------------------

@pytest.mark.parametrize("date,bound", [("2199-01-01", "after"), ("1950-01-01", "before")])
def test_release_dates_outside_the_fields_history(project, date, bound):
    line = _edit_line(project / CV, "ResNet-50,", "2015-12-10", date)
    _refused(project, f"{CV}, line {line}, column 'release_date'", repr(date), bound)


@pytest.mark.parametrize("text", ["7_600", "0x10", "inf", "1e308"])
def test_numbers_a_csv_does_not_hold(project, text):
    line = _edit_line(project / CV, "ResNet-50,", ",7.60,", f",{text},")
    _refused(project, f"{CV}, line {line}, column 'gflops'")


def test_accuracy_of_zero_is_not_a_percentage_of_images(project):
    line = _edit_line(project / CV, "ResNet-50,", "75.30", "0")
    _refused(project, f"{CV}, line {line}, column 'top1_accuracy_pct'")


def test_gpu_power_beyond_any_board(project):
    line = _edit_line(project / GPUS, "Tesla V100,FP32", ",300,", ",300000,")
    _refused(project, f"{GPUS}, line {line}, column 'watts_tdp'")


def test_device_measured_in_the_future(project):
    path = project / TIMING_DIR / "device.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "measured_on: '", "measured_on: '2999-01-01' # was '", 1), encoding="utf-8")
    _refused(project, f"{TIMING_DIR}/device.yaml", "'measured_on'", "2999-01-01", timings=True)


# --- references ---------------------------------------------------------------------------------

def test_a_removed_gpu_row_that_table9_needs(project):
    path = project / GPUS
    text = path.read_text(encoding="utf-8")
    path.write_text("".join(line for line in text.splitlines(keepends=True)
                            if not line.startswith("Tesla V100,FP32")), encoding="utf-8")
    _refused(project, TRENDS, "gpu_names.V100", "'Tesla V100'", GPUS)


def test_a_misspelt_reference_model(project):
    _edit_line(project / TRENDS, "reference_model:", "AlexNet", "AlexNett")
    _refused(project, TRENDS, "table1.reference_model", "'AlexNett'", "nearest: 'AlexNet'")


def test_a_misspelt_table9_exclusion(project):
    _edit_line(project / TRENDS, "- gpu: A30", "A30", "A-30")
    _refused(project, TRENDS, "table9.exclude[1]", "'A-30 FP32'", "nearest: 'A30 FP32'")


def test_an_estimate_of_a_model_that_is_not_there(project):
    path = project / "data/raw/tables/flops_estimates.csv"
    line = _edit_line(path, "FixEfficientNet-B7,", "FixEfficientNet-B7", "FixEfficientNet-B77")
    _refused(project, f"data/raw/tables/flops_estimates.csv, line {line}, column 'model'",
             "'FixEfficientNet-B77'", "nearest: 'FixEfficientNet-B7'")


def test_an_alpha_figure_naming_no_sweep_family(project):
    _edit_line(project / "workflow/resources/alpha_figures.yaml", "fig07_dense_batch:",
               "[dense_batch]", "[dense_batchh]")
    _refused(project, "alpha_figures.yaml", "'dense_batchh'", "nearest: 'dense_batch'")


# --- keys as people read them --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["resnet-50 ", "RESNET-50", "ＲｅｓＮｅｔ-50"])
def test_a_key_that_differs_only_in_case_space_or_width_is_a_duplicate(project, name):
    path = project / CV
    row = next(line for line in path.read_text(encoding="utf-8").splitlines()
               if line.startswith("ResNet-50,"))
    path.write_text(path.read_text(encoding="utf-8") + row.replace("ResNet-50", name, 1) + "\n",
                    encoding="utf-8")
    _refused(project, CV, "duplicate key", "already on line")


# --- config that cannot hang or be misread --------------------------------------------------------

def test_an_unknown_config_key_is_named_with_the_nearest(project):
    config = dict(CONFIG, sweep_profiel="quick")
    _refused(project, "sweep_profiel", "did you mean 'sweep_profile'", config=config)
    nested = {**CONFIG, "cluster": {**CONFIG["cluster"], "gpu_modle": "a100"}}
    _refused(project, "cluster.gpu_modle", "cluster.gpu_model", config=nested)


def test_a_billion_laughs_config_fails_in_well_under_a_second(project):
    (project / "config.yaml").write_text(BOMB, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"config.yaml, line 1: YAML anchor &l0 refused"):
        check_config_file(project / "config.yaml")
    assert time.perf_counter() - start < 0.5


def test_a_yaml_tag_gets_a_message_about_tags(project):
    (project / "config.yaml").write_text("sweep_profile: !!python/name:os.system none\n",
                                         encoding="utf-8")
    with pytest.raises(InputError, match="line 1: YAML tag .*python/name:os.system refused"):
        check_config_file(project / "config.yaml")


def test_device_yaml_with_an_alias_is_refused(project):
    path = project / TIMING_DIR / "device.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "copy: &c [1]\nagain: *c\n",
                    encoding="utf-8")
    _refused(project, f"{TIMING_DIR}/device.yaml", "anchor &c refused", timings=True)


def test_plain_yaml_reads_plain_data(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text("a: 1\nb: [x, 'y']\nwhen: 2026-01-01\n", encoding="utf-8")
    assert load_plain_yaml(path)["b"] == ["x", "y"]
    path.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(PlainYAMLError, match="line 2: not valid YAML"):
        load_plain_yaml(path)


# --- encodings, separators, line numbers -------------------------------------------------------------

def test_a_latin1_file_gets_one_sentence(project):
    path = project / CV
    text = path.read_text(encoding="utf-8")
    line = 1 + text[: text.index("Sémery")].count("\n")
    path.write_bytes(text.encode("latin-1"))
    message = _refused(project, f"{CV}, line {line}", "not UTF-8", "save it as UTF-8")
    assert "Traceback" not in message and "codec" not in message


def test_a_utf8_byte_order_mark_is_read_as_if_absent(project):
    path = project / CV
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(_load(project).tables["cv_models"]) == 94


def test_a_semicolon_separated_file_is_named_as_such(project):
    path = project / GPUS
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    _refused(project, f"{GPUS}, line 1", "separated by semicolons", "commas")


def test_error_lines_count_blank_lines(project):
    path = project / TIMING_DIR / "dense_batch.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(2, "\n")  # a blank line after the first row
    lines[4] = lines[4].replace("dense_batch", "dense_batch_x", 1)  # file line 5
    path.write_text("".join(lines), encoding="utf-8")
    _refused(project, f"{TIMING_DIR}/dense_batch.csv, line 5, column 'sweep'", timings=True)


# --- timing folders -------------------------------------------------------------------------------

def test_a_timing_folder_without_device_yaml_is_named(project):
    (project / TIMING_DIR / "device.yaml").unlink()
    _refused(project, TIMING_DIR, "no device.yaml", timings=True)


# --- end to end: Snakemake stops before any job, writes nothing -----------------------------------

def _outputs(project: Path) -> dict[str, int]:
    return {str(p.relative_to(project)): p.stat().st_size
            for top in ("data/processed", "figures") for p in (project / top).rglob("*")}


@pytest.mark.slow
def test_snakemake_stops_on_a_reference_before_any_job(project):
    _edit_line(project / TRENDS, "reference_model:", "AlexNet", "AlexNett")
    before = _outputs(project)
    proc = run_snakemake(project, "--cores", "1")
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "table1.reference_model" in text and "'AlexNett'" in text, text[-2000:]
    assert not re.search(r"^(rule|localrule) \w+:", text, re.M), "a job started"
    assert _outputs(project) == before


@pytest.mark.slow
def test_snakemake_refuses_a_config_bomb_at_once(project):
    (project / "config.yaml").write_text(BOMB, encoding="utf-8")
    start = time.perf_counter()
    proc = run_snakemake(project, "--cores", "1", timeout=60)
    assert proc.returncode != 0
    assert "YAML anchor &l0 refused" in proc.stdout + proc.stderr
    assert time.perf_counter() - start < 30  # Snakemake's own start included
