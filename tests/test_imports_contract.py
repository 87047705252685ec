"""The contract changes the imports need (dtype int8; device.yaml source, time_statistic and
gpu_spec, all optional) and the curated GPU spec table with its lookup by device name."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from glue.inputs import InputError, load_inputs
from greenflops.alpha.features import features_from_frame
from greenflops.io.tables import TableValidationError, load_schema, read_table
from greenflops.timing.contract import DTYPES
from greenflops.timing.datasets import read_device, validate_datasets
from greenflops.timing.device import dataset_id
from greenflops.timing.gpu_specs import (
    SPECS_CSV,
    SPECS_SCHEMA,
    AmbiguousGPUName,
    alias_collisions,
    load_specs,
    lookup,
    normalise_name,
    spec_of_device,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"


def _config() -> dict:
    return yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


# --- contract ----------------------------------------------------------------------------------


def test_int8_is_one_byte_suffixed_and_not_sweepable():
    assert (DTYPES["int8"].bytes, DTYPES["int8"].suffix, DTYPES["int8"].sweepable) == (
        1, "-int8", False)
    assert "int8" in load_schema(SCHEMAS / "timings.schema.yaml")["properties"]["dtype"]["enum"]
    assert "int8" in load_schema(SCHEMAS / "device.schema.yaml")["properties"]["dtype"]["enum"]
    with pytest.raises(ValueError, match="dtype must be one of"):
        dataset_id("cuda-nvidia-t4", "int8")
    config_dtypes = load_schema(SCHEMAS / "config.schema.yaml")["properties"]["sweeps"][
        "properties"]["dtype"]["enum"]
    assert "int8" not in config_dtypes


def test_int8_rows_get_features():
    import pandas as pd

    frame = pd.DataFrame([{"sweep": "g", "op": "linear", "batch": 4, "c_in": 8, "c_out": 8,
                           "h": 1, "w": 1, "k_h": 1, "k_w": 1, "stride": 1, "padding": 0,
                           "dtype": "int8", "flops": 512.0, "time_ms": 0.1}])
    features_from_frame(frame)  # knows the element size of int8


def test_committed_device_files_are_unchanged_and_still_valid():
    changed = subprocess.run(["git", "status", "--porcelain", "--", "data/raw/timings"],
                             cwd=ROOT, capture_output=True, text=True)
    if changed.returncode == 0:
        assert changed.stdout == ""
    found = validate_datasets(ROOT / "data/raw/timings", SCHEMAS / "timings.schema.yaml",
                              SCHEMAS / "device.schema.yaml")
    assert found and all("source" not in e["facts"] for e in found.values())


def _device_yaml(tmp_path: Path, **extra) -> Path:
    folder = tmp_path / "dev-x"
    folder.mkdir(exist_ok=True)
    facts = {"device_id": "dev-x", "device_type": "cuda", "name": "NVIDIA T4", **extra}
    (folder / "device.yaml").write_text(yaml.safe_dump(facts, sort_keys=False))
    return folder / "device.yaml"


SOURCE = {"repository": "https://github.com/baidu-research/DeepBench",
          "commit": "da81ba7820739e2e506dc27f382d15be5479f98f",
          "file": "results/train/DeepBench_NV_T4.xlsx", "license": "Apache-2.0"}


def test_device_source_and_time_statistic(tmp_path):
    schema = SCHEMAS / "device.schema.yaml"
    facts = read_device(_device_yaml(tmp_path, time_statistic="mean", source=SOURCE,
                                     gpu_spec="Tesla T4"), schema)
    assert facts["source"]["license"] == "Apache-2.0"
    for bad, column in ((dict(SOURCE, commit="main"), "source"),
                        ({k: v for k, v in SOURCE.items() if k != "license"}, "source"),
                        (dict(SOURCE, url="x"), "source")):
        with pytest.raises(TableValidationError, match=column):
            read_device(_device_yaml(tmp_path, source=bad), schema)
    with pytest.raises(TableValidationError, match="time_statistic"):
        read_device(_device_yaml(tmp_path, time_statistic="p50"), schema)


# --- the GPU spec table ------------------------------------------------------------------------


def test_the_table_is_a_validated_curated_table():
    tables = yaml.safe_load((ROOT / "workflow/resources/tables.yaml").read_text())["tables"]
    assert "gpu_specs" in tables
    frame = read_table(SPECS_CSV, SPECS_SCHEMA)
    assert len(frame) == len(load_specs()) >= 35 and frame["name"].is_unique
    assert frame["source"].str.len().min() > 10  # every row says where it comes from
    specs = load_specs()
    assert {s.architecture for s in specs} == {"Maxwell", "Pascal", "Volta", "Turing", "Ampere",
                                               "Ada Lovelace", "Hopper", "Blackwell"}
    assert {s.segment for s in specs} >= {"datacenter", "desktop", "mobile"}
    assert alias_collisions(specs) == []


def test_fp32_peaks_are_sms_times_lanes_times_clock():
    """FP32 = SMs x (64 or 128) lanes x 2 x boost clock, within 5% (Blackwell rows publish no
    SM count or clock for every part)."""
    for s in load_specs():
        if s.sm_count and s.boost_clock_mhz:
            lanes = s.fp32_tflops * 1e6 / (s.sm_count * 2 * s.boost_clock_mhz)
            assert min(abs(lanes - 64), abs(lanes - 128)) <= 0.05 * lanes, s.name


def _edited_table(tmp_path: Path, edit) -> Path:
    """A project copy of the tables and resources with the GPU spec table edited."""
    project = tmp_path / "p"
    for sub in ("workflow", "data/raw"):
        shutil.copytree(ROOT / sub, project / sub, ignore=shutil.ignore_patterns("__pycache__"))
    path = project / "data/raw/tables/gpu_specs.csv"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return project


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("Tesla M40,Tesla M40;", "Tesla M40,Tesla M40;NVIDIA T4;", 1),
     r"column 'aliases': 'Tesla T4' also names 'Tesla M40' \(line 2\)"),
    (lambda t: t.replace(",24,1114,6.8,", ",2400,1114,6.8,", 1), "line 2, column 'sm_count'"),
    (lambda t: t.replace("2015-11-10", "2099-01-01", 1), "line 2, column 'launch_date'"),
])
def test_a_bad_spec_row_stops_the_load(tmp_path, edit, message):
    project = _edited_table(tmp_path, edit)
    with pytest.raises(InputError, match=message):
        load_inputs(project, _config(), timings=False)


def test_a_device_naming_an_unknown_spec_row_stops_the_load(tmp_path):
    project = _edited_table(tmp_path, lambda t: t)
    folder = project / "data/raw/timings/cpu-amd-epyc-1thread"
    facts = yaml.safe_load((folder / "device.yaml").read_text())
    facts["gpu_spec"] = "Tesla T5"
    (folder / "device.yaml").write_text(yaml.safe_dump(facts, sort_keys=False))
    with pytest.raises(InputError, match="'Tesla T5' is not a row name .*nearest: 'Tesla T4'"):
        load_inputs(project, _config())


#: DeepBench Specs-sheet names and torch / nvidia-smi names → the row.
NAMES = {
    "Nvidia Tesla M40": "Tesla M40",
    "Nvidia TitanX": "GeForce GTX Titan X",
    "Nvidia TitanX Pascal": "NVIDIA Titan X (Pascal)",
    "NVIDIA GTX TitanXp": "NVIDIA Titan Xp",
    "Nvidia 1080Ti": "GeForce GTX 1080 Ti",
    "NVIDIA Tesla P100": "Tesla P100 PCIe 16GB",
    "NVIDIA V100": "Tesla V100 SXM2 16GB",
    "NVIDIA T4": "Tesla T4",
    "Quadro T2000": "Quadro T2000 (mobile)",
    "Tesla V100-SXM2-32GB": "Tesla V100 SXM2 32GB",
    "Tesla V100-PCIE-16GB": "Tesla V100 PCIe 16GB",
    "NVIDIA A100-SXM4-80GB": "A100 SXM4 80GB",
    "NVIDIA A100 80GB PCIe": "A100 PCIe 80GB",
    "NVIDIA H100 80GB HBM3": "H100 SXM5 80GB",
    "NVIDIA H100 PCIe": "H100 PCIe 80GB",
    "NVIDIA H200": "H200 SXM 141GB",
    "NVIDIA GeForce RTX 4090": "GeForce RTX 4090",
    "NVIDIA L4": "NVIDIA L4",
    "TITAN X (Pascal)": "NVIDIA Titan X (Pascal)",
}


@pytest.mark.parametrize("name, row", sorted(NAMES.items()))
def test_lookup_by_device_name(name, row):
    assert lookup(name).name == row


def test_lookup_tolerates_case_brand_and_memory_words():
    assert lookup("nvidia  geforce gtx 1080 ti").name == "GeForce GTX 1080 Ti"
    assert lookup("Tesla P100 16GB").name == "Tesla P100 PCIe 16GB"
    assert lookup("GeForce RTX 4090 24GB GDDR6X").name == "GeForce RTX 4090"
    assert normalise_name("NVIDIA(R) GeForce(TM) RTX 3090") == "3090"
    with pytest.raises(LookupError, match="no GPU spec"):
        lookup("Radeon Instinct MI25")
    with pytest.raises(LookupError, match="not 32 GB"):
        lookup("Tesla P100 32GB")
    with pytest.raises(LookupError):
        lookup("   ")
    specs = load_specs()
    twin = dataclasses.replace(specs[0], name="Other M40")
    with pytest.raises(AmbiguousGPUName):
        lookup("Tesla M40", specs + (twin,))


def test_peaks_per_dtype_are_dense():
    assert lookup("NVIDIA H100 80GB HBM3").peak_tflops("float16") == pytest.approx(989.4)
    assert lookup("NVIDIA T4").peak_tflops("int8") == 130
    assert lookup("Nvidia 1080Ti").int8_basis == "dp4a"
    assert lookup("NVIDIA Tesla P100").peak_tflops("float16") == pytest.approx(18.7)  # no tensor
    assert lookup("Quadro T2000").peak_tflops("float32") == pytest.approx(3.66)
    assert lookup("NVIDIA A100").peak_tflops("tf32") == 156
    assert lookup("NVIDIA A100").peak_tflops("float64") is None


def test_spec_of_a_device():
    assert spec_of_device({"gpu_spec": "Tesla T4", "name": "whatever"}).sm_count == 40
    assert spec_of_device({"device_type": "cuda", "name": "NVIDIA H100 80GB HBM3"}).sm_count == 132
    assert spec_of_device({"device_type": "cpu", "name": "AMD EPYC"}) is None
    assert spec_of_device({"device_type": "cuda", "name": "Some Future GPU"}) is None
