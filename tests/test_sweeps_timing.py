"""Timing harness: a real CPU timing, the data contract, skipped points, resume after SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from greenflops.io.tables import TableValidationError
from greenflops.timing.contract import TIMING_COLUMNS, point_key
from greenflops.timing.datasets import find_datasets, inventory, read_device, read_timings
from greenflops.timing.device import (
    DeviceMismatchError,
    check_device,
    dataset_id,
    hardware_id,
    resolve_device,
    resolve_target,
    slug,
)
from greenflops.timing.facts import measure_call_floor_ms
from greenflops.timing.grids import linear_point, sweep_points
from greenflops.timing.harness import TimingSettings
from greenflops.timing.runner import read_partial, run_sweep, time_point

ROOT = Path(__file__).resolve().parents[1]
TIMINGS_SCHEMA = ROOT / "workflow" / "schemas" / "timings.schema.yaml"
DEVICE_SCHEMA = ROOT / "workflow" / "schemas" / "device.schema.yaml"
FAST = TimingSettings(min_run_time=0.002, max_run_time=0.02, threshold=0.5, warmup=1)


@pytest.fixture(scope="module")
def cpu():
    import torch

    torch.set_num_threads(1)
    return resolve_device("cpu")


def test_real_linear_timing_on_cpu(cpu):
    point = linear_point("dense_batch", 64, 32, batch=4)
    row, reason = time_point(point, cpu, FAST)
    assert reason is None and row is not None
    assert tuple(row) == TIMING_COLUMNS
    assert row["flops"] == 2 * 64 * 32 * 4
    assert 0 < row["time_ms"] < 100
    assert row["time_ms_iqr"] >= 0 and row["runs"] >= 4
    assert row["energy_j"] is None  # no NVML energy on a CPU


def test_call_floor_is_below_a_real_layer(cpu):
    """The per-call floor (device.yaml ``call_floor_ms``): a 1-channel layer's time, positive
    and well below a 2048x2048 dense layer's on batch 64 (0.5 GFLOP)."""
    floor = measure_call_floor_ms(cpu, FAST)
    row, _ = time_point(linear_point("dense_batch", 2048, 2048, batch=64), cpu, FAST)
    assert row is not None and 0 < floor < row["time_ms"] / 10


def test_memory_cap_skips_with_reason(cpu):
    settings = TimingSettings(memory_cap_bytes=1000)
    row, reason = time_point(linear_point("x", 100, 100), cpu, settings)
    assert row is None and "exceeds the memory cap" in reason


def test_out_of_memory_is_recorded_and_sweep_goes_on(cpu, tmp_path, monkeypatch):
    import torch

    import greenflops.timing.harness as timing

    real = timing.time_call

    def flaky(fn, device, settings, energy_handle=None):
        if flaky.calls == 1:
            flaky.calls += 1
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        flaky.calls += 1
        return real(fn, device, settings, energy_handle)

    flaky.calls = 0
    monkeypatch.setattr(timing, "time_call", flaky)
    points = sweep_points("dense_batch", {"d": [16], "batch": [1, 2, 3]})
    meta = run_sweep(points, tmp_path / "dense_batch.csv", tmp_path / "dense_batch.meta.yaml",
                     cpu, FAST, schema_path=TIMINGS_SCHEMA)
    frame = read_timings(tmp_path / "dense_batch.csv", TIMINGS_SCHEMA)
    assert list(frame["batch"]) == [1, 3]
    assert meta["skipped_count"] == 1 and meta["skipped"][0]["batch"] == 2
    assert "out of memory" in meta["skipped"][0]["reason"]
    assert not (tmp_path / "dense_batch.partial.jsonl").exists()


def _write_dataset(folder: Path, cpu) -> Path:
    points = sweep_points("dense_vs_conv", {"base": 8, "exponents": [0, 1],
                                            "spatial": [[1, 1], [2, 2]]})
    run_sweep(points, folder / "dense_vs_conv.csv", folder / "dense_vs_conv.meta.yaml", cpu, FAST,
              schema_path=TIMINGS_SCHEMA)
    (folder / "device.yaml").write_text(yaml.safe_dump(
        {"device_id": folder.name, "device_type": "cpu", "name": "Some CPU"}))
    return folder / "dense_vs_conv.csv"


def test_contract_good_file_validates(cpu, tmp_path):
    csv = _write_dataset(tmp_path / "cpu-some-1thread", cpu)
    assert csv.read_text().splitlines()[0] == ",".join(TIMING_COLUMNS)
    frame = read_timings(csv, TIMINGS_SCHEMA)
    assert len(frame) == 6 and frame["energy_j"].isna().all()
    found = find_datasets(tmp_path)
    assert list(found) == ["cpu-some-1thread"]
    inv = inventory([csv], [found["cpu-some-1thread"]["device"]], TIMINGS_SCHEMA, DEVICE_SCHEMA)
    assert inv.loc[0, "rows"] == 6 and inv.loc[0, "device_type"] == "cpu"


@pytest.mark.parametrize("change,column", [
    (lambda f: f.assign(flops=f["flops"] // 2), "flops"),  # counted in MACs
    (lambda f: f.assign(sweep="other"), "sweep"),
    (lambda f: f.assign(time_ms=-1.0), "time_ms"),
    (lambda f: f.assign(op="matmul"), "op"),
    (lambda f: f.drop(columns=["runs"]), "runs"),
    (lambda f: pd.concat([f, f.iloc[[0]]]), "sweep/op/batch/c_in/c_out/h/w/k_h/k_w/stride/padding/groups/dtype"),
])
def test_contract_bad_files_name_line_and_column(cpu, tmp_path, change, column):
    csv = _write_dataset(tmp_path / "cpu-some-1thread", cpu)
    frame = pd.read_csv(csv, keep_default_na=False, dtype=str)
    numeric = ["batch", "c_in", "c_out", "h", "w", "k_h", "k_w", "stride", "padding", "flops", "runs"]
    for col in numeric:
        frame[col] = frame[col].astype(int)
    frame["time_ms"] = frame["time_ms"].astype(float)
    change(frame).to_csv(csv, index=False)
    with pytest.raises(TableValidationError) as info:
        read_timings(csv, TIMINGS_SCHEMA)
    assert info.value.column == column
    assert "dense_vs_conv.csv" in str(info.value)


def test_device_yaml_minimal_and_bad(tmp_path):
    folder = tmp_path / "cuda-some-gpu"
    folder.mkdir()
    path = folder / "device.yaml"
    path.write_text("device_id: cuda-some-gpu\ndevice_type: cuda\nname: Some GPU\n")
    assert read_device(path, DEVICE_SCHEMA)["name"] == "Some GPU"
    path.write_text("device_id: cuda-other\ndevice_type: cuda\nname: Some GPU\n")
    with pytest.raises(TableValidationError, match="folder"):
        read_device(path, DEVICE_SCHEMA)
    path.write_text("device_id: cuda-some-gpu\ndevice_type: tpu\nname: X\npeak_gflops: -1\n")
    with pytest.raises(TableValidationError):
        read_device(path, DEVICE_SCHEMA)


def test_device_ids(cpu):
    assert slug("Intel(R) Core(TM) i7-9850H CPU @ 2.60GHz") == "intel-core-i7-9850h"
    assert slug("NVIDIA H100 80GB HBM3") == "nvidia-h100-80gb-hbm3"
    assert slug("AMD EPYC 7763 64-Core Processor") == "amd-epyc-7763-64-core"
    assert hardware_id(cpu, 2).startswith("cpu-") and hardware_id(cpu, 2).endswith("-2threads")
    assert hardware_id(cpu, 1).endswith("-1thread")
    assert dataset_id("cuda-x", "bfloat16", True, "quick") == "cuda-x-bf16-cl-quick"
    assert dataset_id("cpu-x-2threads", "float32", False, "paper") == "cpu-x-2threads"
    with pytest.raises(DeviceMismatchError, match="refusing to mix devices"):
        check_device(cpu, 2, "cuda-nvidia-h100-80gb-hbm3")
    check_device(cpu, 2, hardware_id(cpu, 2))


def test_gpu_id_comes_from_the_gpu_name(monkeypatch):
    """No GPU needed: torch's name of the CUDA device is faked (the id is its slug)."""
    import torch

    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 80GB HBM3")
    assert hardware_id(torch.device("cuda", 0)) == "cuda-nvidia-h100-80gb-hbm3"


def test_explicit_device_id_needs_no_detection():
    cfg = {"device": "auto", "device_id": "cuda-nvidia-h100-80gb-hbm3", "threads": 4,
           "dtype": "tf32", "channels_last": False}
    target = resolve_target(cfg, "paper")
    assert (target.dataset, target.device_type, target.threads) == (
        "cuda-nvidia-h100-80gb-hbm3-tf32", "cuda", 4)
    with pytest.raises(ValueError, match="tf32"):
        resolve_target(dict(cfg, device_id="cpu-x-4threads"), "paper")


_KILL_SCRIPT = """
import sys, time, torch
from greenflops.timing.grids import sweep_points
from greenflops.timing.harness import TimingSettings
from greenflops.timing.runner import run_sweep
torch.set_num_threads(1)
points = sweep_points("dense_batch", {"d": [8, 16], "batch": {"from": 1, "to": 10}})
settings = TimingSettings(min_run_time=0.002, max_run_time=0.01, threshold=0.5)
slow = float(sys.argv[2])
run_sweep(points, sys.argv[1] + "/dense_batch.csv", sys.argv[1] + "/dense_batch.meta.yaml",
          torch.device("cpu"), settings, on_point=lambda done, total: time.sleep(slow))
"""


@pytest.mark.slow
def test_resume_after_sigkill_keeps_points_and_never_duplicates(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "scripts"))
    partial = tmp_path / "dense_batch.partial.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(tmp_path), "0.3"], env=env)
    deadline = time.time() + 60
    while time.time() < deadline and len(read_partial(partial)) < 5:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = read_partial(partial)
    assert 5 <= len(before) < 20, "killed half-way"
    assert not (tmp_path / "dense_batch.csv").exists()
    # A write torn by the kill: half a line at the end of the partial file.
    with open(partial, "a", encoding="utf-8") as handle:
        handle.write('{"key": ["dense_batch", "linear", 99')
    assert read_partial(partial) == before, "the torn last line was not skipped"
    subprocess.run([sys.executable, "-c", _KILL_SCRIPT, str(tmp_path), "0"], env=env, check=True)
    frame = read_timings(tmp_path / "dense_batch.csv", TIMINGS_SCHEMA)  # checks the key is unique
    assert len(frame) == 20
    assert sorted(zip(frame["c_in"], frame["batch"])) == [
        (d, b) for d in (8, 16) for b in range(1, 11)]
    # The points measured before the kill were kept, not measured again.
    kept = {tuple(map(str, r["key"])): r["row"]["time_ms"] for r in before}
    rows = {tuple(map(str, point_key(row))): row["time_ms"] for row in frame.to_dict("records")}
    assert set(kept) <= set(rows), "a point measured before the kill is missing"
    for key, time_ms in kept.items():
        assert rows[key] == pytest.approx(time_ms), "a point measured before the kill changed"
    meta = yaml.safe_load((tmp_path / "dense_batch.meta.yaml").read_text())
    assert meta["resumed_points"] == len(before) and meta["measured"] == 20
    assert not partial.exists()


def test_fill_is_uniform_random_without_zeros_or_nans():
    import torch

    from greenflops.timing.tensors import _FILL_PERIOD, fill_uniform as _fill_uniform

    big = _fill_uniform(torch.empty(3 * _FILL_PERIOD + 7))
    assert bool(torch.isfinite(big).all()) and float(big.abs().max()) <= 1.0
    assert float((big == 0).float().mean()) < 1e-3  # not zeros
    assert not bool(((big != 0) & (big.abs() < 1e-30)).any())  # no denormals
    assert abs(float(big.mean())) < 0.05 and 0.25 < float(big.var()) < 0.42  # U(-1, 1): var 1/3
    assert torch.equal(big[:_FILL_PERIOD], big[_FILL_PERIOD:2 * _FILL_PERIOD])  # tiled on CPU
    assert torch.equal(big[-7:], big[:7])
    assert len(torch.unique(big[:_FILL_PERIOD])) > _FILL_PERIOD // 2  # a random block


def test_pool_reuses_same_size_and_frees_the_rest():
    import torch

    from greenflops.timing.tensors import TensorPool

    pool = TensorPool()
    a = pool.take({"x": (2, 8), "weight": (16, 8)}, "cpu", torch.float32)
    b = pool.take({"x": (4, 8), "weight": (16, 8, 1, 1)}, "cpu", torch.float32)
    assert b["weight"].shape == (16, 8, 1, 1)
    assert b["weight"].data_ptr() == a["weight"].data_ptr()  # same size: reused (as a view)
    assert b["x"].shape == (4, 8) and b["x"].data_ptr() != a["x"].data_ptr()
    c = pool.take({"weight": (16, 8, 1, 1)}, "cpu", torch.float32, channels_last=("weight",))
    assert c["weight"].is_contiguous(memory_format=torch.channels_last)
    assert c["weight"].data_ptr() != a["weight"].data_ptr()  # layout differs: new tensor
    assert set(pool._kept) == {"weight"}  # x was not asked for: freed


def test_slow_call_costs_one_untimed_warmup(cpu):
    from greenflops.timing.harness import time_call

    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.003)

    settings = TimingSettings(min_run_time=0.01, max_run_time=0.05, threshold=1.0, warmup=3,
                              min_blocks=4, target_blocks=10)
    result = time_call(slow, cpu, settings)
    # block target 1 ms: the second warm-up call already fills a block and is the first block.
    assert result.number == 1 and result.blocks >= 4
    assert len(calls) == 1 + result.runs
    assert 0.003 <= result.median_s < 0.05
