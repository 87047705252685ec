"""Importer of the alpha-FLOPs paper's own measurements (Asperti, Evangelista, Marzolla 2021).

Source: ``asperti/alpha_flops_dataset`` (MIT), ``data.pickle``: ``{'plots': [...]}``, 8 plots,
each a dict with ``name``, ``text``, ``hardware`` and ``lines``; every line is a float64 array of
shape (n, 7) with columns ``[H, W, Cin, Cout, K1, K2, T]`` (T in milliseconds, a mean over 2000
executions), measured on an NVIDIA Quadro T2000. The pickle is read by
:func:`greenflops.imports.pickles.load_pickle` (restricted: plain numeric arrays only), then
checked (8 known plots, float arrays of 7 columns, positive integer shapes, positive times)
before any row is built. One dataset, :data:`DEVICE_ID`, one sweep per plot
(:data:`PLOT_MAPPINGS`, named after the project's sweep families, so the paper's figures are
drawn for it).

Conventions: convolutions are batch 1, stride 1, "same" padding recorded as ``(k − 1) // 2``,
FLOPs ``2·C_in·C_out·K1·K2·H·W`` (output = input size); ``increasing_batch`` rows are
``op = linear`` with ``batch`` = column 0, ``c_in`` = column 2, ``c_out`` = column 3. ``runs`` =
2000, ``time_ms_iqr`` and ``energy_j`` empty, dtype float32; device.yaml says
``time_statistic: mean``.

**Column order H/W.** The upstream README gives ``[H, W, ...]``; two plots contradict it and are
read as ``[W, H, ...]`` (``hw_order = "wh"``): ``increasing_W`` grows column 0 although the
paper (Fig. 5a: "x is W, H = 100") and the plot's own text (``D = W x 100 x C_in``) say W grows;
``increasing_Cout_with_K1`` gives its lines by column 1, which the plot's text (``H = 300 / 200 /
100``) and the paper (Fig. 6a) call H. Every other plot is square in H × W or agrees with the
README. FLOPs and the alpha model (S = H·W) do not depend on the order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from greenflops.imports.accounting import Dataset, DropLog, ImportResult
from greenflops.imports.pickles import load_pickle
from greenflops.imports.rows import ImportDataError, conv_row, dedupe, linear_row
from greenflops.timing.gpu_specs import spec_name

__all__ = ["DEVICE_ID", "PLOT_MAPPINGS", "RUNS", "SOURCE", "PlotMapping", "import_asperti2021"]

#: Folder name of the imported dataset.
DEVICE_ID = "asperti2021-quadro-t2000"
#: Provenance written to device.yaml (``../shared/data/README.md``).
SOURCE: dict[str, str] = {
    "repository": "https://github.com/asperti/alpha_flops_dataset",
    "commit": "eecef84c1c8d7628e48783976b9f38dd1592c22d",
    "file": "data.pickle",
    "license": "MIT",
    "note": "data.pickle unchanged since a109613d (2021-06-30)",
}
#: Timed calls behind each T (upstream README: "an average over 2000 different executions").
RUNS = 2000
#: The GPU every plot's ``hardware`` must name.
EXPECTED_GPU = "Quadro T2000"

REASONS = {
    "imported": "converted to a contract row",
    "duplicate_shape": "same primary key as an earlier row of the sweep (first kept)",
}


@dataclass(frozen=True)
class PlotMapping:
    """How one upstream plot becomes one sweep."""

    sweep: str  #: project sweep name (a family of greenflops.timing.grids)
    figure: str  #: the paper's figure(s)
    op: str = "conv2d"  #: conv2d, or linear for the dense-layer plot
    hw_order: str = "hw"  #: "hw": columns 0, 1 are H, W (README); "wh": W, H
    note: str = ""


#: Upstream plot name → mapping. Names keep the upstream typos (``incresing_Cin_100-1000``).
PLOT_MAPPINGS: dict[str, PlotMapping] = {
    "conv_K_vs_S": PlotMapping(
        "k_vs_spatial", "Fig. 2b (and Fig. 4)",
        note="C_in = C_out in {50, 70, 100, 150}, H = W = floor(300/K), K in 1..19, 21, 22, 24, "
             "26, 28; FLOPs fall by up to 13% along a line; the paper's 490e6 budget is C = 70 "
             "here (441e6 multiply-adds)"),
    "increasing_W": PlotMapping(
        "increasing_w", "Fig. 5a", hw_order="wh",
        note="column 0 (README: H) grows; read as W (paper: 'x is W, H = 100'; plot text "
             "'D = W x 100 x C_in'); C_out = 100"),
    "increasing_Cout": PlotMapping("increasing_cout", "Fig. 5b", note="H = W = 100, K = 3"),
    "increasing_Cout_with_K1": PlotMapping(
        "increasing_cout_k1", "Fig. 6a", hw_order="wh",
        note="lines differ in column 1 (README: W), which the plot text and the paper call H; "
             "the other spatial size is 300 in the data but 100 in the plot text"),
    "conv_K_vs_C": PlotMapping(
        "k_vs_channels", "Fig. 2a (and Fig. 4)",
        note="10 x 10, C = floor(B/K) for C*K = B in {1500, 2100, 3000, 4500}, K = 1..28"),
    "conv_fixed_progressive": PlotMapping(
        "dense_vs_conv", "Fig. 1b / Fig. 3b",
        note="5 lines, 4 labelled: (1) 'Dense' D1 = D2 = D, stored as a 1x1 conv on a 1x1 input "
             "(its D = 12800 time, 6.392 ms, is Table 1a's conv (1), not the dense 6.401 ms); "
             "(2) H=1, W=2, C_in = D, C_out = D/2; an unlabelled line H = W = 2, C_in = D, "
             "C_out = D/4; (3) H = W = 2, C = D/2; (4) H = W = 4, C = D/4"),
    "incresing_Cin_100-1000": PlotMapping(
        "increasing_cin", "Fig. 6b", note="H = W = 10, C_out = 1000, K in {1, 3, 5}"),
    "increasing_batch": PlotMapping(
        "dense_batch", "Fig. 7", op="linear",
        note="dense D x D, D in {6400, 9050, 11085, 12800}, batch = column 0; the D = 12800 line "
             "has odd batches 1, 3, ..., 63 and its batch-1 time is exactly 6.392 (Table 1a's "
             "rounded value, the only 3-decimal time in the file)"),
}


def _int_cell(value: float, path: Path, where: str, column: str) -> int:
    if not math.isfinite(value) or value < 1 or not float(value).is_integer():
        raise ImportDataError(path, f"{where}: {column} = {value!r} is not a positive integer",
                              column=column)
    return int(value)


def _check_plot(plot: Any, index: int, path: Path) -> tuple[str, list[np.ndarray]]:
    if not isinstance(plot, dict):
        raise ImportDataError(path, f"plot {index} is not a dict")
    name = plot.get("name")
    if name not in PLOT_MAPPINGS:
        raise ImportDataError(path, f"plot {index}: unknown plot name {name!r} (known: "
                                    f"{', '.join(PLOT_MAPPINGS)})")
    hardware = plot.get("hardware")
    gpu = hardware.get("GPU") if isinstance(hardware, dict) else None
    if gpu != EXPECTED_GPU:
        raise ImportDataError(path, f"plot {name!r}: hardware GPU {gpu!r}, expected "
                                    f"{EXPECTED_GPU!r}")
    lines = plot.get("lines")
    if not isinstance(lines, list) or not lines:
        raise ImportDataError(path, f"plot {name!r}: 'lines' is not a non-empty list")
    for j, line in enumerate(lines):
        if (not isinstance(line, np.ndarray) or line.ndim != 2 or line.shape[1] != 7
                or line.dtype.kind != "f" or line.shape[0] == 0):
            raise ImportDataError(path, f"plot {name!r}, line {j}: expected a float array of "
                                        "shape (n, 7), n > 0")
    return name, lines


def _plot_rows(mapping: PlotMapping, name: str, lines: list[np.ndarray], path: Path
               ) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for j, line in enumerate(lines):
        for p, values in enumerate(line):
            where = f"plot {name!r}, line {j}, point {p}"
            cols = [float(v) for v in values]
            c0, c1, c_in, c_out, k1, k2 = (
                _int_cell(v, path, where, c)
                for v, c in zip(cols[:6], ("H", "W", "Cin", "Cout", "K1", "K2")))
            t = cols[6]
            if not math.isfinite(t) or t <= 0:
                raise ImportDataError(path, f"{where}: time {t!r} is not a positive number",
                                      column="T")
            if mapping.op == "linear":
                if (c1, k1, k2) != (1, 1, 1):
                    raise ImportDataError(path, f"{where}: a dense row needs W = K1 = K2 = 1")
                rows.append(linear_row(mapping.sweep, batch=c0, d_in=c_in, d_out=c_out,
                                       dtype="float32", time_ms=t, runs=RUNS))
                continue
            h, w = (c0, c1) if mapping.hw_order == "hw" else (c1, c0)
            if k1 != k2:  # every plot has square kernels; K1/K2 vs k_h/k_w is undocumented
                raise ImportDataError(path, f"{where}: non-square kernel {k1}x{k2} (the K1/K2 "
                                            "order is undocumented)")
            if k1 > h + 2 * ((k1 - 1) // 2) or k2 > w + 2 * ((k2 - 1) // 2):
                raise ImportDataError(path, f"{where}: kernel {k1}x{k2} larger than its padded "
                                            f"input {h}x{w}")
            rows.append(conv_row(mapping.sweep, batch=1, c_in=c_in, c_out=c_out, h=h, w=w,
                                 k_h=k1, k_w=k2, stride=1, padding=(k1 - 1) // 2,
                                 dtype="float32", time_ms=t, runs=RUNS, same_output=True))
    return rows


def _device(hardware: dict[str, Any], gpu_spec: str | None) -> dict[str, Any]:
    device = {
        "device_id": DEVICE_ID,
        "hardware_id": DEVICE_ID,
        "device_type": "cuda",
        "name": str(hardware.get("GPU", EXPECTED_GPU)),
        "dtype": "float32",
        "compute_capability": str(hardware.get("computeCapability", "")),
        "multiprocessors": int(hardware.get("coreCount", 0)) or None,
        "core_clock_ghz": hardware.get("coreClock"),
        "cpu_model": "Intel Core i7-9850H (paper, Section 4)",
        "time_statistic": "mean",
        "timing_note": "T = mean over 2000 executions (upstream README); framework, warm-up and "
                       "data layout are not documented",
        "paper": "Asperti, Evangelista, Marzolla (2021), Dissecting FLOPs along input dimensions "
                 "for GreenAI cost estimations (LOD 2021)",
        "gpu_spec": gpu_spec,
        "source": dict(SOURCE),
    }
    return {k: v for k, v in device.items() if v not in (None, "")}


def import_asperti2021(path: str | Path) -> ImportResult:
    """Read ``data.pickle`` and build the T2000 dataset (one sweep per plot); writes nothing.

    Every plot of :data:`PLOT_MAPPINGS` must be there, once. Raises
    :class:`~greenflops.imports.rows.ImportDataError` naming the file (and plot, line, point) on
    a malformed file, :class:`~greenflops.imports.pickles.UnsafePickleError` on a pickle naming a
    global it may not.
    """
    path = Path(path)
    data = load_pickle(path)
    if not isinstance(data, dict) or not isinstance(data.get("plots"), list):
        raise ImportDataError(path, "expected a dict with a list under 'plots'")
    log = DropLog(REASONS)
    sweeps: dict[str, list[dict[str, Any]]] = {}
    plots_info: list[dict[str, Any]] = []
    duplicates: dict[str, Any] = {}
    hardware: dict[str, Any] = {}
    seen: set[str] = set()
    for index, plot in enumerate(data["plots"]):
        name, lines = _check_plot(plot, index, path)
        if name in seen:
            raise ImportDataError(path, f"plot {name!r} appears twice")
        seen.add(name)
        mapping = PLOT_MAPPINGS[name]
        hardware = dict(plot["hardware"])
        kept, stats = dedupe(_plot_rows(mapping, name, lines, path))
        for reason, n in (("imported", len(kept)), ("duplicate_shape", stats.repeats)):
            log.add(source=SOURCE["file"], sheet="", section=name, device_id=DEVICE_ID,
                    reason=reason, rows=n)
        if stats.repeats:
            duplicates[mapping.sweep] = stats.as_dict()
        sweeps[mapping.sweep] = kept
        plots_info.append({"plot": name, "sweep": mapping.sweep, "figure": mapping.figure,
                           "lines": len(lines), "rows": sum(len(x) for x in lines),
                           "hw_order": "H, W" if mapping.hw_order == "hw" else "W, H",
                           "note": mapping.note})
    missing = [n for n in PLOT_MAPPINGS if n not in seen]
    if missing:
        raise ImportDataError(path, f"plot(s) {', '.join(missing)} missing (expected the 8 plots "
                                    "of the published dataset)")
    gpu_spec = spec_name(str(hardware.get("GPU", EXPECTED_GPU)))  # data/raw/tables/gpu_specs.csv
    dataset = Dataset(DEVICE_ID, _device(hardware, gpu_spec), sweeps,
                      summary={"plots": plots_info, "duplicates": duplicates})
    notes = {"plots": len(data["plots"])}
    return ImportResult("asperti2021", [dataset], log, notes)
