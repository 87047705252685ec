"""greenflops.imports on synthetic files: contract rows and FLOPs, drop counts per reason,
restricted unpickling (hostile pickles never run anything), DeepBench columns read by header
name, and all-or-nothing writing validated by the contract's own reader."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from greenflops.imports import writing
from greenflops.imports.accounting import Dataset, DropLog, ImportResult
from greenflops.imports.asperti2021 import DEVICE_ID, PLOT_MAPPINGS, import_asperti2021
from greenflops.imports.formats import run_import, source_files
from greenflops.imports.pickles import UnsafePickleError, load_pickle
from greenflops.imports.rows import ImportDataError, conv_row, dedupe, linear_row
from greenflops.imports.writing import write_datasets
from greenflops.timing.datasets import validate_datasets
from imports_fixtures import (
    CONV_HEADER_RS,
    CONVS,
    GEMMS,
    HOSTILE,
    PickledArray,
    expected_counts,
    fake_alpha_data,
    make_workbook,
    require_openpyxl,
    write_alpha_pickle,
)

ROOT = Path(__file__).resolve().parents[1]
TIMINGS = ROOT / "workflow" / "schemas" / "timings.schema.yaml"
DEVICE = ROOT / "workflow" / "schemas" / "device.schema.yaml"


def _write(result: ImportResult, out: Path) -> list[Path]:
    return write_datasets(result, out, name=result.importer, timings_schema=TIMINGS,
                          device_schema=DEVICE)


def _validated(out: Path) -> dict[str, dict[str, int]]:
    """Rows per sweep of every dataset under ``out``, read back by the workflow's validator."""
    import pandas as pd

    found = validate_datasets(out, TIMINGS, DEVICE)
    return {dev: {s: len(pd.read_csv(p)) for s, p in entry["sweeps"].items()}
            for dev, entry in found.items()}


# --- rows, duplicates, accounting ------------------------------------------------------------


def test_rows_count_a_multiply_add_as_two_flops():
    row = conv_row("s", batch=2, c_in=3, c_out=8, h=10, w=12, k_h=3, k_w=5, stride=2, padding=1,
                   dtype="float32", time_ms=1.0, runs=1)
    h_out, w_out = (10 + 2 - 3) // 2 + 1, (12 + 2 - 5) // 2 + 1  # 5, 5
    assert row["flops"] == 2 * 2 * 3 * 8 * 3 * 5 * h_out * w_out == 36000
    same = conv_row("s", batch=1, c_in=2, c_out=2, h=9, w=9, k_h=2, k_w=2, stride=1, padding=0,
                    dtype="float32", time_ms=1.0, runs=1, same_output=True)
    assert same["flops"] == 2 * 2 * 2 * 4 * 81  # "same" padding: output = input
    dense = linear_row("s", batch=7, d_in=5, d_out=3, dtype="int8", time_ms=1.0, runs=4)
    assert dense["flops"] == 210 and (dense["h"], dense["k_w"], dense["padding"]) == (1, 1, 0)


def test_dedupe_keeps_the_first_and_compares_times():
    a = linear_row("s", batch=1, d_in=2, d_out=3, dtype="float32", time_ms=1.0, runs=1)
    kept, stats = dedupe([a, dict(a, time_ms=1.2), dict(a)])
    assert kept == [a]
    assert (stats.repeats, stats.time_differs) == (2, 1)
    assert stats.max_rel_diff == pytest.approx(0.2)


def test_drop_log_counts_per_reason_and_dataset():
    log = DropLog({"imported": "kept"})
    log.add(source="f", sheet="s", section="x", device_id="d1", reason="imported", rows=3)
    log.add(source="f", sheet="s", section="x", device_id="d1", reason="not_supported")
    log.add(source="f", sheet="s", section="y", device_id="", reason="section_rnn", rows=5)
    log.add(source="f", sheet="s", section="y", device_id="", reason="nothing", rows=0)
    assert log.by_reason("d1") == {"imported": 3, "not_supported": 1}
    assert log.by_reason() == {"imported": 3, "not_supported": 1, "section_rnn": 5}
    assert len(log.records()) == 3


# --- writing ---------------------------------------------------------------------------------


def _dataset(device_id: str = "dev-a", dtype: str = "float32") -> Dataset:
    conv = conv_row("conv_x", batch=1, c_in=3, c_out=8, h=10, w=10, k_h=3, k_w=3, stride=1,
                    padding=1, dtype=dtype, time_ms=0.5, runs=10)
    dense = linear_row("gemm_x", batch=4, d_in=16, d_out=32, dtype=dtype, time_ms=0.1, runs=10)
    device = {"device_id": device_id, "device_type": "cuda", "name": "Test GPU", "dtype": dtype,
              "time_statistic": "mean",
              "source": {"repository": "https://example.org/r", "commit": "0123abc",
                         "file": "f.xlsx", "license": "MIT"}}
    return Dataset(device_id, device, {"conv_x": [conv], "gemm_x": [dense]})


def _result(*datasets: Dataset) -> ImportResult:
    log = DropLog()
    for d in datasets:
        log.add(source="src", sheet="", section="s", device_id=d.device_id, reason="imported",
                rows=d.rows)
    return ImportResult("test", list(datasets), log)


def test_write_datasets_layout_validates(tmp_path):
    out = tmp_path / "imported"
    folders = _write(_result(_dataset("dev-a"), _dataset("dev-b", "int8")), out)
    assert [f.name for f in folders] == ["dev-a", "dev-b"]
    assert _validated(out) == {"dev-a": {"conv_x": 1, "gemm_x": 1},
                               "dev-b": {"conv_x": 1, "gemm_x": 1}}
    for folder in folders:
        assert (folder / "import_summary.yaml").is_file()
        assert sorted(p.name for p in folder.glob("*.csv")) == ["conv_x.csv", "gemm_x.csv"]
    assert (out / "import_summary_test.csv").read_text().startswith("source,sheet,section")
    assert "datasets:" in (out / "import_summary_test.yaml").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".import")]


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d.sweeps["conv_x"][0].update(time_ms=-1.0), "dev-b/conv_x.csv, line 2"),
    (lambda d: d.sweeps["conv_x"][0].update(flops=123.0), "column 'flops'"),
    (lambda d: d.sweeps["conv_x"][0].update(dtype="float8"), "column 'dtype'"),
    (lambda d: d.device.update(device_type="tpu"), "dev-b/device.yaml"),
    (lambda d: d.device["source"].update(commit="HEAD"), "column 'source'"),
])
def test_an_invalid_dataset_writes_nothing(tmp_path, mutate, where):
    bad = _dataset("dev-b")
    mutate(bad)
    out = tmp_path / "imported"
    with pytest.raises(ImportDataError, match="does not validate") as err:
        _write(_result(_dataset("dev-a"), bad), out)
    assert where in str(err.value)
    assert str(out) in str(err.value)  # named where it would have been written
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_replacing_restores_everything_when_a_move_fails(tmp_path, monkeypatch):
    out = tmp_path / "imported"
    _write(_result(_dataset("dev-a")), out)
    original = (out / "dev-a" / "conv_x.csv").read_text()
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == 4:  # dev-a swapped in (backup + move), then dev-b fails
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(writing.os, "replace", flaky_replace)
    changed = _dataset("dev-a")
    changed.sweeps["conv_x"][0]["time_ms"] = 9.0
    with pytest.raises(OSError, match="disk full"):
        _write(_result(changed, _dataset("dev-b")), out)
    monkeypatch.setattr(writing.os, "replace", real_replace)
    assert (out / "dev-a" / "conv_x.csv").read_text() == original
    assert not (out / "dev-b").exists()
    assert sorted(p.name for p in out.iterdir()) == [
        "dev-a", "import_summary_test.csv", "import_summary_test.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["imported"]


def test_two_datasets_with_one_id_are_refused(tmp_path):
    with pytest.raises(ImportDataError, match="share the id"):
        _write(_result(_dataset("dev-a"), _dataset("dev-a")), tmp_path / "o")
    assert not (tmp_path / "o").exists()


# --- restricted unpickling -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_pickle_is_refused_and_never_runs(tmp_path, name):
    marker = tmp_path / "PWNED"
    path = tmp_path / "data.pickle"
    path.write_bytes(HOSTILE[name](marker))
    for load in (load_pickle, import_asperti2021):
        with pytest.raises(UnsafePickleError) as err:
            load(path)
        assert str(path) in str(err.value) and "refused" in str(err.value)
    assert not marker.exists()


def test_a_hostile_pickle_names_the_global(tmp_path):
    path = tmp_path / "data.pickle"
    path.write_bytes(HOSTILE["os.system"](tmp_path / "PWNED"))
    with pytest.raises(UnsafePickleError, match="refused to load global os.system"):
        load_pickle(path)


def test_persistent_ids_are_refused(tmp_path):
    path = tmp_path / "p.pickle"
    path.write_bytes(b"\x80\x02X\x01\x00\x00\x00aQ.")  # BINPERSID
    with pytest.raises(UnsafePickleError, match="persistent id"):
        load_pickle(path)


@pytest.mark.parametrize("numpy1_names", [False, True])
def test_the_two_numpy_spellings_are_allowed(tmp_path, numpy1_names):
    data = load_pickle(write_alpha_pickle(tmp_path / "d.pickle", numpy1_names=numpy1_names))
    line = data["plots"][0]["lines"][0]
    assert line.shape == (2, 7) and line.dtype == np.float64 and line.flags.owndata


@pytest.mark.parametrize("dtype", [b"O8", b"V8", b"U2"])
def test_only_plain_numeric_arrays_are_rebuilt(tmp_path, dtype):
    raw = pickle.dumps({"plots": [PickledArray(np.zeros(2))]}, protocol=3)
    path = tmp_path / "x.pickle"
    path.write_bytes(raw.replace(b"f8", dtype))
    with pytest.raises(UnsafePickleError, match="refused an array"):
        load_pickle(path)


@pytest.mark.parametrize("content, match", [
    (None, "no such file"),
    (b"\x80\x05\x95", "cannot unpickle"),
    (pickle.dumps([1, 2]), "expected a dict"),
])
def test_malformed_pickles_name_the_file(tmp_path, content, match):
    path = tmp_path / "data.pickle"
    if content is not None:
        path.write_bytes(content)
        with pytest.raises(ImportDataError, match=match) as err:
            import_asperti2021(path)
    else:
        with pytest.raises(ImportDataError, match=match) as err:
            source_files("asperti2021", path)
    assert str(path) in str(err.value)


# --- asperti2021 -----------------------------------------------------------------------------


def test_the_plots_become_the_paper_sweeps(tmp_path):
    result = import_asperti2021(write_alpha_pickle(tmp_path / "data.pickle"))
    (dataset,) = result.datasets
    assert dataset.device_id == DEVICE_ID == "asperti2021-quadro-t2000"
    assert set(dataset.sweeps) == {m.sweep for m in PLOT_MAPPINGS.values()}
    assert [(r["h"], r["w"]) for r in dataset.sweeps["increasing_w"]] == [(100, 10), (100, 20)]
    k1 = dataset.sweeps["increasing_cout_k1"][0]
    assert (k1["h"], k1["w"]) == (100, 300)  # column 1 is H in this plot
    prog = dataset.sweeps["dense_vs_conv"][0]
    assert (prog["op"], prog["h"], prog["w"], prog["c_in"], prog["c_out"]) == (
        "conv2d", 1, 2, 400, 200)
    even = dataset.sweeps["k_vs_spatial"][1]  # K = 2: padding 0, output = input
    assert (even["k_h"], even["padding"], even["flops"]) == (2, 0, 2 * 50 * 50 * 4 * 150 * 150)
    big = dataset.sweeps["k_vs_channels"][1]
    assert big["padding"] == 13 and big["flops"] == 2 * 53 * 53 * 28 * 28 * 10 * 10
    assert [(r["op"], r["batch"], r["c_in"], r["flops"]) for r in dataset.sweeps["dense_batch"]] \
        == [("linear", 1, 6400, 81920000), ("linear", 2, 6400, 163840000)]
    rows = [r for rs in dataset.sweeps.values() for r in rs]
    assert {(r["runs"], r["dtype"], r["stride"], r["time_ms_iqr"]) for r in rows} == {
        (2000, "float32", 1, None)}
    assert result.log.by_reason(DEVICE_ID) == {"imported": 12}
    device = dataset.device
    assert (device["time_statistic"], device["multiprocessors"], device["gpu_spec"]) == (
        "mean", 16, "Quadro T2000 (mobile)")
    assert device["source"]["license"] == "MIT" and device["source"]["file"] == "data.pickle"
    _write(result, tmp_path / "imported")
    assert sum(_validated(tmp_path / "imported")[DEVICE_ID].values()) == 12


@pytest.mark.parametrize("edit, match", [
    (lambda d: d["plots"][0].update(name="mystery"), "unknown plot name 'mystery'"),
    (lambda d: d["plots"].pop(), "increasing_batch missing"),
    (lambda d: d["plots"].append(d["plots"][0]), "appears twice"),
    (lambda d: d["plots"][1].update(hardware={"GPU": "RTX 3090"}), "expected 'Quadro T2000'"),
    (lambda d: d["plots"][2].update(lines=[np.zeros((2, 6))]), "shape \\(n, 7\\)"),
    (lambda d: d["plots"][2]["lines"][0].__setitem__((0, 2), 1.5), "Cin = 1.5"),
    (lambda d: d["plots"][2]["lines"][0].__setitem__((0, 6), 0.0), "time 0.0"),
])
def test_bad_plot_content_names_the_plot_and_point(tmp_path, edit, match):
    data = fake_alpha_data()
    edit(data)
    with pytest.raises(ImportDataError, match=match):
        import_asperti2021(write_alpha_pickle(tmp_path / "data.pickle", data))


# --- deepbench -------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["S-R", "R-S"])
def test_a_workbook_is_read_by_header_name(tmp_path, header):
    require_openpyxl()
    conv_header = CONV_HEADER_RS if header == "R-S" else None
    kwargs = {"conv_header": conv_header} if conv_header else {}
    make_workbook(tmp_path / "results/train/DeepBench_NV_V100.xlsx", **kwargs)
    result = run_import("deepbench", tmp_path / "results")
    (dataset,) = result.datasets
    assert dataset.device_id == "deepbench-v100-train"
    assert result.log.by_reason("deepbench-v100-train") == expected_counts()
    assert result.log.by_reason("") == {"section_sparse_gemm": 1, "section_rnn": 2}
    assert {s: len(r) for s, r in dataset.sweeps.items()} == {
        "conv_vision": 1, "conv_deepspeech": 1, "conv_ocr": 1, "conv_unlabelled": 1,
        "gemm_deepspeech": 2}
    ds = dataset.sweeps["conv_deepspeech"][0]  # R = 5 (height), S = 20 (width), stride 2
    assert (ds["h"], ds["w"], ds["k_h"], ds["k_w"], ds["stride"], ds["padding"]) == (
        161, 700, 5, 20, 2, 0)
    assert ds["flops"] == 2 * 4 * 1 * 32 * 5 * 20 * 79 * 341 and ds["runs"] == 300
    g = dataset.sweeps["gemm_deepspeech"][0]
    assert (g["op"], g["batch"], g["c_in"], g["c_out"], g["flops"], g["runs"]) == (
        "linear", 16, 1760, 1760, 2 * 1760 * 16 * 1760, 400)
    assert dataset.summary["duplicates"]["conv_vision"] == {
        "repeats": 1, "time_differs": 1, "max_rel_time_diff": pytest.approx(0.1)}
    assert dataset.summary["imported_with_notes"]["pq_transposed"]["rows"] == 1
    device = dataset.device
    assert device["gpu_spec"] == "Tesla V100 SXM2 16GB" and device["time_statistic"] == "mean"
    assert device["source"]["file"] == "results/train/DeepBench_NV_V100.xlsx"
    assert device["source"]["license"] == "Apache-2.0"
    _write(result, tmp_path / "imported")
    assert sum(_validated(tmp_path / "imported")["deepbench-v100-train"].values()) == 6
    summary = (tmp_path / "imported/import_summary_deepbench.csv").read_text()
    assert "asymmetric_stride" in summary and "section_rnn" in summary


def test_column_order_does_not_change_the_rows(tmp_path):
    require_openpyxl()
    a = run_import("deepbench", make_workbook(tmp_path / "a/train/DeepBench_NV_V100.xlsx"))
    b = run_import("deepbench", make_workbook(tmp_path / "b/train/DeepBench_NV_V100.xlsx",
                                              conv_header=CONV_HEADER_RS))
    assert a.datasets[0].sweeps == b.datasets[0].sweeps


def test_int8_inference_drops_padded_kernels(tmp_path):
    require_openpyxl()
    make_workbook(tmp_path / "r/inference/server/DeepBench_NV_TitanXp.xlsx",
                  gpu="Nvidia TitanXp", sheet="Results - Mixed Precision",
                  precision="GEMM, Conv: Int8 multiplication, 32 bit accumulation", padded=True)
    result = run_import("deepbench", tmp_path / "r")
    (dataset,) = result.datasets
    assert dataset.device_id == "deepbench-titanxp-inference-int8"
    assert dataset.device["dtype"] == "int8" and dataset.device["gpu_spec"] == "NVIDIA Titan Xp"
    assert result.log.by_reason(dataset.device_id)["padded_kernel"] == 1  # the 512x32x512 GEMM
    assert {r["dtype"] for rows in dataset.sweeps.values() for r in rows} == {"int8"}
    _write(result, tmp_path / "out")
    assert "deepbench-titanxp-inference-int8" in _validated(tmp_path / "out")


def test_fp16_sheet_becomes_its_own_dataset(tmp_path):
    require_openpyxl()
    path = make_workbook(tmp_path / "r/train/DeepBench_NV_P100.xlsx", gpu="NVIDIA Tesla P100")
    import openpyxl

    wb = openpyxl.load_workbook(path)
    fp16 = wb.copy_worksheet(wb["Results FP32"])
    fp16.title = "Results - Psuedo FP16"
    fp16["B1"] = "16 bit inputs, 32 bit multiplication, 32 bit addition"
    wb.save(path)
    result = run_import("deepbench", tmp_path / "r")
    assert [d.device_id for d in result.datasets] == ["deepbench-p100-train",
                                                      "deepbench-p100-train-fp16"]
    assert result.datasets[1].device["precision_note"].startswith("16 bit inputs")


def test_non_nvidia_workbooks_are_counted_not_imported(tmp_path):
    require_openpyxl()
    make_workbook(tmp_path / "r/train/DeepBench_AMD_MI25.xlsx", gpu="AMD MI25")
    make_workbook(tmp_path / "r/train/DeepBench_NV_M40.xlsx", gpu="Nvidia Tesla M40")
    result = run_import("deepbench", tmp_path / "r")
    assert [d.device_id for d in result.datasets] == ["deepbench-m40-train"]
    assert result.log.by_reason("")["non_nvidia_device"] == len(CONVS) + len(GEMMS) + 1
    assert result.notes["not_imported"][0]["device"] == "AMD MI25"


def test_a_missing_header_names_file_sheet_row_and_column(tmp_path):
    require_openpyxl()
    path = make_workbook(tmp_path / "r/train/DeepBench_NV_V100.xlsx", drop_header="pad_h")
    with pytest.raises(ImportDataError) as err:
        run_import("deepbench", tmp_path / "r")
    message = str(err.value)
    assert str(path) in message and "sheet 'Results FP32'" in message
    assert "column 'pad_h'" in message and ", row 14," in message  # the header row


def test_bad_paths_and_files(tmp_path):
    require_openpyxl()
    with pytest.raises(ImportDataError, match="no such file or folder"):
        source_files("deepbench", tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportDataError, match="no .xlsx"):
        source_files("deepbench", tmp_path / "empty")
    bad = tmp_path / "r/train/DeepBench_NV_V100.xlsx"
    bad.parent.mkdir(parents=True)
    bad.write_text("not a workbook")
    with pytest.raises(ImportDataError, match="cannot read as an .xlsx") as err:
        run_import("deepbench", tmp_path / "r")
    assert str(bad) in str(err.value)
    make_workbook(tmp_path / "s/misc/DeepBench_NV_V100.xlsx")
    with pytest.raises(ImportDataError, match="neither under a train/ nor an inference/"):
        run_import("deepbench", tmp_path / "s")


def test_a_workbook_without_gemm_or_convolution(tmp_path):
    openpyxl = require_openpyxl()
    wb = openpyxl.Workbook()
    wb.active.title = "Results"
    wb.active.append(["Precision", "Float"])
    wb.active.append(["All-Reduce", None, "Size"])
    wb.create_sheet("Specs").append(["GPU Model", "NVIDIA V100"])
    path = tmp_path / "r/train/DeepBench_NV_V100.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    with pytest.raises(ImportDataError, match="no 'Dense Matrix Multiplication' or 'Convolution'"):
        run_import("deepbench", tmp_path / "r")


def test_every_gemm_row_is_counted_once(tmp_path):
    require_openpyxl()
    result = run_import("deepbench", make_workbook(tmp_path / "r/train/DeepBench_NV_V100.xlsx"))
    gemm = {r["reason"]: r["rows"] for r in result.log.records()
            if r["section"].startswith("Dense") and r["device_id"]}
    assert sum(gemm.values()) == len(GEMMS)
