"""Benchmark of the timing harness: sweep overhead ratio and, on CUDA, the largest dense layer's
TFLOP/s next to the device's measured matmul peak.

    python scripts/bench_sweeps.py [--profile quick] [--sweeps dense_vs_conv,k_vs_channels]
                                   [--device auto] [--threads N]

Runs the chosen sweeps of a profile (workflow/resources/sweeps.yaml) into a temporary folder (nothing in data/ is
touched) and prints, per sweep and in all, the overhead ratio: wall time of the sweep divided by
Σ median × runs over its points (the time actually spent inside timed calls); goal ≤ 1.3.
On CUDA it then times the largest dense layer of the profile and prints its TFLOP/s and the
percentage of the measured matmul peak (goal ≥ 70 %).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas  # noqa: F401  (imported by run_sweep: process start-up, like torch, not sweep time)
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from greenflops.timing.grids import sweep_points  # noqa: E402
from greenflops.timing.device import hardware_id, resolve_device, usable_cpus  # noqa: E402
from greenflops.timing.facts import measure_peak_gflops  # noqa: E402
from greenflops.timing.runner import run_sweep, settings_from_config, time_point  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--sweeps", default="", help="comma-separated (default: all of the profile)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=usable_cpus())
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    parser.add_argument("--spec", default=str(ROOT / "workflow" / "resources" / "sweeps.yaml"))
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as handle:
        cfg = yaml.safe_load(handle)["sweeps"]
    with open(args.spec, encoding="utf-8") as handle:
        cfg["profiles"] = yaml.safe_load(handle)["profiles"] | cfg.get("profiles", {})
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    settings = settings_from_config(cfg, args.profile, device)
    grids = cfg["profiles"][args.profile]["grids"]
    names = [n for n in args.sweeps.split(",") if n] or list(grids)
    print(f"device {hardware_id(device, args.threads)}, profile {args.profile}, {settings}")
    total_wall = total_timed = 0.0
    largest = None
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            points = sweep_points(name, grids[name], settings.dtype)
            for p in points:
                if p["op"] == "linear" and (largest is None or p["flops"] > largest["flops"]):
                    largest = p
            t0 = time.perf_counter()
            meta = run_sweep(points, Path(tmp) / f"{name}.csv", Path(tmp) / f"{name}.meta.yaml",
                             device, settings)
            wall = time.perf_counter() - t0
            total_wall += wall
            total_timed += meta["timed_s"]
            print(f"{name:20s} {len(points):4d} points  wall {wall:7.2f} s  "
                  f"timed {meta['timed_s']:7.2f} s  overhead ratio {wall / meta['timed_s']:.3f}  "
                  f"load {meta['loadavg_start']} -> {meta['loadavg_end']}", flush=True)
    print(f"{'all':20s} wall {total_wall:.2f} s, Σ median×runs {total_timed:.2f} s, "
          f"overhead ratio {total_wall / total_timed:.3f} (goal ≤ 1.3)")
    if device.type == "cuda" and largest is not None:
        peak = measure_peak_gflops(device, "float32" if settings.dtype == "tf32" else settings.dtype)
        row, reason = time_point(largest, device, settings)
        if row is None:
            print(f"largest dense layer skipped: {reason}")
        else:
            achieved = largest["flops"] / (row["time_ms"] / 1e3) / 1e9
            print(f"largest dense layer {largest['c_in']}x{largest['c_out']} batch "
                  f"{largest['batch']}: {achieved / 1e3:.2f} TFLOP/s = {100 * achieved / peak:.1f}% "
                  f"of the measured matmul peak {peak / 1e3:.2f} TFLOP/s (goal ≥ 70%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
