"""What a network costs on a device, op by op: the ``cost`` command and :func:`cost_report`.

:func:`cost_report` takes any ``nn.Module`` and an input shape, captures its ops
(:mod:`greenflops.networks.graph`) and prices each on a device fitted by the pipeline: the
device's cost model (``data/processed/networks/devices/<device_id>/cost_model.yaml``: its time
model from the α fit, its op costs, its whole-network correction and the leave-one-network-out
error that validates them). It returns the per-op table (every op, its share of the predicted
time), the totals, the predicted time with the model used and its validated error, and the
energy estimates of :mod:`greenflops.networks.energy` where they exist.

Command line (``scripts/`` on the path)::

    PYTHONPATH=scripts python -m greenflops cost torchvision:resnet50 --input 1,3,224,224 \\
        --device-id cpu-amd-epyc-1thread [--format md|csv|json] [--top 20]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenflops.networks.costs import LinearCost, NetCorrection

__all__ = ["ROOT", "CostReport", "DeviceNotFitted", "cost_report", "load_cost_model", "main"]

#: The project root (the data the pipeline built lives below it).
ROOT = Path(__file__).resolve().parents[3]


class DeviceNotFitted(ValueError):
    """A device id with no fit (or no cost model yet); the message says how to build one."""


def _devices_with(root: Path, pattern: str) -> list[str]:
    return sorted(p.parent.name for p in root.glob(pattern))


def load_cost_model(device_id: str, root: str | Path = ROOT) -> dict[str, Any]:
    """The device's ``cost_model.yaml`` and ``params.yaml`` (key ``params``). Raises
    :class:`DeviceNotFitted` naming the devices that have one, or how to build it."""
    from greenflops.io.plainyaml import read_yaml

    root = Path(root)
    params = root / "data" / "processed" / "alpha" / device_id / "params.yaml"
    path = root / "data" / "processed" / "networks" / "devices" / device_id / "cost_model.yaml"
    if not params.is_file():
        known = _devices_with(root, "data/processed/alpha/*/params.yaml")
        raw = (root / "data" / "raw" / "timings" / device_id / "device.yaml").is_file()
        raise DeviceNotFitted(
            f"device id {device_id!r} has no fit"
            + (": its timings are there, build it with `snakemake --cores all`" if raw else
               f" (no data/raw/timings/{device_id}/)")
            + (f"; devices with a fit: {', '.join(known)}" if known else
               "; no device is fitted yet: run `snakemake --cores all`"))
    if not path.is_file():
        raise DeviceNotFitted(
            f"device {device_id!r} has a fit but no cost model yet: build it with "
            f"`snakemake --cores all {path.relative_to(root)}`")
    model = read_yaml(path)
    model["params"] = read_yaml(params)
    return model


@dataclass
class CostReport:
    """The answer of ``cost``: per-op table, totals, prediction, its credentials, energy."""

    network: str
    input_shape: tuple[int, ...]
    device_id: str
    table: pd.DataFrame  #: one row per op (free ops included, 0 ms)
    totals: dict[str, float]
    predicted_ms: float
    model: str  #: what priced the ops
    validated: str  #: the validated error of that on the device (text)
    energy: pd.DataFrame = field(default_factory=pd.DataFrame)

    def markdown(self, top: int | None = 20) -> str:
        """Totals, the ``top`` ops by predicted time (every op with ``None``), per kind, energy."""
        t = self.totals
        shape = ",".join(map(str, self.input_shape))
        lines = [
            f"# {self.network} ({shape}) on {self.device_id}", "",
            f"**Predicted time: {self.predicted_ms:.4g} ms per forward pass** — {self.model}.", "",
            f"Validated error on this device: {self.validated}", "",
            f"GFLOPs (2 per multiply-add): {t['gflops']:.4g} · elementwise GFLOPs: "
            f"{t['elem_gflops']:.3g} · MB moved: {t['mb_moved']:.4g} · weights MB: "
            f"{t['mb_weights']:.4g} · ops: {int(t['ops'])} ({int(t['free_ops'])} free)", "",
        ]
        ordered = self.table.sort_values(["ms", "index"], ascending=[False, True],
                                         kind="mergesort")
        shown = ordered if top is None else ordered.head(top)
        lines += [("Every op" if top is None or top >= len(ordered) else
                   f"The {len(shown)} slowest of {len(ordered)} ops") + " (share of the "
                  "predicted time):", "",
                  "| # | module | kind | component | out shape | MFLOPs | MB | ms | share |",
                  "|---:|---|---|---|---|---:|---:|---:|---:|"]
        for r in shown.itertuples():
            lines.append(f"| {r.index} | {r.module or '(top)'} | {r.kind} | {r.component} | "
                         f"{r.out_shape} | {r.flops / 1e6:.4g} | {r.bytes_moved / 1e6:.3g} | "
                         f"{r.ms:.3g} | {100 * r.share:.1f}% |")
        by_kind = (self.table.groupby("kind")
                   .agg(n=("kind", "size"), flops=("flops", "sum"), mb=("bytes_moved", "sum"),
                        ms=("ms", "sum"), share=("share", "sum"))
                   .sort_values(["ms"], ascending=False, kind="mergesort"))
        lines += ["", "| kind | ops | GFLOPs | MB | ms | share |", "|---|---:|---:|---:|---:|---:|"]
        for kind, r in by_kind.iterrows():
            lines.append(f"| {kind} | {int(r.n)} | {r.flops / 1e9:.4g} | {r.mb / 1e6:.4g} | "
                         f"{r.ms:.3g} | {100 * r.share:.1f}% |")
        if not self.energy.empty:
            lines += ["", "Energy per forward pass (J): (a) FLOPs ÷ GFLOPS/W of Table 9, "
                      "(b) predicted time × power, (c) measured (the `cost` command measures "
                      "nothing):", "", "| device | (a) | (b) | power W | missing |",
                      "|---|---:|---:|---:|---|"]
            for r in self.energy.itertuples():
                lines.append(f"| {r.device} | {_fmt(r.j_trends)} | {_fmt(r.j_time_power)} | "
                             f"{_fmt(r.power_w)} | {r.note} |")
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict[str, Any]:
        """Everything, as plain data (the ``json`` format)."""
        def clean(v: Any) -> Any:
            if isinstance(v, (float, np.floating)):
                return float(v) if np.isfinite(v) else None
            if isinstance(v, np.integer):
                return int(v)
            return None if v is pd.NA else v

        table = [{k: clean(v) for k, v in r.items()} for r in self.table.to_dict("records")]
        energy = [{k: clean(v) for k, v in r.items()} for r in self.energy.to_dict("records")]
        return {"network": self.network, "input_shape": list(self.input_shape),
                "device_id": self.device_id, "predicted_ms": clean(self.predicted_ms),
                "model": self.model, "validated": self.validated,
                "totals": {k: clean(v) for k, v in self.totals.items()}, "ops": table,
                "energy": energy}


def _fmt(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and not np.isfinite(value)) else \
        f"{value:.3g}"


def cost_report(module: Any, input_shape: Sequence[int], device_id: str,
                root: str | Path = ROOT, name: str | None = None,
                cost_model: Mapping[str, Any] | None = None) -> CostReport:
    """Per-op predicted cost of one forward pass of ``module`` (any ``nn.Module``, put in eval
    mode here) on an input of ``input_shape`` on device ``device_id`` (module docstring).

    ``cost_model`` (with key ``params``: the device's params.yaml) replaces the one read from
    ``root`` (:func:`load_cost_model`)."""
    import torch

    from greenflops.networks.graph import capture, op_table
    from greenflops.networks.predict import corrected_ops, network_totals, predict_ops

    shape = tuple(int(v) for v in input_shape)
    if len(shape) < 2 or any(v < 1 for v in shape):
        raise ValueError(f"input shape {shape} is not a list of positive integers")
    model = dict(cost_model) if cost_model is not None else load_cost_model(device_id, root)
    params = model["params"]
    costs = ({k: LinearCost.from_dict(v) for k, v in model["op_costs"].items()}
             if model.get("op_costs") else None)
    correction = NetCorrection(**(model.get("correction") or {}))
    module = module.eval()
    try:
        with torch.no_grad():
            ops = op_table(capture(module, torch.zeros(*shape)))
    except RuntimeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"the network does not run on an input of shape {shape}: "
                         f"{first}") from None
    pred = predict_ops(ops, params, costs)
    chosen = model.get("time_model")
    table = ops[["index", "module", "module_type", "kind", "aten", "in_shape", "out_shape",
                 "flops", "elem_flops", "bytes_weight"]].copy()
    table["component"] = pred["component"].to_numpy()
    table["bytes_moved"] = pred["bytes_moved"].to_numpy()
    if costs is not None:
        table["ms"] = corrected_ops(pred, correction)
        what = (f"{chosen} (α-stage fit) on convolutions and matrix products, the bandwidth "
                "cost of depthwise/grouped convolutions and of every other op kind, and the "
                "whole-network correction " + ", ".join(
                    f"{k} = {v:.3g}" for k, v in correction.to_dict().items()))
    else:
        table["ms"] = pred[f"ms_{chosen}"].to_numpy()
        what = (f"{chosen} (α-stage fit) on convolutions and matrix products only: this "
                "device has no op costs (no op sweep), other ops count 0")
    total = float(table["ms"].sum())
    table["share"] = table["ms"] / total if total > 0 else 0.0
    totals = network_totals(pred, correction)
    totals.update({
        "elem_gflops": float(ops["elem_flops"].sum()) / 1e9,
        "mb_moved": float(table["bytes_moved"].sum()) / 1e6,
        "mb_weights": float(ops["bytes_weight"].sum()) / 1e6,
        "ops": float(len(table)), "free_ops": float((table["component"] == "free").sum()),
        "predicted_ms": total,
    })
    validated = _validated_text(model, costs is not None)
    network = name or type(module).__name__
    energy = _energy(network, shape, device_id, totals, model, pred, root)
    return CostReport(network, shape, device_id, table, totals, total, what, validated, energy)


def _validated_text(model: Mapping[str, Any], has_costs: bool) -> str:
    v = model.get("validated")
    loso = model.get("time_model_loso_mape_pct")
    layer = (f"{model.get('time_model')} has {loso:.1f}% leave-one-sweep-out MAPE on the "
             "device's layer sweeps" if isinstance(loso, (int, float)) else "")
    if v and has_costs:
        by = ", ".join(f"batch {b}: {m:.1f}%" for b, m in (v.get("mape_pct_by_batch") or {}).items()
                       if isinstance(m, (int, float)))
        return (f"{v['mape_pct']:.1f}% MAPE leave-one-network-out over {v['networks']} "
                f"measured networks ({by}); plain FLOPs {v['flops_mape_pct']:.1f}%"
                + (f"; {layer}" if layer else ""))
    return (str(model.get("note") or "not validated on whole networks")
            + (f"; {layer}" if layer else ""))


def _energy(network: str, shape: Sequence[int], device_id: str, totals: Mapping[str, float],
            model: Mapping[str, Any], pred: pd.DataFrame, root: str | Path) -> pd.DataFrame:
    """The energy rows of :func:`greenflops.networks.energy.energy_table` for this forward
    pass (empty when the trends stage's GPU table has not been built)."""
    import yaml

    from greenflops.networks.architectures import load_registry
    from greenflops.networks.energy import energy_table
    from greenflops.networks.predict import COMBO
    from greenflops.networks.validation import PREDICTION_COLUMNS

    root = Path(root)
    eff_path = root / "data" / "processed" / "gpu_efficiency.csv"
    device_yaml = root / "data" / "raw" / "timings" / device_id / "device.yaml"
    if not eff_path.is_file() or not device_yaml.is_file():
        return pd.DataFrame()
    with open(device_yaml, encoding="utf-8") as handle:
        facts = yaml.safe_load(handle)
    shape_text = "x".join(map(str, shape))
    row = {"network": network, "device_id": device_id, "dtype": facts.get("dtype", "float32"),
           "input_shape": shape_text, "batch": int(shape[0]), "gflops": totals["gflops"],
           "n_ops": int(totals["n_ops"]), "model": COMBO,
           "predicted_ms": totals.get(f"ms_{COMBO}", np.nan),
           "dense_ms": totals.get("dense_ms"), "grouped_ms": totals.get("grouped_ms"),
           "other_ms": totals.get("other_ms"), "measured_ms": None, "measured_iqr_ms": None,
           "measured_energy_j": None}
    chosen = model.get("time_model")
    alone = dict(row, model=chosen, predicted_ms=totals.get(f"ms_{chosen}", np.nan),
                 dense_ms=None, grouped_ms=None, other_ms=None)
    predictions = pd.DataFrame([row, alone], columns=PREDICTION_COLUMNS)
    reference = load_registry()["energy"]["gpus"]
    table = energy_table(predictions, {device_id: model}, {device_id: facts},
                         pd.read_csv(eff_path), reference)
    table["note"] = table["note"].str.replace(
        "(c) not measured: no energy in this device's network timings", "(c) not measured",
        regex=False)
    return table


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m greenflops cost TARGET --input B,C,H,W --device-id ID [--format ...]``."""
    from greenflops.networks.architectures import (
        UnknownArchitecture,
        architecture,
        parse_shape,
        resolve_target,
    )

    parser = argparse.ArgumentParser(
        prog="python -m greenflops",
        description="greenflops from the command line (run with scripts/ on PYTHONPATH)")
    sub = parser.add_subparsers(dest="command", required=True)
    cost = sub.add_parser(
        "cost", help="per-op cost, predicted time and energy of a network on a fitted device",
        description="Capture every op of one forward pass of a network and price it on a "
                    "device fitted by the pipeline (its cost model: docs/networks.md).")
    cost.add_argument("target", help="torchvision:NAME (weights=None), a registry id, or "
                                     "package.module:callable returning an nn.Module")
    cost.add_argument("--input", default=None,
                      help="input shape B,C,H,W (default: 1,3,<side>,<side>, side 224 or the "
                           "network's own)")
    cost.add_argument("--device-id", required=True,
                      help="a device fitted by the pipeline (data/processed/alpha/<id>/)")
    cost.add_argument("--format", choices=("md", "csv", "json"), default="md",
                      help="md: summary and the slowest ops; csv: every op; json: everything")
    cost.add_argument("--top", type=int, default=20, help="ops listed in md (0: every op)")
    cost.add_argument("--root", default=str(ROOT), help="project root (default: this checkout)")
    args = parser.parse_args(argv)
    try:
        source, _, name = args.target.partition(":")
        side = None
        if args.input:
            shape = parse_shape(args.input)
            side = shape[-1]
        else:
            arch_name = name if source == "torchvision" else (source if not name else None)
            side = architecture(arch_name).side if arch_name else 224
            shape = (1, 3, side, side)
        builder = resolve_target(args.target, side=side)
        model = load_cost_model(args.device_id, args.root)
        import torch

        torch.manual_seed(0)
        report = cost_report(builder(), shape, args.device_id, args.root,
                             name=name or source, cost_model=model)
    except (UnknownArchitecture, DeviceNotFitted, ValueError) as exc:
        print(f"greenflops cost: error: {exc}", file=sys.stderr)
        return 2
    if args.format == "md":
        sys.stdout.write(report.markdown(None if args.top == 0 else args.top))
    elif args.format == "csv":
        report.table.to_csv(sys.stdout, index=False, float_format="%.6g", lineterminator="\n")
    else:
        json.dump(report.as_dict(), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    return 0
