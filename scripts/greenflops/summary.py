"""What a run found, on one page (``figures/tables/summary.md``, rule ``summary``).

The README and the docs quote no result: they link this page, which is built from the outputs
themselves (fidelity, trend fits, each device's fits and whole-network check), so its numbers
are always those of the last run. Each function turns processed tables into one Markdown section.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from greenflops.io.render import to_markdown

__all__ = [
    "alpha_section",
    "fidelity_section",
    "networks_section",
    "recommended_section",
    "trends2025_section",
    "torchvision_section",
    "trends_section",
]

#: Trend lines quoted in the summary: (figure, domain, quantity, subset) -> what they are.
TREND_LINES = {
    ("fig03", "cv", "gflops", "sota_per_year"): "CV GFLOPs, best model per year",
    ("fig03", "cv", "gflops", "all"): "CV GFLOPs, all models",
    ("fig08", "cv", "gflops_per_watt", "fp32_and_adapted"): "GPU GFLOPS/W adapted for CV",
    ("fig08", "nlp", "gflops_per_watt", "fp32_and_adapted"): "GPU GFLOPS/W adapted for NLP",
    ("fig09", "cv", "joules", "sota_per_year"): "CV Joules per forward pass, best model per year",
    ("fig09", "cv", "joules", "all"): "CV Joules per forward pass, all models",
    ("fig06", "nlp", "gflops", "running_max"): "NLP GFLOPs, most demanding when released",
}


def fidelity_section(fidelity: pd.DataFrame) -> str:
    """How many printed numbers of the trends paper the pipeline reproduces."""
    counts = fidelity["status"].value_counts()
    parts = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("match", "explained", "UNEXPLAINED",
                                                           "missing"))
    return ("## Desislavov et al. (2021): fidelity\n\n"
            f"{len(fidelity)} numbers printed in the paper, re-derived: {parts} "
            "(`figures/tables/fidelity_trends.md`).\n")


def trends_section(fits: pd.DataFrame) -> str:
    """The headline doubling times, with their 95% confidence intervals."""
    rows = []
    for key, label in TREND_LINES.items():
        sel = fits[(fits["figure"] == key[0]) & (fits["domain"] == key[1])
                   & (fits["quantity"] == key[2]) & (fits["subset"] == key[3])]
        if len(sel) != 1:
            continue
        r = sel.iloc[0]
        low, high = _doubling(r["slope_ci_high"]), _doubling(r["slope_ci_low"])
        rows.append({"trend": label, "n": int(r["n"]),
                     "doubling time (years)": r["doubling_time_years"],
                     "95% CI": f"[{low}, {high}]"})
    table = pd.DataFrame(rows, columns=["trend", "n", "doubling time (years)", "95% CI"])
    return ("## Desislavov et al. (2021): trends\n\n"
            + to_markdown(table, {"doubling time (years)": ".2f"})
            + "\nEvery fitted line: `data/processed/trend_fits.csv`; a negative doubling time is a "
            "halving time; a CI bound of ∞ means the slope's CI includes 0.\n")


def trends2025_section(answer_md: str) -> str:
    """The answer table of the trends carried through 2025 (its own file's table, re-quoted)."""
    from pathlib import Path

    text = Path(answer_md).read_text(encoding="utf-8")
    table = "\n".join(line for line in text.splitlines() if line.startswith("|"))
    return ("## Beyond the papers: did the trends hold through 2025?\n\n" + table
            + f"\n\nMethod, notes and the sensitivity to how new GPUs are adapted: `{answer_md}`"
            " and `docs/trends2025.md`.\n")


def _doubling(slope: float) -> str:
    import math

    if not math.isfinite(slope) or slope <= 0:
        return "∞"
    return f"{math.log10(2) / slope:.2f}"


def alpha_section(devices: Mapping[str, tuple[Mapping[str, Any], pd.DataFrame]]) -> str:
    """Per device: data, the best α model and baseline with their leave-one-sweep-out MAPE."""
    rows = []
    for device_id, (params, report) in sorted(devices.items()):
        loso = report[report["scope"] == "loso"].set_index("model")["mape_pct"]

        def mape(model: str | None) -> float | None:
            return float(loso[model]) if model and model in loso.index else None

        best, base = params.get("best_alpha_model"), params.get("best_baseline_model")
        floor = (params["data"].get("neighbour_floor") or {}).get("mape_pct")
        rows.append({"device": device_id, "rows": params["data"]["rows"],
                     "sweeps": len(params["data"]["sweeps"]),
                     "best α model": best or "–", "α LOSO MAPE %": mape(best),
                     "best baseline": base or "–", "baseline LOSO MAPE %": mape(base),
                     "flops LOSO MAPE %": mape("flops"), "neighbour floor %": floor})
    table = pd.DataFrame(rows, columns=["device", "rows", "sweeps", "best α model",
                                        "α LOSO MAPE %", "best baseline", "baseline LOSO MAPE %",
                                        "flops LOSO MAPE %", "neighbour floor %"])
    fmt = {c: ".1f" for c in table.columns if "%" in c}
    return ("## Asperti et al. (2021): time models per device\n\n"
            + to_markdown(table, fmt)
            + "\nLOSO: each sweep predicted by a fit on the others (`data/processed/alpha/"
            "<device>/fit_report.csv`); the neighbour floor is the error of interpolating each "
            "point from its neighbours, which no smooth model can be expected to beat.\n")


def recommended_section(devices: Mapping[str, tuple[Mapping[str, Any], pd.DataFrame]]) -> str:
    """Per device: the recommended time model (params.yaml ``recommended_model``, chosen on
    out-of-sample error; docs/alpha.md) and its out-of-sample MAPE beside flops_overhead and
    alpha_paper in the same scope."""
    rows = []
    for device_id, (params, report) in sorted(devices.items()):
        rec, scope = params.get("recommended_model"), params.get("recommended_scope") or "loso"
        sub = report[report["scope"] == scope].set_index("model")["mape_pct"]

        def mape(model: str | None, sub: pd.Series = sub) -> float | None:
            return float(sub[model]) if model and model in sub.index else None

        refs = [mape("flops_overhead"), mape("alpha_paper")]
        beats = ("–" if mape(rec) is None or any(r is None for r in refs)
                 else "yes" if all(mape(rec) < r for r in refs) else "no")
        rows.append({"device": device_id, "scope": scope, "recommended": rec or "–",
                     "MAPE %": mape(rec), "flops_overhead MAPE %": refs[0],
                     "alpha_paper MAPE %": refs[1], "beats both": beats})
    table = pd.DataFrame(rows, columns=["device", "scope", "recommended", "MAPE %",
                                        "flops_overhead MAPE %", "alpha_paper MAPE %",
                                        "beats both"])
    fmt = {c: ".1f" for c in table.columns if "%" in c}
    return ("## Recommended time model per device (beyond the paper)\n\n"
            + to_markdown(table, fmt)
            + "\nOut of sample: leave-one-sweep-out from 3 sweeps, else 5-fold (scope); the "
            "rule and the model family: `docs/alpha.md`; every model on every device: "
            "`figures/tables/alpha_cross_device.md`.\n")


def networks_section(tables: Mapping[str, pd.DataFrame]) -> str:
    """Per device: MAPE over the measured whole networks of each time model (a column each)."""
    rows = []
    for device_id, table in sorted(tables.items()):
        if table["measured_ms"].isna().all():
            continue
        mape = table.groupby("model", sort=False)["ape_pct"].mean()
        rows.append({"device": device_id, "networks": int(table["network"].nunique()),
                     **mape.to_dict()})
    frame = pd.DataFrame(rows)
    fmt = {c: ".1f" for c in frame.columns if c not in ("device", "networks")}
    return ("## Whole networks: predicted from their layers vs measured (MAPE %)\n\n"
            + to_markdown(frame, fmt)
            + "\nPer network: `data/processed/alpha/<device>/model_validation.md`.\n")


#: Methods quoted for the torchvision networks (greenflops.networks.validation), in order.
TORCHVISION_METHODS = ("flops", "flops_lono", "combo", "combo_lono")


def torchvision_section(table: pd.DataFrame) -> str:
    """Per device: MAPE over the measured torchvision networks of plain FLOPs and of the
    recommended combination (figures/networks/pred_vs_measured.csv)."""
    rows = []
    for device_id, sub in table.groupby("device_id", sort=True):
        mape = sub.groupby("method")["ape_pct"].mean()
        rows.append({"device": device_id, "networks": int(sub["network"].nunique()),
                     "rows": int(len(sub[sub["method"] == sub["method"].iloc[0]])),
                     **{m: mape.get(m) for m in TORCHVISION_METHODS}})
    frame = pd.DataFrame(rows, columns=["device", "networks", "rows", *TORCHVISION_METHODS])
    fmt = {m: ".1f" for m in TORCHVISION_METHODS}
    return ("## Whole torchvision networks: predicted op by op vs measured (MAPE %)\n\n"
            + (to_markdown(frame, fmt) if len(frame) else "No device has measured networks.\n")
            + "\ncombo_lono is the recommended combination (the device's model, op costs and a "
            "whole-network correction fitted leave-one-network-out); per network and every "
            "method: `figures/networks/pred_vs_measured.md`.\n")
