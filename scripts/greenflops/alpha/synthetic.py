"""Synthetic timings in the contract format, generated from a time model with known parameters.

For tests and for checking that a fit recovers what generated the data: :func:`sweep_configs`
lays out layer configurations shaped like the paper's experiments (Fig. 1, 2, 5, 6, 7; smaller
sizes), and :func:`synthetic_timings` times them with a model of :mod:`greenflops.alpha.models` plus
log-normal noise. Nothing here is measured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from greenflops.alpha.features import features_from_frame
from greenflops.alpha.models import get_model
from greenflops.timing.contract import KEY_COLUMNS, TIMING_COLUMNS
from greenflops.timing.grids import FAMILIES, conv_point, linear_point

__all__ = [
    "SWEEPS",
    "SYNTHETIC_GPU",
    "SYNTHETIC_TRUTH",
    "sweep_configs",
    "synthetic_device",
    "synthetic_timings",
]

#: Sweep families of the paper, as named in the timing contract.
SWEEPS: tuple[str, ...] = tuple(name for name, fam in FAMILIES.items() if fam.paper)


def _conv(sweep: str, c_in: int, c_out: int, h: int, w: int, k: int, batch: int = 1) -> dict:
    return conv_point(sweep, c_in, c_out, h, w, k, batch=batch)


def _dense(sweep: str, d_in: int, d_out: int, batch: int = 1) -> dict:
    return linear_point(sweep, d_in, d_out, batch=batch)


def sweep_configs(sweeps: Sequence[str] = SWEEPS) -> pd.DataFrame:
    """Layer configurations of the named sweeps (odd kernels, stride 1, 'same' padding)."""
    rows: list[dict] = []
    for sweep in sweeps:
        if sweep == "dense_vs_conv":  # Fig. 1b: same FLOPs spread over W, H, C_in, C_out
            for x in range(6):
                d = 100 * 2**x
                rows.append(_dense(sweep, d, d))
                rows.append(_conv(sweep, d, d, 1, 1, 1))
                rows.append(_conv(sweep, d // 2, d, 2, 1, 1))
                rows.append(_conv(sweep, d // 2, d // 2, 2, 2, 1))
                rows.append(_conv(sweep, d // 4, d // 4, 4, 4, 1))
        elif sweep == "k_vs_channels":  # Fig. 2a: K up, channels down, 10x10
            for c1 in (48, 96):
                for k in (1, 3, 5, 7, 9):
                    c = max(1, round(c1 * 3 / k))
                    rows.append(_conv(sweep, c, c, 10, 10, k))
        elif sweep == "k_vs_spatial":  # Fig. 2b: K up, spatial down, channels fixed
            for c in (16, 32):
                for k in (1, 3, 5, 7, 9):
                    side = max(k, round(90 / k))
                    rows.append(_conv(sweep, c, c, side, side, k))
        elif sweep == "increasing_w":  # Fig. 5a
            for c_in in (8, 32):
                for w in (5, 10, 20, 40, 80):
                    rows.append(_conv(sweep, c_in, 32, 20, w, 3))
        elif sweep == "increasing_cout":  # Fig. 5b
            for c_in in (8, 32):
                for c_out in (8, 16, 32, 64, 128):
                    rows.append(_conv(sweep, c_in, c_out, 20, 20, 3))
        elif sweep == "increasing_cout_k1":  # Fig. 6a
            for h in (10, 40):
                for c_out in (16, 64, 256, 1024):
                    rows.append(_conv(sweep, 50, c_out, h, h, 1))
        elif sweep == "increasing_cin":  # Fig. 6b
            for k in (1, 3, 5):
                for c_in in (16, 64, 256):
                    rows.append(_conv(sweep, c_in, 256, 10, 10, k))
        elif sweep == "dense_batch":  # Fig. 7
            for d in (256, 1024):
                for batch in (1, 2, 4, 8, 16, 32, 64):
                    rows.append(_dense(sweep, d, d, batch))
        else:
            raise ValueError(f"unknown sweep {sweep!r}")
    frame = pd.DataFrame(rows)
    frame["dtype"] = "float32"
    return frame


def synthetic_timings(
    model: str,
    params: Mapping[str, float],
    sweeps: Sequence[str] = SWEEPS,
    noise_sd: float = 0.03,
    seed: int = 0,
) -> pd.DataFrame:
    """Timing rows in the contract format, ``time_ms`` from ``model`` times log-normal noise.

    ``noise_sd`` is the standard deviation of the log noise (0.03 is about 3 % per row).
    """
    frame = sweep_configs(sweeps)
    x = features_from_frame(frame)
    clean = get_model(model).predict(dict(params), x)
    rng = np.random.default_rng(seed)
    frame["time_ms"] = clean * np.exp(rng.normal(0.0, noise_sd, len(frame)))
    frame["time_ms_iqr"] = frame["time_ms"] * 0.02
    frame["runs"] = 50
    frame["energy_j"] = np.nan
    return frame[list(TIMING_COLUMNS)]


#: device.yaml of the synthetic GPU of :func:`synthetic_device`.
SYNTHETIC_GPU: dict = {"device_id": "synthetic-gpu", "device_type": "cuda", "multiprocessors": 40,
                       "peak_gflops": 10000.0, "peak_gflops_dtype": "float32",
                       "mem_bandwidth_gbs": 500.0}
#: The ``wave_c`` parameters that time it.
SYNTHETIC_TRUTH: dict[str, float] = {"t0": 0.005, "q": 3.0, "P": 7000.0, "BW": 400.0, "p": 3.0,
                                     "h": 20.0, "e_kn": 1.2, "g_w": 1.7, "g_f": 1.3}


def synthetic_device(n: int = 20000, n_sweeps: int = 20, seed: int = 0, noise_sd: float = 0.05,
                     model: str = "wave_c", params: Mapping[str, float] | None = None
                     ) -> tuple[pd.DataFrame, dict]:
    """A synthetic GPU (:data:`SYNTHETIC_GPU`) of ``n`` layers of random shapes (70 %
    convolutions, 30 % GEMMs) in ``n_sweeps`` sweeps, timed by ``model`` with ``params``
    (default ``wave_c`` at :data:`SYNTHETIC_TRUTH`) and log-normal noise: timing rows in the
    contract format, unique by key, and the device.yaml. For the fit's time budget and for
    parameter recovery; nothing here is measured."""
    from greenflops.alpha.device_facts import device_facts

    rng = np.random.default_rng(seed)
    conv = rng.random(n) < 0.7
    k = rng.choice([1, 3, 5, 7], n, p=[0.4, 0.45, 0.1, 0.05])
    hw = rng.choice([7, 14, 28, 56, 112], n)
    frame = pd.DataFrame({
        "sweep": [f"sweep_{i:02d}" for i in rng.integers(0, n_sweeps, n)],
        "op": np.where(conv, "conv2d", "linear"),
        "batch": np.where(conv, rng.choice([1, 4, 8, 16, 32], n),
                          rng.choice([1, 16, 64, 256, 1024, 4096], n)),
        "c_in": 2 ** rng.integers(2, 12, n), "c_out": 2 ** rng.integers(3, 12, n),
        "h": np.where(conv, hw, 1), "w": np.where(conv, hw, 1),
        "k_h": np.where(conv, k, 1), "k_w": np.where(conv, k, 1),
        "stride": np.where(conv & (rng.random(n) < 0.2), 2, 1), "dtype": "float32",
    })
    frame["padding"] = np.where(conv, (frame["k_h"] - 1) // 2, 0)
    frame["groups"] = 1
    ho = (frame["h"] + 2 * frame["padding"] - frame["k_h"]) // frame["stride"] + 1
    wo = (frame["w"] + 2 * frame["padding"] - frame["k_w"]) // frame["stride"] + 1
    frame["flops"] = (2 * frame["batch"] * frame["c_out"] * frame["c_in"] * frame["k_h"]
                      * frame["k_w"] * ho * wo).astype(np.int64)
    frame = frame.drop_duplicates(list(KEY_COLUMNS)).reset_index(drop=True)
    device = dict(SYNTHETIC_GPU)
    x = features_from_frame(frame, device_facts(device, None, ["float32"]))
    clean = get_model(model).predict(dict(params or SYNTHETIC_TRUTH), x)
    frame["time_ms"] = clean * np.exp(rng.normal(0.0, noise_sd, len(frame)))
    frame["time_ms_iqr"] = frame["time_ms"] * 0.02
    frame["runs"] = 50
    frame["energy_j"] = np.nan
    return frame[list(TIMING_COLUMNS)], device
