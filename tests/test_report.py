"""The HTML report (`snakemake --report report.html`) after a full run: every figure of both
papers, grouped by paper and figure number, with captions, and the tables; and the report as a
reader sees it, opened in a real headless browser (Debian's chromium).

Without chromium the browser test is skipped, unless GREENFLOPS_REQUIRE_BROWSER=1 (CI), where a
missing browser fails it (.ci/install-chromium.sh installs one)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import run_snakemake
from glue.report_pages import (
    ALPHA_CATEGORY,
    NETWORKS_CATEGORY,
    SUMMARY_CATEGORY,
    TRENDS2025_CATEGORY,
    TRENDS_CATEGORY,
)

PAPERS = {TRENDS_CATEGORY, ALPHA_CATEGORY}
SUBCATEGORY = re.compile(
    r"^(Fig\. \d\d[a-z]?|Table \d\d|Trend fits|Fidelity|α parameters and fit quality"
    r"|Beyond the paper: .+)$"
)
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--hide-scrollbars", "--window-size=1400,1000",
]


def _results(report: Path) -> dict[str, dict]:
    text = report.read_text(encoding="utf-8")
    match = re.search(r"var results = (\{.*?\});\s*</script>", text, re.S)
    assert match, "no results in the report"
    return json.loads(match.group(1))


def _categories(report: Path) -> dict[str, dict[str, list[str]]]:
    text = report.read_text(encoding="utf-8")
    match = re.search(r"var categories = (\{.*?\});\s*</script>", text, re.S)
    assert match, "no categories in the report"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def report(built: Path) -> Path:
    (built / "report.html").unlink(missing_ok=True)
    run_snakemake(built, "--report", "report.html", timeout=600, check=True)
    return built / "report.html"


@pytest.mark.slow
def test_report_is_self_contained(report: Path):
    text = report.read_text(encoding="utf-8")
    # Every figure and table is embedded; nothing is loaded from elsewhere.
    assert not re.search(r"""(src|href)=["']https?://""", text)
    assert "data:image/png;" in text and "data:text/html;" in text


@pytest.mark.slow
def test_every_figure_is_in_the_report_grouped_by_paper_and_figure(built: Path, report: Path):
    results = _results(report)
    pngs = {str(p.relative_to(built)) for p in (built / "figures").rglob("*.png")}
    assert len(pngs) >= 15, pngs
    assert pngs <= set(results), f"figures missing from the report: {sorted(pngs - set(results))}"
    index = (built / "figures" / "index.md").read_text(encoding="utf-8")
    unlisted = sorted(p for p in pngs if f"`{p}`" not in index)
    assert not unlisted, f"figures missing from figures/index.md: {unlisted}"
    categories = _categories(report)
    # the two papers, and the whole networks beyond both (docs/networks.md)
    assert set(categories) == PAPERS | {TRENDS2025_CATEGORY, NETWORKS_CATEGORY, SUMMARY_CATEGORY}, (
        f"categories: {set(categories)}")
    for category in PAPERS | {NETWORKS_CATEGORY}:  # the trends through 2025 name their own
        for subcat in categories[category]:
            assert SUBCATEGORY.match(subcat), f"{category}: subcategory {subcat!r} off convention"
    assert "Answer" in categories[TRENDS2025_CATEGORY]
    trends = categories[TRENDS_CATEGORY]
    assert {f"Fig. {n:02d}" for n in range(1, 16)} <= set(trends)
    assert {"Table 01", "Table 04", "Table 09", "Trend fits", "Fidelity"} <= set(trends)
    alpha = categories[ALPHA_CATEGORY]
    assert "α parameters and fit quality" in alpha and "Fig. 03a" in alpha
    devices = sorted(p.name for p in (built / "figures" / "alpha").iterdir() if p.is_dir())
    assert devices, "no timing dataset was analysed"
    for path in pngs:
        entry = results[path]
        caption = html.unescape(re.sub(r"<[^>]+>", " ", entry["caption"]))
        assert re.search(r"Fig\. \d", caption) or "Beyond the paper" in caption, (path, caption)
        assert "Data" in caption or "data/" in caption, (path, caption)
        if path.startswith("figures/alpha/") and path.count("/") == 3:
            device = path.split("/")[2]
            assert entry["labels"]["device"] == device and device in caption, (path, caption)
        elif path.startswith("figures/alpha/"):  # every device at once (alpha_cross_device)
            assert entry["labels"]["data"] == "all devices", (path, entry["labels"])
        else:
            assert "Desislavov" in caption, (path, caption)
    # The tables: one page each, per device for the alpha fits.
    pages = {p for p, e in results.items() if e["mime_type"] == "text/html"}
    for name in ("table01_alexnet_flops", "table04_precision_speedups", "table09_gpu_efficiency",
                 "trend_fits", "fidelity_trends"):
        assert f"figures/report/trends/{name}.html" in pages
    for device in devices:
        assert f"figures/report/alpha/{device}/fit_quality.html" in pages


def _chromium() -> str | None:
    for name in (os.environ.get("GREENFLOPS_CHROMIUM", ""), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _browser(page: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    exe = _chromium()
    if exe is None:
        if os.environ.get("GREENFLOPS_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium not found but GREENFLOPS_REQUIRE_BROWSER=1 "
                        "(run .ci/install-chromium.sh)")
        pytest.skip("chromium not installed (Debian: apt-get install chromium)")
    cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={out / 'profile'}",
           "--virtual-time-budget=15000", *args, page.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


# Appended to a copy of the report: once the app has started, load every embedded image in the
# browser, show one figure the way the report shows it (its result view), and write a summary.
_PROBE = """
<script>
(function () {
  setTimeout(async function () {
    const out = {results: 0, images: 0, decoded: 0, pages: 0, failed: [], shown: null};
    const gallery = document.createElement("div");
    gallery.id = "gf-gallery";
    document.body.appendChild(gallery);
    const loading = [];
    for (const [path, entry] of Object.entries(results)) {
      out.results += 1;
      if (entry.mime_type.startsWith("image/")) {
        out.images += 1;
        const img = new Image();
        img.dataset.path = path;
        loading.push(new Promise(function (done) {
          img.onload = function () { done([path, img]); };
          img.onerror = function () { done([path, null]); };
        }));
        img.src = entry.data_uri;
        gallery.appendChild(img);
      } else if (entry.mime_type === "text/html") { out.pages += 1; }
    }
    for (const [path, img] of await Promise.all(loading)) {
      if (img && img.naturalWidth > 100 && img.naturalHeight > 100) { out.decoded += 1; }
      else { out.failed.push(path); }
    }
    const shown = "SHOWN";
    app.setView({content: "img", contentPath: results[shown].data_uri, resultPath: shown});
    out.shown = shown;
    const pre = document.createElement("pre");
    pre.id = "gf-probe";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }, 200);
})();
</script>
"""


def _picture(png: Path) -> np.ndarray:
    import matplotlib.image

    pixels = matplotlib.image.imread(png)
    assert pixels.ndim == 3 and pixels.shape[0] > 500 and pixels.shape[1] > 800, pixels.shape
    return pixels[..., :3]


@pytest.mark.slow
def test_report_renders_in_a_headless_browser(report: Path, tmp_path: Path):
    results = _results(report)
    figures = sorted(p for p, e in results.items() if e["mime_type"] == "image/png")
    # 1. The report as shipped: the app renders its menu with both papers, not a blank page.
    _browser(report, tmp_path, "--screenshot=" + str(tmp_path / "start.png"))
    dom = _browser(report, tmp_path, "--dump-dom").stdout
    app = dom[dom.index('id="app"'):]
    visible = re.sub(r"<script.*?</script>", "", app, flags=re.S)
    visible = html.unescape(re.sub(r"<[^>]+>", " ", visible))
    for paper in PAPERS:
        assert paper in visible, f"menu entry {paper!r} not rendered"
    start = _picture(tmp_path / "start.png")
    assert start.std() > 0.05, "the report's start page rendered blank"

    # 2. Every embedded figure decodes in the browser, and a figure shows in the result view.
    shown = next(p for p in figures if "fig08" in p)
    probe = tmp_path / "probe.html"
    head, body_end, tail = report.read_text(encoding="utf-8").rpartition("</body>")
    assert body_end, "report.html has no </body>"
    probe.write_text(head + _PROBE.replace("SHOWN", shown) + body_end + tail, encoding="utf-8")
    dom = _browser(probe, tmp_path, "--dump-dom").stdout
    match = re.search(r'<pre id="gf-probe">(.*?)</pre>', dom, re.S)
    assert match, "the probe did not finish (page did not load or script failed)"
    summary = json.loads(html.unescape(match.group(1)))
    assert summary["failed"] == [], summary["failed"]
    assert summary["images"] == len(figures) and summary["decoded"] == len(figures), summary
    assert summary["pages"] >= 5, summary
    imgs = re.findall(r'<img[^>]+src="data:image/png;', dom)
    assert len(imgs) >= len(figures) + 1, f"{len(imgs)} images in the DOM"
    _browser(probe, tmp_path, "--screenshot=" + str(tmp_path / "figure.png"))
    shot = _picture(tmp_path / "figure.png")
    content = shot[:, shot.shape[1] // 4:]  # right of the menu: the figure
    dark = (content.mean(axis=2) < 0.9).mean()
    assert content.std() > 0.05 and dark > 0.01, (content.std(), dark)
    shutil.copy(tmp_path / "figure.png", report.parent / "report_screenshot.png")
