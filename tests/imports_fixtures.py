"""Synthetic stand-ins for the public datasets, built in the tests (nothing converted from the
real files is ever committed): a tiny alpha-FLOPs pickle, hostile pickles, DeepBench-style
workbooks with every oddity the importer handles; and where the real data is
(``../shared/data``, beside the repository: skip when absent, fail under ``CI=true``)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

try:
    from numpy._core.numeric import _frombuffer
except ImportError:  # numpy 1.x
    from numpy.core.numeric import _frombuffer  # type: ignore[no-redef]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def shared_data() -> Path:
    """``../shared/data`` (the public datasets); skip when absent, fail under ``CI=true``."""
    path = ROOT.parent / "shared" / "data"
    if not path.is_dir():
        if _in_ci():
            pytest.fail(f"CI=true but the public datasets are missing at {path}")
        pytest.skip(f"public datasets not available at {path}")
    return path


def require_openpyxl() -> Any:
    """openpyxl (a requirement); skip when this environment lacks it, fail under ``CI=true``."""
    try:
        import openpyxl
    except ImportError:
        if _in_ci():
            pytest.fail("CI=true but openpyxl (requirements.txt) is not installed")
        pytest.skip("openpyxl not installed (pip install -r requirements.txt)")
    return openpyxl


# --- the alpha-FLOPs pickle ------------------------------------------------------------------


class PickledArray:
    """Pickles like a numpy array (``_frombuffer`` + ``numpy.dtype``) but with text GLOBAL
    opcodes (protocol 3), so that tests can respell or replace the names it uses."""

    def __init__(self, array: np.ndarray):
        self.array = np.ascontiguousarray(array)

    def __reduce__(self):
        return (_frombuffer, (self.array.tobytes(), self.array.dtype, self.array.shape, "C"))


class Reducer:
    """Pickles as a call of ``fn(*args)``: what a hostile pickle asks the loader to run."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def _wrap(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return PickledArray(obj)
    if isinstance(obj, dict):
        return {k: _wrap(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_wrap(v) for v in obj]
    return obj


HARDWARE = {"GPU": "Quadro T2000", "computeCapability": 7.5, "coreClock": 1.62, "coreCount": 16}


def fake_alpha_data() -> dict:
    """The 8 plots of data.pickle, 1-2 made-up points each (columns H, W, Cin, Cout, K1, K2, T)."""

    def plot(name: str, *rows: list[float]) -> dict:
        return {"name": name, "no_lines": 1, "axis": 0, "x_axis_name": "x", "ylim": None,
                "text": [], "hardware": dict(HARDWARE),
                "lines": [np.array(rows, dtype=np.float64)]}

    return {"plots": [
        plot("conv_K_vs_S", [300, 300, 50, 50, 1, 1, 0.22], [150, 150, 50, 50, 2, 2, 0.28]),
        plot("increasing_W", [10, 100, 50, 100, 3, 3, 0.26], [20, 100, 50, 100, 3, 3, 0.27]),
        plot("increasing_Cout", [100, 100, 50, 10, 3, 3, 0.25]),
        plot("increasing_Cout_with_K1", [300, 100, 50, 10, 1, 1, 0.21]),
        plot("conv_K_vs_C", [10, 10, 1500, 1500, 1, 1, 0.23], [10, 10, 53, 53, 28, 28, 2.3]),
        plot("conv_fixed_progressive", [1, 2, 400, 200, 1, 1, 0.21]),
        plot("incresing_Cin_100-1000", [10, 10, 100, 1000, 5, 5, 1.46]),
        plot("increasing_batch", [1, 1, 6400, 6400, 1, 1, 1.61], [2, 1, 6400, 6400, 1, 1, 1.64]),
    ]}


def write_alpha_pickle(path: Path, data: Any | None = None, numpy1_names: bool = False) -> Path:
    """``data`` (default :func:`fake_alpha_data`) pickled as the published file is."""
    raw = pickle.dumps(_wrap(fake_alpha_data() if data is None else data), protocol=3)
    if numpy1_names:
        raw = raw.replace(b"numpy._core.numeric\n", b"numpy.core.numeric\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return path


#: Pickles that name something else than the two allowed numpy globals; each would create
#: ``marker`` if it ran.
HOSTILE = {
    "os.system": lambda marker: b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.",
    "posix.system": lambda marker: pickle.dumps(Reducer(os.system, f"touch {marker}")),
    "builtins.eval": lambda marker: (b"cbuiltins\neval\n(S'open(\"" + str(marker).encode()
                                     + b"\", \"w\")'\ntR."),
    "builtins.getattr": lambda marker: pickle.dumps(Reducer(getattr, object, "__class__")),
    "numpy._reconstruct": lambda marker: pickle.dumps(np.arange(3.0), protocol=2),
    "subprocess.Popen": lambda marker: pickle.dumps(Reducer(__import__("subprocess").Popen,
                                                            ["touch", str(marker)])),
}


# --- DeepBench workbooks ---------------------------------------------------------------------

GEMM_HEADER = ["Dense Matrix Multiplication", None, "M", "N", "K", "A Transpose", "B Transpose",
               None, "Time (msec)", "TERAFLOPS"]
#: Convolution headers in the two orders the workbooks use (S/R, pad and strides swapped).
CONV_HEADER_SR = [None, None, "W", "H", "C", "N", "K ", "S (Filter width)", "R (Filter height)",
                  "pad_w", "pad_h", "Horizontal stride", "Vertical stride", "Forward (msec)",
                  "wrt Inputs (msec)", "wrt Parameters (msec)", None, "P", "Q"]
CONV_HEADER_RS = [None, None, "W", "H", "C", "N", "K ", "R", "S (Fitler width)", "pad_h",
                  "pad_w", "Vertical stride", "Horizontal stride", "Forward (msec)",
                  "wrt Inputs (msec)", "wrt Parameters (msec)", None, "P", "Q"]

#: (convolution, what the importer must do with it).
CONVS: list[tuple[dict[str, Any], str]] = [
    (dict(app="Vision", W=224, H=224, C=3, N=1, K=64, S=3, R=3, pw=1, ph=1, sw=1, sh=1, t=0.5,
          P=224, Q=224), "imported"),
    (dict(app="DeepSpeech", W=700, H=161, C=1, N=4, K=32, S=20, R=5, pw=0, ph=0, sw=2, sh=2,
          t=0.078, P=341, Q=79), "imported"),  # rectangular kernel, stride 2
    (dict(app="OCR", W=480, H=48, C=1, N=16, K=16, S=3, R=3, pw=1, ph=1, sw=1, sh=1, t=0.05,
          P=48, Q=480), "imported"),  # P/Q swapped in the sheet: same output size
    (dict(app="Vision", W=224, H=224, C=3, N=1, K=64, S=3, R=3, pw=1, ph=1, sw=1, sh=1, t=0.55,
          P=224, Q=224), "duplicate_shape"),
    (dict(app="Speaker ID", W=151, H=40, C=1, N=1, K=32, S=5, R=20, pw=8, ph=8, sw=8, sh=2,
          t=1.0, P=21, Q=19), "asymmetric_stride"),
    (dict(app="Vision", W=56, H=56, C=64, N=1, K=64, S=3, R=3, pw=1, ph=0, sw=1, sh=1, t=0.1,
          P=56, Q=54), "asymmetric_padding"),
    (dict(app="Vision", W=28, H=28, C=64, N=1, K=64, S=3, R=3, pw=1, ph=1, sw=1, sh=1,
          t="Not Supported", P=28, Q=28), "not_supported"),
    (dict(app="Vision", W=14, H=14, C=64, N=1, K=64, S=3, R=3, pw=1, ph=1, sw=1, sh=1, t="N/A",
          P=14, Q=14), "not_available"),
    (dict(app="Vision", W=7, H=7, C=64, N=1, K=64, S=3, R=3, pw=1, ph=1, sw=1, sh=1, t=None,
          P=7, Q=7), "no_time"),
    (dict(app="Vision", W=9, H=9, C=64, N=1, K=64, S=3, R=3, pw=1, ph=1, sw=1, sh=1,
          t="#VALUE!", P=9, Q=9), "spreadsheet_error"),
    (dict(app="Vision", W=10, H=10, C=64, N=1, K=64, S=3, R=3, pw=1, ph=1, sw=1, sh=1, t=0,
          P=10, Q=10), "zero_time"),
    (dict(app="Vision", W=11, H=11, C=64, N=1, K=64, S=3, R=3, pw=1, ph=1, sw=1, sh=1, t=0.2,
          P=12, Q=12), "output_size_mismatch"),
    (dict(app="Resnet", W=3, H=3, C=8, N=1, K=8, S=7, R=7, pw=0, ph=0, sw=1, sh=1, t=0.2,
          P=1, Q=1), "kernel_exceeds_input"),
    (dict(app=None, W=12, H=12, C=8, N=2, K=8, S=1, R=1, pw=0, ph=0, sw=1, sh=1, t=0.01,
          P=12, Q=12), "imported"),
]
#: (GEMM cells: application, M, N, K, A transpose, B transpose, blank, time; what to do).
GEMMS: list[tuple[list[Any], str]] = [
    (["DeepSpeech", 1760, 16, 1760, "N", "N", None, 0.038], "imported"),
    # the same M, N, K with other transposes: a shape listed twice
    (["DeepSpeech", 1760, 16, 1760, "T", "N", None, 0.037], "duplicate_shape_transposed"),
    (["DeepSpeech", 512, 32, 512, "N", "T", None, 0.014], "imported"),
    (["DeepSpeech", 1760, 16, 1760, "N", "N", None, 0.040], "duplicate_shape"),
    ([None, 35, 700, 2048, "N", "N", None, "Not Supported"], "not_supported"),
    (["Speaker ID", 2.5, 700, 2048, "N", "N", None, 0.1], "bad_shape"),
]

_CONV_KEYS = {"W": "W", "H": "H", "C": "C", "N": "N", "K ": "K", "S (Filter width)": "S",
              "S (Fitler width)": "S", "R (Filter height)": "R", "R": "R", "pad_w": "pw",
              "pad_h": "ph", "Horizontal stride": "sw", "Vertical stride": "sh",
              "Forward (msec)": "t", "P": "P", "Q": "Q"}


def expected_counts() -> dict[str, int]:
    """Rows per outcome of a :func:`make_workbook` sheet (plus its footnote row)."""
    counts: dict[str, int] = {"note_row": 1}
    for _, reason in CONVS + GEMMS:
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def make_workbook(path: Path, *, conv_header: list[Any] = CONV_HEADER_SR,
                  precision: str = "Float", gpu: str = "NVIDIA V100",
                  drop_header: str | None = None, padded: bool = False,
                  sheet: str = "Results FP32") -> Path:
    """A small DeepBench-style workbook: a results sheet (precision row, GEMM, sparse GEMM,
    convolution and RNN sections, a footnote) and a Specs sheet."""
    openpyxl = require_openpyxl()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["Precision", precision])
    ws.append([])
    ws.append(list(GEMM_HEADER) + (["Padded Kernels"] if padded else []))
    for cells, _ in GEMMS:
        ws.append([None] + cells + ([None, 1 if cells[1] == 512 else 0] if padded else []))
    ws.append([])
    ws.append(["Sparse Matrix Multiplication", None, "M", "N", "K", "A Transpose", "B Transpose",
               "Sparsity", None, "Sparse Time (msec)"])
    ws.append([None, None, 7680, 1, 2560, "N", "N", 0.95, None, 0.1])
    ws.append(["Convolution"])
    header = [h for h in conv_header if drop_header is None or h != drop_header]
    ws.append(header)
    for conv, _ in CONVS:
        row = [None] * len(header)
        row[1] = conv["app"]
        for j, name in enumerate(header):
            if name in _CONV_KEYS:
                row[j] = conv[_CONV_KEYS[name]]
        ws.append(row)
    ws.append([None, None, None, "* = a footnote inside the section"])
    ws.append(["Recurrent Layers - GRU", None, "Hidden units", "N", "Timesteps"])
    ws.append([None, None, 512, 1, 25])
    ws.append([None, None, 512, 2, 25])
    specs = wb.create_sheet("Specs")
    for row in (["CPU Model", "Intel Xeon"], ["GPU Model", gpu], ["CUDA Version", "10.1.243"],
                ["Cudnn Version", 7.6], ["Nvidia Driver", 418.67]):
        specs.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
