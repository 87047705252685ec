"""Whole-model α-FLOPs: per-layer FLOPs, α-FLOPs and predicted time of a PyTorch ``nn.Module``.

:func:`layer_table` runs one forward pass with hooks on every ``Conv2d`` and ``Linear`` and lists
their shapes and FLOPs (2 per multiply-add, as :mod:`greenflops.flops`; cross-checked against
``torch.utils.flop_counter``). :func:`predict_layers` adds, for a device fitted by the alpha stage
(``params.yaml``), each time model's predicted milliseconds. Other layers (activations, pooling,
additions, normalisation) are not modelled: they are listed with zero FLOPs-model time.

Two small networks are defined in code (:data:`NETWORKS`, no downloaded weights) for validating
the predictions against measured time. Measuring (:func:`measure_networks`, the sweep harness's
:func:`greenflops.timing.harness.time_call`) belongs to the sweeps stage and writes raw data
``data/raw/timings/<device_id>/networks/whole_networks.csv``; the analysis
(:func:`validate_networks`) only reads it (:func:`read_whole_networks`) and is deterministic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from greenflops.alpha.features import features_from_frame
from greenflops.alpha.formula import alpha_factor, s_k
from greenflops.alpha.models import MODEL_NAMES, get_model

__all__ = [
    "NETWORKS",
    "WHOLE_NETWORK_COLUMNS",
    "build_network",
    "layer_table",
    "measure_networks",
    "model_params",
    "network_points",
    "parse_shape",
    "predict_layers",
    "read_whole_networks",
    "resnet_like",
    "validate_networks",
    "validation_markdown",
    "vgg_like",
]


def vgg_like(width: int = 32, classes: int = 100) -> Any:
    """A VGG-style stack: 3×3 convs with ReLU, 2×2 max-pool, widths ×2 per stage; linear head."""
    import torch.nn as nn

    layers: list[Any] = []
    c_in = 3
    for stage, c in enumerate((width, 2 * width, 4 * width, 8 * width)):
        for _ in range(2 if stage else 1):
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU(inplace=True)]
            c_in = c
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, classes))


def resnet_like(width: int = 32, blocks: int = 2, classes: int = 100) -> Any:
    """A ResNet-style stack: stem conv, basic blocks (two 3×3 convs + identity or 1×1 shortcut)."""
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self, c_in: int, c_out: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
            self.relu = nn.ReLU()
            self.short = (nn.Conv2d(c_in, c_out, 1, stride=stride)
                          if stride != 1 or c_in != c_out else nn.Identity())

        def forward(self, x: Any) -> Any:
            return self.relu(self.conv2(self.relu(self.conv1(x))) + self.short(x))

    layers: list[Any] = [nn.Conv2d(3, width, 3, padding=1), nn.ReLU()]
    c_in = width
    for stage, c in enumerate((width, 2 * width, 4 * width)):
        for b in range(blocks):
            layers.append(Block(c_in, c, 2 if (b == 0 and stage) else 1))
            c_in = c
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, classes))


#: Networks defined in code, by name.
NETWORKS: dict[str, Callable[[], Any]] = {"vgg_like": vgg_like, "resnet_like": resnet_like}


def build_network(name: str) -> Any:
    """A network of :data:`NETWORKS` in eval mode, with fixed (seeded) weights."""
    import torch

    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; known: {', '.join(NETWORKS)}")
    torch.manual_seed(0)
    return NETWORKS[name]().eval()


def layer_table(module: Any, input_shape: Sequence[int], cross_check: bool = False
                ) -> pd.DataFrame:
    """One row per ``Conv2d`` / ``Linear`` call in a forward pass on zeros of ``input_shape``.

    Columns follow the timing contract (``op, batch, c_in, c_out, h, w, k_h, k_w, stride,
    padding, groups, dtype, flops``) plus ``layer`` (module name). Grouped convolutions count
    ``C_in / groups`` inputs per output. With ``cross_check``, raises if the hook total disagrees
    with ``torch.utils.flop_counter`` (the tests check every network of :data:`NETWORKS` so; off
    by default because entering the counter imports torch._dynamo, about 3 s a process).
    """
    import torch
    import torch.nn as nn

    rows: list[dict[str, Any]] = []
    handles = []

    def hook(name: str) -> Callable[..., None]:
        def record(mod: Any, inputs: tuple[Any, ...], output: Any) -> None:
            x = inputs[0]
            if isinstance(mod, nn.Conv2d):
                if isinstance(mod.padding, str):
                    raise ValueError(f"{name}: string padding is not supported")
                b, c_in, h, w = x.shape
                _, c_out, h_out, w_out = output.shape
                k_h, k_w = mod.kernel_size
                flops = 2 * k_h * k_w * (c_in // mod.groups) * c_out * h_out * w_out * b
                rows.append(dict(layer=name, op="conv2d", batch=b, c_in=c_in, c_out=c_out, h=h,
                                 w=w, k_h=k_h, k_w=k_w, stride=mod.stride[0],
                                 padding=mod.padding[0], groups=mod.groups, flops=flops))
            else:
                b = int(np.prod(x.shape[:-1]))
                rows.append(dict(layer=name, op="linear", batch=b, c_in=mod.in_features,
                                 c_out=mod.out_features, h=1, w=1, k_h=1, k_w=1, stride=1,
                                 padding=0, groups=1,
                                 flops=2 * b * mod.in_features * mod.out_features))
        return record

    for name, mod in module.named_modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            handles.append(mod.register_forward_hook(hook(name)))
    counter: Any = contextlib.nullcontext()
    if cross_check:
        from torch.utils.flop_counter import FlopCounterMode

        counter = FlopCounterMode(display=False)
    try:
        with torch.no_grad(), counter:
            module(torch.zeros(*input_shape))
    finally:
        for h in handles:
            h.remove()
    frame = pd.DataFrame(rows)
    frame["dtype"] = "float32"
    if cross_check and frame["flops"].sum() != (counted := counter.get_total_flops()):
        raise AssertionError(f"hook FLOPs {frame['flops'].sum()} != flop_counter {counted}")
    return frame


def model_params(params_doc: Mapping[str, Any], model: str) -> dict[str, float]:
    """Parameter values of ``model`` from a parsed ``params.yaml``."""
    entry = params_doc["models"].get(model)
    if entry is None or "parameters" not in entry:
        raise ValueError(f"model {model!r} was not fitted on {params_doc.get('device_id')}")
    return {k: float(v["value"]) for k, v in entry["parameters"].items()}


def predict_layers(layers: pd.DataFrame, params_doc: Mapping[str, Any],
                   models: Sequence[str] | None = None) -> pd.DataFrame:
    """Add ``s``, ``alpha`` (of the best α model), ``alpha_flops`` and ``time_ms_<model>``.

    ``models`` defaults to every model fitted in ``params_doc``.
    """
    fitted = [m for m in MODEL_NAMES if "parameters" in params_doc["models"].get(m, {})]
    models = list(models) if models is not None else fitted
    out = layers.copy()
    x = features_from_frame(out)
    out["s"] = x.s
    best = params_doc.get("best_alpha_model") or "alpha_fit"
    # The model's fixed parameters too (alpha_paper fixes β and γ to the paper's values).
    p = {**get_model(best).fixed, **model_params(params_doc, best)}
    one = x.k_area <= 1
    out["alpha"] = alpha_factor(
        x.s, np.where(one, p["beta_k1"], p["beta_kn"]), np.where(one, p["gamma_k1"],
                                                                  p["gamma_kn"]),
        s_k(x.k_area, p.get("sk_slope", 1.0)))
    out["alpha_flops"] = out["alpha"] * out["flops"]
    for name in models:
        out[f"time_ms_{name}"] = get_model(name).predict(model_params(params_doc, name), x)
    return out


#: Columns of the raw whole-network timings (workflow/schemas/whole_networks.schema.yaml).
WHOLE_NETWORK_COLUMNS = ["network", "input_shape", "batch", "threads", "dtype", "time_ms",
                         "time_ms_iqr", "runs"]


def parse_shape(text: str) -> tuple[int, ...]:
    """``"1x3x64x64"`` → ``(1, 3, 64, 64)``; raises ``ValueError`` for anything else."""
    parts = str(text).split("x")
    if len(parts) != 4 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"input_shape {text!r} is not BxCxHxW (positive integers)")
    return tuple(int(p) for p in parts)


def network_points(networks: Sequence[str], sides: Sequence[int],
                   batch: int = 1) -> list[tuple[str, tuple[int, int, int, int]]]:
    """``(network, input shape)`` of each network at each square input side (3 channels)."""
    for net in networks:
        if net not in NETWORKS:
            raise ValueError(f"unknown network {net!r}; known: {', '.join(NETWORKS)}")
    return [(net, (int(batch), 3, int(side), int(side))) for net in networks for side in sides]


def measure_networks(points: Sequence[tuple[str, Sequence[int]]], device: Any,
                     settings: Any) -> pd.DataFrame:
    """Time one forward pass of each ``(network, input shape)`` with the sweep harness.

    Uses :func:`greenflops.timing.harness.time_call` with ``settings``
    (:class:`~greenflops.timing.harness.TimingSettings`), as the layer sweeps do: the network's seeded
    weights and a uniform random input in [-1, 1), in ``settings.dtype`` (channels-last when
    asked), on ``device``, under ``torch.inference_mode``. Returns the raw rows
    (:data:`WHOLE_NETWORK_COLUMNS`), ``time_ms``/``time_ms_iqr`` to 6 significant figures.
    """
    import torch

    from greenflops.timing.harness import time_call, torch_dtype

    tdtype = torch_dtype(settings.dtype)
    fmt = torch.channels_last if settings.channels_last else torch.contiguous_format
    rows: list[dict[str, Any]] = []
    for net, shape in points:
        module = build_network(net).to(device=device, dtype=tdtype, memory_format=fmt)
        gen = torch.Generator().manual_seed(0)
        x = (torch.rand(*shape, generator=gen) * 2 - 1).to(device=device, dtype=tdtype)
        x = x.contiguous(memory_format=fmt)
        with torch.inference_mode():
            result = time_call(lambda m=module, v=x: m(v), device, settings)
        rows.append({
            "network": net, "input_shape": "x".join(map(str, shape)), "batch": int(shape[0]),
            "threads": int(torch.get_num_threads()), "dtype": settings.dtype,
            "time_ms": float(f"{result.median_s * 1e3:.5e}"),
            "time_ms_iqr": float(f"{result.iqr_s * 1e3:.5e}"), "runs": int(result.runs),
        })
        del module, x
    return pd.DataFrame(rows, columns=WHOLE_NETWORK_COLUMNS)


def read_whole_networks(path: Any, schema: Any) -> pd.DataFrame:
    """Read and validate a raw ``whole_networks.csv``: the schema (file, line, column on error),
    a known network, an ``input_shape`` BxCxHxW whose B is ``batch``."""
    from greenflops.io.tables import TableValidationError, read_table, row_lines

    frame = read_table(path, schema)
    for line, row in zip(row_lines(frame), frame.to_dict("records")):
        if row["network"] not in NETWORKS:
            raise TableValidationError(path, line, "network",
                                       f"unknown network {row['network']!r}; known: "
                                       + ", ".join(NETWORKS))
        try:
            shape = parse_shape(row["input_shape"])
        except ValueError as exc:
            raise TableValidationError(path, line, "input_shape", str(exc)) from None
        if shape[0] != row["batch"]:
            raise TableValidationError(path, line, "batch",
                                       f"{row['batch']} is not the batch of {row['input_shape']}")
    return frame


#: Columns of the whole-network validation table.
VALIDATION_COLUMNS = ["network", "input", "threads", "dtype", "conv_linear_layers", "gflops",
                      "alpha_gflops", "measured_ms", "measured_iqr_ms", "model", "predicted_ms",
                      "ape_pct", "note"]


def validate_networks(measured: pd.DataFrame, params_doc: Mapping[str, Any],
                      note: str = "") -> pd.DataFrame:
    """Predicted vs measured time of each network row of ``measured`` (raw whole-network rows).

    The prediction of a model is the sum of its per-layer predictions (conv and linear only),
    from the fitted ``params_doc``; nothing is timed here, so the table depends only on its
    inputs. Rows are sorted by network, input, model. With no measured rows, one row carrying
    ``note``.
    """
    rows: list[dict[str, Any]] = []
    records = sorted(measured.to_dict("records"), key=lambda r: (
        str(r["network"]), parse_shape(r["input_shape"]), int(r["threads"]), str(r["dtype"])))
    for rec in records:
        shape = parse_shape(rec["input_shape"])
        layers = layer_table(build_network(rec["network"]), shape)
        layers["dtype"] = rec["dtype"]
        layers = predict_layers(layers, params_doc)
        measured_ms = float(rec["time_ms"])
        iqr = rec.get("time_ms_iqr")
        for col in [c for c in layers.columns if c.startswith("time_ms_")]:
            predicted = float(layers[col].sum())
            rows.append({
                "network": rec["network"], "input": rec["input_shape"],
                "threads": int(rec["threads"]), "dtype": rec["dtype"],
                "conv_linear_layers": int(len(layers)),
                "gflops": float(layers["flops"].sum()) / 1e9,
                "alpha_gflops": float(layers["alpha_flops"].sum()) / 1e9,
                "measured_ms": measured_ms,
                "measured_iqr_ms": None if iqr is None or pd.isna(iqr) else float(iqr),
                "model": col.removeprefix("time_ms_"), "predicted_ms": predicted,
                "ape_pct": 100.0 * abs(predicted - measured_ms) / measured_ms, "note": note,
            })
    if not rows:
        rows.append({c: None for c in VALIDATION_COLUMNS} | {"note": note})
    return pd.DataFrame(rows, columns=VALIDATION_COLUMNS)


def validation_markdown(table: pd.DataFrame, device_id: str) -> str:
    """APE (%) of each model on each network, and the MAPE over networks, as Markdown."""
    lines = [f"# Whole-network time predictions on {device_id}", ""]
    if table["measured_ms"].isna().all():
        return "\n".join(lines + [str(table["note"].iloc[0]), ""])
    models = list(dict.fromkeys(table["model"]))
    keys = ["network", "input", "threads", "dtype"]
    nets = list(dict.fromkeys(zip(*(table[k] for k in keys))))
    lines += ["Predicted = sum of the conv/linear layers' predicted times; measured = raw "
              f"data/raw/timings/{device_id}/networks/whole_networks.csv (sweep harness, "
              "median per forward pass). APE %:", "",
              "| network | input | GFLOPs | measured (ms) | " + " | ".join(models) + " |",
              "|---|---|---:|---:|" + "---:|" * len(models)]
    for net, inp, threads, dtype in nets:
        sub = table[(table["network"] == net) & (table["input"] == inp)
                    & (table["threads"] == threads) & (table["dtype"] == dtype)].set_index("model")
        first = sub.iloc[0]
        lines.append(f"| {net} | {inp} | {first['gflops']:.3g} | {first['measured_ms']:.3g} | "
                     + " | ".join(f"{sub.loc[m, 'ape_pct']:.1f}" for m in models) + " |")
    mape = table.groupby("model", sort=False)["ape_pct"].mean()
    lines.append("| **MAPE** | | | | " + " | ".join(f"**{mape[m]:.1f}**" for m in models) + " |")
    return "\n".join(lines) + "\n"
