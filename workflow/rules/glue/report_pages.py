"""What the HTML report (`snakemake --report report.html`) shows, and how it is grouped.

Grouping convention, used by every stage's ``report(...)`` flags:

* ``category``: the paper, :data:`TRENDS_CATEGORY` or :data:`ALPHA_CATEGORY`, or, for results
  that carry a paper's analysis past it, :data:`TRENDS2025_CATEGORY`, or
  :data:`NETWORKS_CATEGORY` for the whole networks, beyond both papers;
* ``subcategory``: the paper's figure or table, zero-padded so that the menu sorts
  (:func:`paper_item`: "Fig. 1b" -> "Fig. 01b", "Table 9" -> "Table 09"), or a name for results
  beyond the paper ("Trend fits", "Fidelity", ...);
* ``labels``: trends results ``{"figure" | "table": ..., "data": <input tables>}``; alpha results
  ``{"device": <device_id>, "figure" | "table": ..., "data": <sweeps>}``, the device first: the
  report never turns its first label into a toggle, so every device gets its own row.

Snakemake's report shows images, HTML and PDF inline but offers CSV and Markdown only as
downloads, so every table is also rendered as a standalone HTML page (:func:`report_tables` lists
them; rule ``report_table`` writes them with :func:`greenflops.io.render.markdown_page`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "ALPHA_CATEGORY",
    "TRENDS2025_CATEGORY",
    "TRENDS2025_PAGES",
    "NETWORKS_CATEGORY",
    "SUMMARY_CATEGORY",
    "TRENDS_CATEGORY",
    "alpha_figure_data",
    "alpha_figure_labels",
    "alpha_figure_subcategory",
    "paper_item",
    "report_tables",
]

TRENDS_CATEGORY = "Desislavov et al. 2021 — inference energy trends"
ALPHA_CATEGORY = "Asperti et al. 2021 — α-FLOPs"
TRENDS2025_CATEGORY = "Beyond the papers — trends through 2025"
#: The run's generated summary (figures/tables/summary.md), above every paper.
SUMMARY_CATEGORY = "Summary"
#: Results beyond both papers: whole torchvision networks (docs/networks.md).
NETWORKS_CATEGORY = "Beyond the papers — whole networks"

_ITEM = re.compile(r"^\s*(fig|table)[.\s_]*0*(\d+)([a-z]?)", re.IGNORECASE)


def paper_item(name: str) -> str:
    """Zero-padded figure/table label of a paper item, so that labels sort as numbers.

    >>> paper_item("Fig. 1b"), paper_item("fig02a_k_vs_channels"), paper_item("Table 9")
    ('Fig. 01b', 'Fig. 02a', 'Table 09')

    Raises ``ValueError`` for a name that is neither a figure nor a table.
    """
    match = _ITEM.match(name)
    if not match:
        raise ValueError(f"{name!r} names no paper figure or table (Fig. N / Table N)")
    kind = "Fig." if match.group(1).lower() == "fig" else "Table"
    return f"{kind} {int(match.group(2)):02d}{match.group(3).lower()}"


def alpha_figure_subcategory(fig: str) -> str:
    """Subcategory of an alpha figure file stem: its paper figure, or "Beyond the paper"."""
    try:
        return paper_item(fig)
    except ValueError:
        return "Beyond the paper: " + fig.replace("_", " ")


def alpha_figure_data(fig: str, figures: Mapping[str, Mapping[str, Any]]) -> str:
    """The sweeps an alpha figure is drawn from (``workflow/resources/alpha_figures.yaml``), or
    "all sweeps"."""
    spec = figures.get(fig)
    if not spec:
        return "all sweeps"
    return ", ".join(dict.fromkeys(spec["sweeps"]))


def alpha_figure_labels(device_id: str, fig: str,
                        figures: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Report labels of an alpha figure: device first (a row per device), figure, data."""
    return {"device": device_id, "figure": alpha_figure_subcategory(fig),
            "data": alpha_figure_data(fig, figures)}


# ---------------------------------------------------------------------------------------------
# Which tables the report shows
# ---------------------------------------------------------------------------------------------

_TRENDS_TABLES = {
    "table01_alexnet_flops": {
        "source": "figures/tables/table01_alexnet_flops.md",
        "subcategory": "Table 01",
        "labels": {"table": "Table 1", "data": "cv_models.csv (Table 2)"},
        "caption": "Regenerates Table 1 of Desislavov et al. (2021): models whose GFLOPs are "
                   "within a factor of AlexNet's, with their Top-1 accuracy and release date. "
                   "Data: the paper's Table 2 (data/raw/tables/cv_models.csv) with the computed "
                   "GFLOPs estimates; no device of ours is measured.",
    },
    "table04_precision_speedups": {
        "source": "figures/tables/table04_precision_speedups.md",
        "subcategory": "Table 04",
        "labels": {"table": "Table 4", "data": "precision_throughput.csv (Table 3)"},
        "caption": "Regenerates Table 4 of Desislavov et al. (2021): mean mixed-precision and TF32 "
                   "inference speed-ups per GPU over Table 3's NGC benchmarks. Data: "
                   "data/raw/tables/precision_throughput.csv (the paper's Table 3).",
    },
    "table09_gpu_efficiency": {
        "source": "figures/tables/table09_gpu_efficiency.md",
        "subcategory": "Table 09",
        "labels": {"table": "Table 9", "data": "gpus.csv (Table 8), Table 4"},
        "caption": "Regenerates Table 9 of Desislavov et al. (2021): GPU throughput and GFLOPS/W "
                   "adapted to CV and NLP inference (FP32 peaks times the Table 4 speed-ups). "
                   "Data: data/raw/tables/gpus.csv (Table 8) and the regenerated Table 4.",
    },
    "trend_fits": {
        "source": "figures/tables/trend_fits.md",
        "subcategory": "Trend fits",
        "labels": {"table": "Trend fits", "data": "Figs. 3, 6, 8-10, 13-14"},
        "caption": "Every fitted line of the regenerated figures of Desislavov et al. (2021): OLS "
                   "of log10(y) on the decimal year with n, slope, R², the slope's 95% CI and the "
                   "doubling time (negative = halving). Data: data/processed/trend_fits.csv.",
    },
    "fidelity_trends": {
        "source": "figures/tables/fidelity_trends.md",
        "subcategory": "Fidelity",
        "labels": {"table": "Fidelity", "data": "trends_paper_values.csv"},
        "caption": "Fidelity of the regenerated inference-energy paper: every number printed in "
                   "Desislavov et al. (2021) that the pipeline re-derives (Tables 3, 4, 8, 9, the "
                   "GFLOPs estimates, the Fig. 1 correlations, the human-energy references), "
                   "printed vs regenerated, and whether they agree within the printed rounding. "
                   "Data: data/raw/tables/trends_paper_values.csv.",
    },
}

# Pages of the trends carried through 2025 (stage trends2025). Rule trends2025_analysis writes
# them itself, beside their Markdown (greenflops.io.render.markdown_page, as report_table does):
# one report_table job per page would cost more than that whole stage. Each is a report(...)
# output with its caption in workflow/report/trends2025/page_<name>.rst.
_TRENDS2025_DATA = "gpus_2021_2025.csv, cv_models_2021_2025.csv"
TRENDS2025_PAGES: dict[str, dict[str, Any]] = {
    "answer": {
        "source": "figures/tables/trends2025_answer.md",
        "html": "figures/report/trends2025/answer.html",
        "subcategory": "Answer",
        "labels": {"table": "Answer: paper period vs through 2025", "data": _TRENDS2025_DATA},
        "title": "Did the trends hold? Paper period vs through 2025",
    },
    "verdicts": {
        "source": "figures/trends2025/verdicts.md",
        "html": "figures/report/trends2025/verdicts.html",
        "subcategory": "Answer",
        "labels": {"table": "Did the trends hold? (paragraph)", "data": _TRENDS2025_DATA},
        "title": "Did the trends hold after 2021?",
    },
    "sensitivity": {
        "source": "figures/tables/trends2025_sensitivity.md",
        "html": "figures/report/trends2025/sensitivity.html",
        "subcategory": "Sensitivity",
        "labels": {"table": "Sensitivity to the adaptation of new GPUs",
                   "data": _TRENDS2025_DATA},
        "title": "Sensitivity of the trends through 2025 to the adaptation of new GPUs",
    },
}

#: Tables of the alpha paper that are not per device (made only when their data is there).
_ALPHA_TABLES = {
    "fidelity_alpha_t2000": {
        "source": "figures/tables/fidelity_alpha_t2000.md",
        "subcategory": "Fidelity",
        "labels": {"table": "Fidelity", "data": "asperti2021-quadro-t2000 (imported)"},
        "caption": "Fidelity of the regenerated α-FLOPs paper: the paper's own regression (β_K, "
                   "γ_K for K = 1 and K > 1, S_K = ln K + 1, one scale) refitted on the paper's "
                   "own Quadro T2000 measurements under several objectives, beside the printed "
                   "β, γ, with the MAPE of each and whether the printed K > 1 values are "
                   "recovered. Data: data/imported/asperti2021-quadro-t2000/ (config imports).",
        "title": "Fidelity: the α-FLOPs regression on the paper's T2000 data",
    },
    "alpha_cross_device": {
        "source": "figures/tables/alpha_cross_device.md",
        "subcategory": "Beyond the paper: time models across devices",
        "labels": {"table": "time models across devices", "data": "all devices"},
        "caption": "Beyond the paper: every device's time models side by side, their out-of-sample "
                   "MAPE and median APE (leave-one-sweep-out from 3 sweeps, else seeded 5-fold): "
                   "each device's recommended model (docs/alpha.md) against flops_overhead, "
                   "alpha_paper, its best α model and the learned reference, then every model. "
                   "Data: data/processed/alpha/<device>/fit_report.csv and params.yaml.",
        "title": "α time models across devices",
    },
}
_NETWORK_TABLES = {
    "flops_comparison": {
        "source": "figures/networks/flops_comparison.md",
        "subcategory": "Beyond the paper: FLOPs vs Table 2",
        "labels": {"table": "network FLOPs", "data": "op tables, cv_models.csv (Table 2)"},
        "caption": "Beyond the papers: GFLOPs of each torchvision network as greenflops counts "
                   "them from its captured op table, beside torch.utils.flop_counter (complete, "
                   "and as it reports by default), Conv2d/Linear hooks and the GFLOPs the trends "
                   "paper's Table 2 prints for the same model at its input side, with the reason "
                   "for each difference. Data: data/raw/networks/ and "
                   "data/raw/tables/cv_models.csv.",
        "title": "Network FLOPs vs Table 2",
    },
    "pred_vs_measured": {
        "source": "figures/networks/pred_vs_measured.md",
        "subcategory": "Beyond the paper: predicted vs measured",
        "labels": {"table": "predicted vs measured", "data": "all devices"},
        "caption": "Beyond the papers: each torchvision network's time predicted from its ops "
                   "(plain FLOPs, the device's time models, the combination with op costs and "
                   "its leave-one-network-out correction) against its measured time, per device "
                   "and batch, with the MAPE of every method. Data: data/raw/networks/, "
                   "data/raw/timings/<device>/networks/ and the devices' fits.",
        "title": "Whole networks: predicted vs measured",
    },
    "energy": {
        "source": "figures/networks/energy.md",
        "subcategory": "Beyond the paper: energy side by side",
        "labels": {"table": "energy per forward pass", "data": "all devices, Table 9"},
        "caption": "Beyond the papers: energy per image of each network by the trends paper's "
                   "method (FLOPs ÷ GFLOPS/W of Table 9), by predicted time × power, and as NVML "
                   "measured it, where each exists; what is missing says why. Data: the "
                   "networks' predictions, data/processed/gpu_efficiency.csv, gpus.csv.",
        "title": "Energy per forward pass: the two papers side by side",
    },
}
_OP_COSTS_FILE = re.compile(r"^data/processed/networks/devices/(?P<dev>[^/]+)/op_costs\.md$")

_ALPHA_DEVICE_FILE = re.compile(
    r"^(?:data/processed|figures)/alpha/(?P<dev>[^/]+)/"
    r"(?P<file>fit_report\.csv|fig03a_table\.md|model_validation\.md)$"
)


def report_tables(targets: Iterable[str], folders: Mapping[str, str] | None = None
                  ) -> dict[str, dict[str, Any]]:
    """The HTML table pages of the report, keyed by page name (``figures/report/<name>.html``).

    Built from the workflow's default targets: a trends table is shown when its Markdown is a
    target; per alpha device, the fit (params.yaml + fit_report.csv), the Fig. 3a table and the
    whole-network check when the alpha stage makes them for that device. Each value has
    ``kind`` (markdown | alpha_fit), ``inputs``, ``category``, ``subcategory``, ``labels``,
    ``caption`` and ``title``. ``folders`` gives a device's timing folder where it is not
    ``data/raw/timings/<device_id>`` (an imported dataset); such a device's fit page also gets
    ``data_folder``.
    """
    folders = dict(folders or {})
    targets = [str(t) for t in targets]
    present = set(targets)
    pages: dict[str, dict[str, Any]] = {}
    for name, spec in _TRENDS_TABLES.items():
        if spec["source"] not in present:
            continue
        pages[f"trends/{name}"] = {
            "kind": "markdown",
            "inputs": {"source": spec["source"]},
            "category": TRENDS_CATEGORY,
            "subcategory": spec["subcategory"],
            "labels": dict(spec["labels"]),
            "caption": spec["caption"],
            "title": f"{spec['labels']['table']} — Desislavov et al. (2021)",
        }
    for folder, category, tables in (("alpha", ALPHA_CATEGORY, _ALPHA_TABLES),
                                     ("networks", NETWORKS_CATEGORY, _NETWORK_TABLES)):
        for name, spec in tables.items():
            if spec["source"] in present:
                pages[f"{folder}/{name}"] = {
                    "kind": "markdown", "inputs": {"source": spec["source"]},
                    "category": category, "subcategory": spec["subcategory"],
                    "labels": dict(spec["labels"]), "caption": spec["caption"],
                    "title": spec["title"],
                }
    for target in targets:
        match = _OP_COSTS_FILE.match(target)
        if match:
            dev = match.group("dev")
            pages[f"networks/{dev}/op_costs"] = {
                "kind": "markdown", "inputs": {"source": target},
                "category": NETWORKS_CATEGORY, "subcategory": "Beyond the paper: op costs",
                "labels": {"device": dev, "table": "op costs", "data": "op and grouped sweeps"},
                "caption": "Beyond the papers: the cost of every op kind that is not a dense "
                           f"matrix product on device {dev} (per-call floor + bandwidth, + "
                           "FLOPs for grouped convolutions), fitted on its op sweep and its "
                           "depthwise/grouped convolution sweeps, with k-fold errors, and the "
                           "α stage's GEMM models on the grouped rows for comparison. Data: "
                           f"data/raw/timings/{dev}/ops/ and its grouped sweeps.",
                "title": f"Op costs — {dev}",
            }
            continue
        match = _ALPHA_DEVICE_FILE.match(target)
        if not match:
            continue
        dev, file = match.group("dev"), match.group("file")
        data = f"{folders.get(dev, f'data/raw/timings/{dev}')}/"
        if file == "fit_report.csv":
            pages[f"alpha/{dev}/fit_quality"] = {
                "kind": "alpha_fit",
                "inputs": {"params": f"data/processed/alpha/{dev}/params.yaml",
                           "fit_report": target},
                "category": ALPHA_CATEGORY,
                "subcategory": "α parameters and fit quality",
                "labels": {"device": dev, "table": "α parameters and fit quality",
                           "data": "all sweeps"},
                "caption": f"Time models of Asperti et al. (2021) fitted on device {dev}: every "
                           "model's parameters (value ± standard error) and its mean absolute "
                           "percentage error in-sample, leave-one-sweep-out and 5-fold; α-FLOPs "
                           "(eq. 5-6, the paper's β, γ refitted) beside FLOPs-only and roofline "
                           "baselines, the GPU family and a learned reference (docs/alpha.md), "
                           "the recommended model marked and what the out-of-sample guards did. "
                           f"Data: {data} (the device's timing sweeps).",
                "title": f"α parameters and fit quality — {dev}",
            }
            if dev in folders:
                pages[f"alpha/{dev}/fit_quality"]["data_folder"] = data
        elif file == "fig03a_table.md":
            pages[f"alpha/{dev}/fig03a_table"] = {
                "kind": "markdown",
                "inputs": {"source": target},
                "category": ALPHA_CATEGORY,
                "subcategory": "Fig. 03a",
                "labels": {"device": dev, "figure": "Fig. 03a (table)",
                           "data": "dense_vs_conv"},
                "caption": "Fidelity of the regenerated α-FLOPs paper: the table of Fig. 3a of "
                           "Asperti et al. (2021), layers of 327.68 MFLOPs measured and "
                           f"α-FLOPs-predicted on device {dev}, beside the paper's measured and "
                           "predicted times on an NVIDIA Quadro T2000 and those recomputed from "
                           f"the paper's printed β, γ. Data: {data}dense_vs_conv.csv and "
                           "data/raw/tables/alpha_t2000_reference.csv.",
                "title": f"Fig. 3a table — {dev}",
            }
        else:
            pages[f"alpha/{dev}/model_validation"] = {
                "kind": "markdown",
                "inputs": {"source": target},
                "category": ALPHA_CATEGORY,
                "subcategory": "Beyond the paper: whole-network check",
                "labels": {"device": dev, "table": "whole-network check",
                           "data": "vgg_like, resnet_like"},
                "caption": "Beyond the paper: whole networks defined in code, timed on device "
                           f"{dev}, beside the sum of their layers' predicted times under each "
                           "fitted model (absolute percentage errors). Data: the fits of "
                           f"data/processed/alpha/{dev}/ and the device's whole-network timings "
                           f"in {data}.",
                "title": f"Whole-network check — {dev}",
            }
    return dict(sorted(pages.items()))
