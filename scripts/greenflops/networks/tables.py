"""The networks stage's tables: FLOPs against the trends paper's Table 2, op costs, predicted vs
measured, energy side by side (CSV frames and their Markdown)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from greenflops.io.render import to_markdown
from greenflops.networks.costs import LinearCost

__all__ = [
    "energy_markdown",
    "flops_comparison",
    "flops_markdown",
    "grouped_check",
    "op_costs_document",
    "op_costs_markdown",
    "validation_markdown",
]


# --------------------------------------------------------------------------------------------
# FLOPs against Table 2
# --------------------------------------------------------------------------------------------


def flops_comparison(networks: Sequence[str], registry: Mapping[str, Any],
                     captures: Mapping[tuple[str, str], Mapping[str, Any]],
                     cv_models: pd.DataFrame) -> pd.DataFrame:
    """One row per network: our GFLOPs at its side (batch 1), with elementwise FLOPs,
    ``torch.utils.flop_counter`` (complete, and as it reports by default) and Conv2d/Linear
    hooks; and, where the network has a Table 2 row, the paper's GFLOPs at the paper's side
    beside ours at that side, the difference and its reason (``workflow/resources/
    networks.yaml``). ``captures``: (network, input shape) → the op table's ``.meta.yaml``."""
    rows = []
    for net in networks:
        entry = (registry.get("architectures") or {}).get(net) or {}
        side = int(entry.get("side", 224))
        own = captures[(net, f"1x3x{side}x{side}")]
        row: dict[str, Any] = {
            "network": net, "torchvision": entry.get("torchvision", net), "side": side,
            "gflops": own["flops"] / 1e9,
            "gflops_with_elementwise": (own["flops"] + own["elem_flops"]) / 1e9,
            "flop_counter_gflops": own["flop_counter_complete"] / 1e9,
            "flop_counter_default_gflops": own["flop_counter_default"] / 1e9,
            "hooks_conv_linear_gflops": own["hooks_conv_linear"] / 1e9,
            "params_m": own["parameters"] / 1e6,
            "paper_model": None, "paper_side": None, "paper_gflops": None,
            "gflops_at_paper_side": None, "with_elementwise_at_paper_side": None,
            "difference_pct": None, "reason": None,
        }
        paper = entry.get("paper")
        if paper:
            sel = cv_models[cv_models["model"] == paper["model"]]
            if "extra_data" in paper:
                sel = sel[sel["extra_data"] == paper["extra_data"]]
            at = captures[(net, f"1x3x{paper['side']}x{paper['side']}")]
            printed = float(sel["gflops"].iloc[0])
            ours = at["flops"] / 1e9
            row.update({"paper_model": paper["model"], "paper_side": int(paper["side"]),
                        "paper_gflops": printed, "gflops_at_paper_side": ours,
                        "with_elementwise_at_paper_side": (at["flops"] + at["elem_flops"]) / 1e9,
                        "difference_pct": 100.0 * (ours - printed) / printed,
                        "reason": " ".join(str(paper["reason"]).split())})
        rows.append(row)
    return pd.DataFrame(rows)


def flops_markdown(table: pd.DataFrame) -> str:
    """The FLOPs comparison as Markdown (GFLOPs, 2 FLOPs per multiply-add)."""
    shown = table.rename(columns={
        "gflops": "ours", "gflops_with_elementwise": "ours + elementwise",
        "flop_counter_gflops": "flop_counter (complete)",
        "flop_counter_default_gflops": "flop_counter (default)",
        "hooks_conv_linear_gflops": "Conv2d/Linear hooks", "params_m": "params (M)",
        "paper_model": "Table 2 row", "paper_side": "paper side",
        "paper_gflops": "paper", "gflops_at_paper_side": "ours at paper side",
        "with_elementwise_at_paper_side": "+ elementwise", "difference_pct": "Δ %"})
    shown = shown.drop(columns=["torchvision"])
    fmt = {c: ".4g" for c in shown.columns if c not in ("network", "side", "Table 2 row",
                                                         "paper side", "reason", "Δ %")}
    fmt["Δ %"] = "+.1f"
    intro = (
        "GFLOPs of one forward pass at batch 1, 2 FLOPs per multiply-add, bias and other "
        "elementwise work left out (the convention of both papers and of "
        "`torch.utils.flop_counter`); groups counted (C_in / groups inputs per output). *ours*: "
        "the matrix products of the captured op table (`data/raw/networks/`); *flop_counter "
        "(complete)*: with the fused attention paths switched off (it misses them on the CPU: "
        "*default*); *hooks*: what forward hooks on Conv2d/Linear see. *paper*: Desislavov et "
        "al. (2021), Table 2 (`data/raw/tables/cv_models.csv`), at the input side it is for; "
        "Δ compares it with ours at that side; networks without a Table 2 row (released after "
        "it, or not in it) have no paper value: docs/networks.md gives references.")
    return to_markdown(shown, fmt, title="Network FLOPs: greenflops vs flop_counter vs the "
                       "trends paper's Table 2").replace("\n\n", f"\n\n{intro}\n\n", 1)


# --------------------------------------------------------------------------------------------
# Op costs
# --------------------------------------------------------------------------------------------


def grouped_check(grouped: pd.DataFrame, rows: pd.DataFrame, params: Mapping[str, Any],
                  costs: Mapping[str, LinearCost]) -> pd.DataFrame:
    """MAPE (%) on a device's grouped-convolution sweep rows of each fitted time model of the
    α stage (with the rows' true S: as small GEMMs) and of the grouped-conv cost, per kind.

    ``grouped``: the timing-contract rows (groups > 1); ``rows``: the same as op-cost rows
    (:func:`greenflops.networks.costs.grouped_rows`)."""
    from greenflops.alpha.device_facts import facts_from_document
    from greenflops.alpha.document import fitted_params
    from greenflops.alpha.features import features_from_frame
    from greenflops.alpha.models import MODEL_NAMES, get_model

    if grouped.empty:
        return pd.DataFrame(columns=["kind", "model", "mape_pct", "median_ratio", "n"])
    x = features_from_frame(grouped, facts_from_document(params))
    t = grouped["time_ms"].to_numpy(float)
    kinds = rows["kind"].to_numpy()
    preds: dict[str, np.ndarray] = {}
    for model in MODEL_NAMES:
        p = fitted_params(params, model)
        if p is not None:
            preds[model] = get_model(model).predict(p, x)
    cost_pred = np.array([costs[k].predict(b, f) if k in costs else np.nan
                          for k, b, f in zip(kinds, rows["bytes_moved"], rows["flops"])],
                         dtype=float)
    preds["grouped_conv_cost"] = cost_pred
    out = []
    for kind in sorted(set(kinds)):
        sel = kinds == kind
        for model, pred in preds.items():
            ok = sel & np.isfinite(pred)
            if not ok.any():
                continue
            out.append({"kind": kind, "model": model,
                        "mape_pct": float(np.mean(np.abs(pred[ok] - t[ok]) / t[ok]) * 100),
                        "median_ratio": float(np.median(pred[ok] / t[ok])), "n": int(ok.sum())})
    return pd.DataFrame(out)


def op_costs_document(device_id: str, costs: Mapping[str, LinearCost],
                      files: Sequence[Mapping[str, Any]], check: pd.DataFrame,
                      notes: Mapping[str, str]) -> dict[str, Any]:
    """The content of ``op_costs.yaml``: the fitted costs, the data, the grouped check."""
    def num(v: Any) -> Any:
        return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else (
            float(f"{v:.6g}") if isinstance(v, float) else v)

    return {
        "device_id": device_id,
        "method": {
            "form": "t_ms = c0_ms + ms_per_mb * MB moved (+ ms_per_gflop * GFLOPs for grouped "
                    "convolutions), coefficients >= 0",
            "objective": "non-negative least squares on relative errors (scipy.optimize.nnls)",
            "validation": "5-fold cross-validation per kind, seeded (kfold_mape_pct)",
            "default": "the streaming kinds together (relu, relu6, add, mul, batchnorm, copy, "
                       "cat): the cost of a kind the sweeps lack",
        },
        "data": {"files": [dict(f) for f in files]},
        "notes": dict(sorted(notes.items())),
        "costs": {k: {f: num(v) for f, v in c.to_dict().items()}
                  | {"bandwidth_gbs": num(c.bandwidth_gbs)} for k, c in costs.items()},
        "grouped_check": [{k: num(v) for k, v in r.items()} for r in check.to_dict("records")],
    }


def op_costs_markdown(doc: Mapping[str, Any]) -> str:
    """``op_costs.yaml`` as Markdown: a row per kind, then the grouped check."""
    rows = []
    for kind, c in doc["costs"].items():
        rows.append({"kind": kind, "floor c0 (µs)": 1e3 * c["c0_ms"],
                     "bandwidth (GB/s)": c["bandwidth_gbs"],
                     "ms per GFLOP": c["ms_per_gflop"], "n": c["n"],
                     "in-sample MAPE %": c["mape_pct"], "5-fold MAPE %": c["kfold_mape_pct"]})
    table = pd.DataFrame(rows)
    text = to_markdown(table, {"floor c0 (µs)": ".3g", "bandwidth (GB/s)": ".3g",
                               "ms per GFLOP": ".3g", "in-sample MAPE %": ".1f",
                               "5-fold MAPE %": ".1f"},
                       title=f"Op costs on {doc['device_id']}")
    intro = ("Per-kind cost of the ops that are not dense matrix products: "
             f"{doc['method']['form']}; {doc['method']['objective']}; "
             f"{doc['method']['validation']}. *default*: {doc['method']['default']}.")
    text = text.replace("\n\n", f"\n\n{intro}\n\n", 1)
    if doc["grouped_check"]:
        check = pd.DataFrame(doc["grouped_check"])
        text += ("\n## Grouped convolutions: GEMM time models vs the bandwidth cost\n\n"
                 "Each time model of the α stage applied to the device's depthwise/grouped sweep "
                 "rows with their true S (as a small GEMM), beside the grouped-conv cost above "
                 "(in-sample). median ratio = predicted / measured.\n\n"
                 + to_markdown(check, {"mape_pct": ".1f", "median_ratio": ".3g"}))
    for key, note in doc.get("notes", {}).items():
        text += f"\n- {key}: {note}\n"
    files = ", ".join(f"`{f['path']}`" for f in doc["data"]["files"])
    return text + f"\nData: {files}.\n"


# --------------------------------------------------------------------------------------------
# Predicted vs measured
# --------------------------------------------------------------------------------------------


def validation_markdown(tables: Mapping[str, pd.DataFrame],
                        facts: Mapping[str, Mapping[str, Any]],
                        params: Mapping[str, Mapping[str, Any]]) -> str:
    """Per device with measured networks: APE (%) of the headline methods per network and
    batch, MAPE of every method, and the target check."""
    from greenflops.networks.predict import COMBO
    from greenflops.networks.validation import COMBO_LONO, FLOPS_LONO, TARGET_MAPE_PCT

    lines = ["# Whole networks: predicted vs measured time", "",
             "Predicted = the sum over every op of a forward pass (op tables, "
             "`data/raw/networks/`); measured = the device's raw network timings "
             "(`data/raw/timings/<device>/networks/`, sweep harness, median per forward pass). "
             "Methods: *flops* (time ∝ FLOPs, scale from the layer sweeps), *flops_lono* (time "
             "∝ FLOPs, scale fitted on the other networks), the device's time model alone on "
             "the matrix products, *combo* (that model on dense ops + grouped-conv cost + op "
             "costs, from sweeps only), *combo_lono* (combo with the whole-network correction "
             "fitted leave-one-network-out: the recommended combination).", ""]
    shown = False
    for device_id in sorted(tables):
        table = tables[device_id]
        fact = facts[device_id]
        if table.empty:
            continue
        shown = True
        model = fact.get("time_model")
        alpha = params[device_id].get("best_alpha_model")
        head = [m for m in dict.fromkeys(["flops", FLOPS_LONO, alpha, model, COMBO, COMBO_LONO])
                if m and m in set(table["method"])]
        wide = table.pivot_table(index=["network", "batch"], columns="method", values="ape_pct",
                                 sort=False)
        meas = table.drop_duplicates(["network", "batch"]).set_index(["network", "batch"])
        frame = pd.DataFrame({"network": [n for n, _ in wide.index],
                              "batch": [b for _, b in wide.index],
                              "GFLOPs": meas.loc[wide.index, "gflops"].to_numpy(),
                              "measured ms": meas.loc[wide.index, "measured_ms"].to_numpy()})
        for m in head:
            frame[m] = wide[m].to_numpy()
        mape = pd.DataFrame([{"method": m, "MAPE %": v,
                              **{f"batch {b} %": facts[device_id]["mape_pct_by_batch"][b].get(m)
                                 for b in sorted(facts[device_id]["mape_pct_by_batch"])}}
                             for m, v in fact["mape_pct"].items()])
        fmt = {c: ".1f" for c in frame.columns if c not in ("network", "batch", "GFLOPs",
                                                            "measured ms")}
        fmt.update({"GFLOPs": ".3g", "measured ms": ".4g"})
        lines += [f"## {device_id}", "",
                  f"Device model: **{model}**; {fact['networks']} networks, {fact['rows']} "
                  "measured rows. APE % per network:", "",
                  to_markdown(frame, fmt).strip(), "", "MAPE % of every method:", "",
                  to_markdown(mape, {c: ".1f" for c in mape.columns if c != "method"}).strip(),
                  ""]
        target = fact.get("target")
        if target:
            lines += [
                f"Target: the recommended combination ({COMBO_LONO}) at ≤ {TARGET_MAPE_PCT:g}% "
                f"MAPE: **{target['mape_pct']:.1f}% — {'met' if target['met'] else 'not met'}**. "
                f"FLOPs miss by more than {TARGET_MAPE_PCT:g}% on {target['flops_misses']} rows; "
                f"the combination is better on {target['better_than_flops_where_it_misses']}"
                + (f" (not on: {', '.join(target['rows_not_better'])})"
                   if target["rows_not_better"] else "") + ".", ""]
        corr = fact.get("correction")
        if corr:
            lines += ["Whole-network correction fitted on every measured network (used by the "
                      "`cost` command): " + ", ".join(f"{k} = {v:.3g}" for k, v in corr.items())
                      + ".", ""]
    if not shown:
        lines += ["No device has measured networks yet: time them with a sweep profile "
                  "(docs/networks.md).", ""]
    return "\n".join(lines)


def energy_markdown(table: pd.DataFrame) -> str:
    """The energy comparison as Markdown (joules per image)."""
    cols = {"network": "network", "batch": "batch", "device": "device",
            "j_per_image_trends": "(a) FLOPs ÷ GFLOPS/W", "gflops_per_watt": "GFLOPS/W",
            "j_per_image_time_power": "(b) time × power", "power_w": "power W",
            "j_per_image_measured": "(c) measured", "note": "missing"}
    shown = table[list(cols)].rename(columns=cols)
    fmt = {"(a) FLOPs ÷ GFLOPS/W": ".3g", "GFLOPS/W": ".4g", "(b) time × power": ".3g",
           "power W": ".4g", "(c) measured": ".3g"}
    intro = ("Joules per image of one forward pass. (a) the trends paper's method (Desislavov "
             "et al. 2021): GFLOPs ÷ the GPU's GFLOPS/W adapted to CV (Table 9, "
             "`data/processed/gpu_efficiency.csv`); (b) the device's predicted time (the "
             "recommended combination, corrected) × its power, an estimate where the power is "
             "a TDP; (c) NVML's energy counter around the timed forward passes. A missing value "
             "is never filled: the last column says why it is missing.")
    return to_markdown(shown, fmt, title="Energy per forward pass: the two papers side by "
                       "side").replace("\n\n", f"\n\n{intro}\n\n", 1)
