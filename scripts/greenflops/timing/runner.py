"""Timing jobs: start one on the right device, time every point of a sweep, resumably.

Resume (:func:`run_sweep`): each finished point is appended as one JSON line (flushed and
fsync'ed) to ``<sweep>.partial.jsonl`` beside the output. A rerun keeps the points already there
(dropping a torn last line), measures only the others, and at the end writes the CSV atomically in
grid order, then the ``<sweep>.meta.yaml`` sidecar, then deletes the partial file. A point that
does not fit in memory (estimated above the cap, or an out-of-memory error) is recorded as
skipped with its reason in the sidecar, and the sweep goes on.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from greenflops.io.outputs import atomic_write_text
from greenflops.timing import harness
from greenflops.timing.contract import (
    COLUMN_DEFAULTS,
    CONFIG_COLUMNS,
    KEY_COLUMNS,
    TIMING_COLUMNS,
    point_key,
)
from greenflops.timing.device import check_device, resolve_device
from greenflops.timing.energy import nvml_handle
from greenflops.timing.facts import default_memory_cap, node_facts
from greenflops.timing.harness import TimingSettings, prepare_backends
from greenflops.timing.tensors import TensorPool, estimate_bytes, is_oom, layer_call

__all__ = [
    "TIMING_ROWS",
    "RowContract",
    "read_partial",
    "run_sweep",
    "settings_from_config",
    "significant",
    "start_timing_job",
    "time_point",
]

log = logging.getLogger("greenflops")


def start_timing_job(job: Mapping[str, Any], log: Any) -> tuple[Any, TimingSettings]:
    """Common start of a timing job (rules sweep and whole_networks): threads, device, identity.

    ``job`` is the JSON the rule passes (``run.target`` names device, threads and hardware id).
    Sets torch's threads, resolves the device, refuses to measure a device other than the one
    the dataset is named after (:func:`check_device`), and returns the device and the profile's
    timing settings for it.
    """
    import torch

    run = job["run"]
    target = run["target"]
    if job["threads"] < target["threads"]:
        log.warning("job has %d cores but the device id says %d threads: timings may suffer",
                    job["threads"], target["threads"])
    torch.set_num_threads(target["threads"])
    device = resolve_device(target["device"])
    check_device(device, target["threads"], target["hardware"])
    return device, settings_from_config(run["settings"], run["profile"], device)



def settings_from_config(cfg: Mapping[str, Any], profile: str, device: Any) -> TimingSettings:
    """TimingSettings of ``profile`` for ``device`` (``timing_cuda`` on CUDA when given)."""
    prof = cfg["profiles"][profile]
    timing = dict(prof["timing"])
    if device.type == "cuda" and "timing_cuda" in prof:
        timing = dict(prof["timing_cuda"])
    cap = cfg.get("memory_cap_gb", "auto")
    cap_bytes = default_memory_cap(device) if cap == "auto" else int(float(cap) * 2**30)
    return TimingSettings(
        min_run_time=float(timing["min_run_time"]),
        max_run_time=float(timing["max_run_time"]),
        threshold=float(timing.get("threshold", 0.1)),
        warmup=int(timing.get("warmup", 1)),
        min_blocks=int(timing.get("min_blocks", 4)),
        target_blocks=int(timing.get("target_blocks", 10)),
        dtype=str(cfg.get("dtype", "float32")),
        channels_last=bool(cfg.get("channels_last", False)),
        cudnn_benchmark=bool(cfg.get("cudnn_benchmark", True)),
        memory_cap_bytes=cap_bytes,
    )



def time_point(point: Mapping[str, Any], device: Any, settings: TimingSettings,
               energy_handle: Any | None = None,
               pool: TensorPool | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """Time one configuration: ``(row, None)`` with the contract's columns, or ``(None, reason)``
    when it does not fit in memory (above the cap, or out of memory while allocating/running).
    With ``pool``, tensors of the previous point with the same shapes are reused."""
    import torch

    need = estimate_bytes(point, settings.channels_last)
    if settings.memory_cap_bytes is not None and need > settings.memory_cap_bytes:
        if pool is not None:
            pool.clear()
        return None, (f"estimated {need / 2**30:.2f} GiB exceeds the memory cap "
                      f"{settings.memory_cap_bytes / 2**30:.2f} GiB")
    try:
        with torch.inference_mode():
            call = layer_call(point, device, settings, pool)
            result = harness.time_call(call, device, settings, energy_handle)
    except Exception as exc:
        if not is_oom(exc):
            raise
        reason = f"out of memory: {str(exc).splitlines()[0][:200]}"
        call = None  # type: ignore[assignment]
        if pool is not None:
            pool.clear()
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
        return None, reason
    del call
    row = {c: point[c] if c in point else COLUMN_DEFAULTS[c] for c in CONFIG_COLUMNS}
    row.update({
        "time_ms": _sig(result.median_s * 1e3),
        "time_ms_iqr": _sig(result.iqr_s * 1e3),
        "runs": result.runs,
        "energy_j": None if result.energy_j is None else _sig(result.energy_j),
    })
    return row, None


def significant(value: float, digits: int = 6) -> float:
    """``value`` rounded to ``digits`` significant figures (timings are not more precise)."""
    return float(f"{value:.{digits - 1}e}")


_sig = significant


# --- resumable sweeps --------------------------------------------------------------------------


def read_partial(path: str | Path) -> list[dict[str, Any]]:
    """Records of a partial file (one JSON object per line); a torn or garbled line ends it.

    A line counts only if it ends with a newline and parses as a JSON object with a ``key``: a
    sweep killed while writing leaves at most one such line, always the last.
    """
    path = Path(path)
    if not path.exists():
        return []
    records = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                break
            if not isinstance(record, dict) or "key" not in record:
                break
            records.append(record)
    return records


def _append_line(handle: Any, record: Mapping[str, Any]) -> None:
    handle.write(json.dumps(record, sort_keys=True) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def _fmt_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, sec = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{sec:02d}s" if hours else f"{minutes}m{sec:02d}s"


def _loadavg() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


@dataclass(frozen=True)
class RowContract:
    """What :func:`run_sweep` writes: the columns of a row and its key, how a point is timed
    (``time_fn(point, device, settings, energy_handle, pool) -> (row | None, reason | None)``)
    and how it is described in the log."""

    columns: tuple[str, ...]
    key_columns: tuple[str, ...]
    time_fn: Callable[..., tuple[dict[str, Any] | None, str | None]]
    describe: Callable[[Mapping[str, Any]], str]

    def key(self, point: Mapping[str, Any]) -> tuple[Any, ...]:
        if self.key_columns == KEY_COLUMNS:
            return point_key(point)
        return tuple(point[c] for c in self.key_columns)


def run_sweep(points: Sequence[Mapping[str, Any]], out_csv: str | Path, meta_path: str | Path,
              device: Any, settings: TimingSettings, run_info: Mapping[str, Any] | None = None,
              schema_path: str | Path | None = None,
              on_point: Callable[[int, int], None] | None = None,
              contract: RowContract | None = None) -> dict[str, Any]:
    """Measure every configuration of a sweep, resumably, and write the CSV and its sidecar.

    ``points`` come from :func:`greenflops.timing.grids.sweep_points`. ``run_info`` is copied into the
    sidecar (profile, dataset id, settings...). With ``schema_path`` the rows are validated against
    the contract before the CSV is written. ``contract`` says what a row is (default
    :data:`TIMING_ROWS`, the timing contract; the op sweep passes its own). Returns the
    sidecar's content.
    """
    contract = TIMING_ROWS if contract is None else contract
    import pandas as pd
    import torch

    from greenflops.io.outputs import write_csv

    out_csv, meta_path = Path(out_csv), Path(meta_path)
    partial = out_csv.with_name(out_csv.stem + ".partial.jsonl")
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    keys = [contract.key(p) for p in points]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate configurations in the sweep's grid")
    wanted = set(keys)
    done: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in read_partial(partial):
        key = tuple(record["key"])
        if key in wanted and key not in done:
            done[key] = record
    # Rewrite the partial file with the good records only (drops a torn line) before appending.
    atomic_write_text(partial, "".join(json.dumps(done[k], sort_keys=True) + "\n"
                                       for k in keys if k in done))
    resumed = len(done)
    if resumed:
        log.info("resuming: %d of %d points already measured in %s", resumed, len(keys), partial)
    torch.set_grad_enabled(False)
    backend = prepare_backends(device, settings)
    handle = nvml_handle(device) if settings.energy else None
    load_start = _loadavg()
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    todo = [(k, p) for k, p in zip(keys, points) if k not in done]
    flops_todo = sum(float(p.get("flops", 0.0)) for _, p in todo)
    flops_done = 0.0
    timed = 0.0  # Σ median × runs over the points timed in this run
    pool = TensorPool()
    with open(partial, "a", encoding="utf-8") as handle_out:
        for i, (key, point) in enumerate(todo, start=1):
            row, reason = contract.time_fn(point, device, settings, handle, pool)
            record: dict[str, Any] = {"key": list(key)}
            if row is None:
                record["skipped"] = reason
                log.warning("skipped %s: %s", contract.describe(point), reason)
            else:
                record["row"] = row
                timed += row["time_ms"] / 1e3 * row["runs"]
            _append_line(handle_out, record)
            done[key] = record
            flops_done += float(point.get("flops", 0.0))
            spent = time.perf_counter() - t0
            # Time left, from the points and from the FLOPs still to time: the larger estimate.
            left = max(spent / i * (len(todo) - i),
                       spent / max(flops_done, 1.0) * (flops_todo - flops_done))
            time_txt = f"{row['time_ms']:.4g} ms" if row else "skipped"
            log.info("%s: %s -> %s | %d/%d points, elapsed %s, about %s left",
                     point["sweep"], contract.describe(point), time_txt, resumed + i, len(keys),
                     _fmt_duration(spent), _fmt_duration(left))
            if on_point is not None:
                on_point(resumed + i, len(keys))
    pool.clear()
    wall = time.perf_counter() - t0
    rows = [done[k]["row"] for k in keys if "row" in done[k]]
    skipped = [dict(zip(contract.key_columns, k), reason=done[k]["skipped"]) for k in keys
               if "skipped" in done[k]]
    frame = pd.DataFrame(rows, columns=list(contract.columns))
    if schema_path is not None:
        from greenflops.io.tables import load_schema, validate_records

        records = [{c: (None if isinstance(v, float) and math.isnan(v) else v)
                    for c, v in r.items()} for r in frame.to_dict("records")]
        validate_records(records, load_schema(schema_path), out_csv)
    meta: dict[str, Any] = {
        **dict(run_info or {}),
        "sweep": points[0]["sweep"] if points else out_csv.stem,
        "points": len(keys),
        "measured": len(rows),
        "skipped_count": len(skipped),
        "resumed_points": resumed,
        "settings": {k: v for k, v in asdict(settings).items()},
        "backend": backend,
        "energy": handle is not None and any(r.get("energy_j") is not None for r in rows),
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_s": round(wall, 3),
        "timed_s": round(timed, 3),
        "overhead_ratio": round(wall / timed, 4) if timed > 0 else None,
        "loadavg_start": load_start,
        "loadavg_end": _loadavg(),
        **node_facts(),
        "skipped": skipped,
    }
    write_csv(frame, out_csv)
    atomic_write_text(meta_path, yaml.safe_dump(meta, sort_keys=False))
    partial.unlink(missing_ok=True)
    return meta


def _describe(point: Mapping[str, Any]) -> str:
    if point["op"] == "linear":
        return f"linear {point['c_in']}x{point['c_out']} batch {point['batch']}"
    groups = point.get("groups", 1)
    return (f"conv2d {point['c_in']}->{point['c_out']} {point['h']}x{point['w']} "
            f"k{point['k_h']}x{point['k_w']} batch {point['batch']}"
            + (f" stride {point['stride']}" if point["stride"] != 1 else "")
            + (f" groups {groups}" if groups != 1 else ""))


#: The timing contract's rows: conv and dense layers (workflow/schemas/timings.schema.yaml).
TIMING_ROWS = RowContract(TIMING_COLUMNS, KEY_COLUMNS, time_point, _describe)
