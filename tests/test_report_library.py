"""The report: its grouping convention and table pages (workflow/rules/glue/report_pages.py),
and the pages and tables as text (greenflops.io.render, greenflops.alpha.document), on hand-made
inputs."""

from __future__ import annotations

import pytest

from glue.report_pages import (
    ALPHA_CATEGORY,
    TRENDS_CATEGORY,
    alpha_figure_labels,
    alpha_figure_subcategory,
    paper_item,
    report_tables,
)
from greenflops.alpha.document import fit_markdown
from greenflops.io.render import markdown_page


@pytest.mark.parametrize("name,label", [
    ("Fig. 1b", "Fig. 01b"), ("fig02a_k_vs_channels", "Fig. 02a"), ("Fig. 15", "Fig. 15"),
    ("Table 9", "Table 09"), ("table01_alexnet_flops", "Table 01"),
    ("fig07_dense_batch", "Fig. 07"),
])
def test_paper_item_zero_pads_so_labels_sort(name, label):
    assert paper_item(name) == label


def test_zero_padding_sorts_like_numbers():
    labels = [paper_item(f"Fig. {n}") for n in (10, 2, 1, 15, 9)]
    assert sorted(labels) == ["Fig. 01", "Fig. 02", "Fig. 09", "Fig. 10", "Fig. 15"]


def test_non_paper_items():
    with pytest.raises(ValueError, match="no paper figure"):
        paper_item("pred_vs_measured")
    assert alpha_figure_subcategory("pred_vs_measured") == "Beyond the paper: pred vs measured"


def test_alpha_labels_put_the_device_first():
    figures = {"fig04_k_alpha": {"sweeps": ["k_vs_channels", "k_vs_spatial", "k_vs_channels"]}}
    labels = alpha_figure_labels("cpu-x-2threads", "fig04_k_alpha", figures)
    assert list(labels) == ["device", "figure", "data"]
    assert labels == {"device": "cpu-x-2threads", "figure": "Fig. 04",
                      "data": "k_vs_channels, k_vs_spatial"}
    assert alpha_figure_labels("d", "pred_vs_measured", figures)["data"] == "all sweeps"


def test_markdown_table_to_html_escapes_and_aligns():
    text = ("# Table <4>\n\n| GPU | key | x |\n|---|---|---:|\n| V100 & co | a\\|b | 2.27 |\n\n"
            "Note with `code` and **bold**.\n")
    page = markdown_page(text, "T", source="figures/tables/t.md")
    body = " ".join(page.split())
    assert "<h1>Table &lt;4&gt;</h1>" in body
    assert "<td>V100 &amp; co</td> <td>a|b</td> <td style=\"text-align: right;\">2.27</td>" in body
    assert '<th style="text-align: right;">x</th>' in body
    assert "<p>Note with <code>code</code> and <strong>bold</strong>.</p>" in body
    assert page.startswith("<!DOCTYPE html>") and "<title>T</title>" in page
    assert "http" not in page  # self-contained: no external resources


def test_alpha_fit_markdown_lists_parameters_and_errors():
    params = {
        "best_alpha_model": "alpha_fit", "best_baseline_model": "flops",
        "models": {
            "flops": {"description": "time ∝ FLOPs", "parameters": {
                "scale_ms_per_gflop": {"value": 30.6972, "stderr": 1.33819, "unit": "ms/GFLOP"}}},
            "alpha_fit": {"description": "α", "parameters": {
                "gamma_kn": {"value": 1.0, "stderr": 0.47, "at_bound": True}}},
            "roofline": {"skipped": "no peak_gflops in device.yaml"},
        },
    }
    report = [
        {"model": "flops", "scope": "in_sample", "mape_pct": 116.297, "median_ape_pct": 70.0,
         "n": 712},
        {"model": "flops", "scope": "loso", "mape_pct": 129.776, "median_ape_pct": 76.1, "n": 712},
        {"model": "alpha_fit", "scope": "loso", "mape_pct": 50.0, "median_ape_pct": 40.0,
         "n": 712},
    ]
    text = fit_markdown("dev-1", params, report)
    lines = {line.split("|")[1].strip(): " ".join(line.split()) for line in text.splitlines()
             if line.startswith("| ")}
    assert "scale_ms_per_gflop = 30.7 ± 1.3 ms/GFLOP" in lines["flops **(best)**"]
    # in-sample, LOSO, LOSO median, k-fold (none here), n, guards (none)
    assert "| 116 | 130 | 76.1 | – | 712 | – |" in lines["flops **(best)**"]
    assert "gamma_kn = 1 ± 0.47 †" in lines["alpha_fit **(best)**"]
    assert "skipped: no peak_gflops" in lines["roofline"]
    assert "<table>" in markdown_page(text, "fits")


def test_report_tables_follow_the_targets():
    targets = [
        "figures/tables/table01_alexnet_flops.md", "figures/tables/fidelity_trends.md",
        "data/processed/alpha/dev-a/fit_report.csv", "figures/alpha/dev-a/fig03a_table.md",
        "data/processed/alpha/dev-b/fit_report.csv",
        "data/processed/alpha/dev-b/model_validation.md",
    ]
    pages = report_tables(targets)
    assert sorted(pages) == [
        "alpha/dev-a/fig03a_table", "alpha/dev-a/fit_quality", "alpha/dev-b/fit_quality",
        "alpha/dev-b/model_validation", "trends/fidelity_trends", "trends/table01_alexnet_flops",
    ]
    assert pages["trends/table01_alexnet_flops"]["category"] == TRENDS_CATEGORY
    assert pages["trends/table01_alexnet_flops"]["subcategory"] == "Table 01"
    fit = pages["alpha/dev-b/fit_quality"]
    assert fit["category"] == ALPHA_CATEGORY and fit["labels"]["device"] == "dev-b"
    assert fit["inputs"] == {"params": "data/processed/alpha/dev-b/params.yaml",
                             "fit_report": "data/processed/alpha/dev-b/fit_report.csv"}
    assert "dev-b" in fit["caption"]
