"""The inference-energy trends carried through 2025 (stage trends2025): the analysis functions on
hand-computed and synthetic cases, the curated post-2021 tables, and, end to end (slow), the
default target, incremental reruns and "no post-2021 rows gives back exactly today's outputs"."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, run_snakemake
from workflow_build import full_build

from greenflops.io.tables import TableValidationError, read_table
from greenflops.trends import answer
from greenflops.trends.adaptation import (
    AdaptationSpec,
    Variant,
    new_gpu_rows,
    paper_adaptation_factors,
)
from greenflops.trends.efficiency import gpu_efficiency_table
from greenflops.trends.estimates import compute_estimates, resolve_cv_gflops
from greenflops.trends.extended import TRENDS, as_written, check_post_paper
from greenflops.trends.fits import fit_log_linear
from greenflops.trends.prediction import PredictionBand, binomial_cdf, prediction_band, verdicts
from greenflops.trends.registry2025 import FIGURES
from greenflops.trends.speedups import benchmark_speedups, mean_speedups

TABLES = ROOT / "data/raw/tables"
SCHEMAS = ROOT / "workflow/schemas"
T = 12.706204736174698  # t(0.975, 1 dof)


def _table(name: str) -> pd.DataFrame:
    return read_table(TABLES / f"{name}.csv", SCHEMAS / f"{name}.schema.yaml")


def _resource(name: str) -> dict:
    with open(ROOT / f"workflow/resources/{name}.yaml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# --------------------------------------------------------------------- prediction intervals


def test_prediction_band_hand_computed() -> None:
    # log10 y = 0, 1, 3 at x = 0, 1, 2: xbar 1, Sxx 2, slope 1.5, intercept -1/6,
    # residuals 1/6, -1/3, 1/6 -> SSR 1/6, s = sqrt(1/6) (1 dof)
    band = prediction_band([0, 1, 2], [1, 10, 1000])
    assert (band.n, band.x_mean, band.sxx) == (3, 1.0, 2.0)
    assert band.slope == pytest.approx(1.5)
    assert band.intercept == pytest.approx(-1 / 6)
    assert band.s == pytest.approx(math.sqrt(1 / 6))
    assert band.t == pytest.approx(T)
    assert band.half_width(1.0) == pytest.approx(T * math.sqrt(1 / 6) * math.sqrt(4 / 3))
    assert band.half_width(3.0) == pytest.approx(T * math.sqrt(1 / 6) * math.sqrt(1 + 1 / 3 + 2))
    low, high = band.bounds(1.0)
    assert math.log10(high) - math.log10(low) == pytest.approx(2 * band.half_width(1.0))
    assert PredictionBand.from_row(pd.Series(band.as_dict())) == band  # a table row round-trips


def test_verdicts_sides_and_z() -> None:
    band = prediction_band([0, 1, 2, 3], [1, 10, 100, 1000])  # a perfect line: zero width
    points = pd.DataFrame({"x": [4.0, 4.0, 4.0], "y": [1e4, 2e4, 5e3], "label": ["on", "up", "down"]})
    v = verdicts(band, points)
    assert list(v["side"]) == ["inside", "above", "below"]
    assert list(v["label"]) == ["on", "up", "down"]  # the points' columns are kept
    assert v["predicted"].tolist() == pytest.approx([1e4] * 3)
    wide = PredictionBand(n=10, slope=0.0, intercept=0.0, s=0.5, x_mean=0.0, sxx=1e12, t=2.0)
    z = verdicts(wide, pd.DataFrame({"x": [0.0, 0.0], "y": [10.0, 0.1]}))["z"]
    assert z.tolist() == pytest.approx([1 / math.sqrt(1.1), -1 / math.sqrt(1.1)], rel=1e-6)


@pytest.mark.parametrize(("x", "y"), [([0, 1], [1, 2]), ([1, 1, 1], [1, 2, 3]), ([0, 1, 2], [1, 0, 2])])
def test_prediction_band_rejects(x: list[float], y: list[float]) -> None:
    with pytest.raises(ValueError):
        prediction_band(x, y)


def test_synthetic_known_slope_and_coverage() -> None:
    """A line with a known slope: the fit finds it, and the 95% prediction interval covers about
    95% of fresh points, also when extrapolating past the fitted years."""
    rng = np.random.default_rng(2021)
    slope, intercept, sd = 0.15, -300.0, 0.3  # doubling log10(2) / 0.15 = 2.007 years
    x = np.sort(rng.uniform(2010, 2021, 200))
    y = 10 ** (intercept + slope * x + rng.normal(0, sd, x.size))
    fit, band = fit_log_linear(x, y), prediction_band(x, y)
    assert band.slope == pytest.approx(fit.slope_log10_per_year, rel=1e-9)
    assert band.intercept == pytest.approx(fit.intercept, rel=1e-9)
    assert fit.slope_ci_low < slope < fit.slope_ci_high
    assert fit.doubling_time_years == pytest.approx(math.log10(2) / slope, rel=0.1)
    x_new = rng.uniform(2021, 2025, 20_000)
    y_new = 10 ** (intercept + slope * x_new + rng.normal(0, sd, x_new.size))
    inside = (verdicts(band, pd.DataFrame({"x": x_new, "y": y_new}))["side"] == "inside").mean()
    assert 0.93 < inside < 0.97


def test_binomial_cdf_hand_computed() -> None:
    assert binomial_cdf(1, 2, 0.95) == pytest.approx(1 - 0.95**2)
    assert binomial_cdf(0, 1, 0.5) == pytest.approx(0.5)
    assert binomial_cdf(2, 2, 0.95) == 1.0
    assert binomial_cdf(1, 3, 0.5) == pytest.approx(0.5)  # (1 + 3) / 8


def test_doubling_ci() -> None:
    l2 = math.log10(2)
    assert answer.doubling_ci(l2 / 2, l2) == pytest.approx((1.0, 2.0))
    assert answer.doubling_ci(-0.01, l2) == (pytest.approx(1.0), math.inf)  # CI reaches zero


# --------------------------------------------------------------------- adapting new GPUs


def _spec(**overrides) -> AdaptationSpec:
    variants = {
        "fp32_only": Variant("fp32_only", "none"),
        "tensor_peak": Variant("tensor_peak", "tensor"),
        "fp32_x": Variant("fp32_x", "fp32", "speedup_vs_own_fp32"),
        "tensor_x": Variant("tensor_x", "tensor", "realization"),
        "tensor_x_a100": Variant("tensor_x_a100", "tensor", "realization", "A100"),
    }
    base = dict(variants=variants, headline="tensor_x", tensor_precisions=("FP16 Tensor", "BF16 Tensor"),
                accumulate="fp32", adapted_types=("server",), paper_tensor_precision="FP16/FP32 Tensor",
                floor_at_own_fp32=True)
    return AdaptationSpec(**(base | overrides))


def _toy_paper() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 9 / Table 8 stand-ins: every measured GPU's Mixed row is 2 x its own FP32 peak and
    0.2 x its tensor peak, except A100 (3 x, 0.3 x); "T4" is printed "Tesla T4" in Table 9."""
    eff, gpus = [], []
    for shown, name, fp32, k in (("Tesla V100", "Tesla V100", 10.0, 2.0), ("Tesla T4", "T4", 5.0, 2.0),
                                 ("A100", "A100", 20.0, 3.0)):
        for domain in ("cv", "nlp"):
            eff.append({"domain": domain, "gpu": shown, "precision": "Mixed", "tflops": k * fp32,
                        "adapted": True})
            eff.append({"domain": domain, "gpu": shown, "precision": "TF32", "tflops": 99.0, "adapted": True})
        gpus += [{"gpu": name, "precision": "FP32", "tflops": fp32},
                 {"gpu": name, "precision": "FP16/FP32 Tensor", "tflops": 10 * fp32}]
    return pd.DataFrame(eff), pd.DataFrame(gpus)


def _toy_new() -> pd.DataFrame:
    rows = [
        ("Server", "FP32", "na", 50.0, "server", None),  # dense FP16 1000, 500 W
        ("Server", "FP16 Tensor", "fp32", 1000.0, "server", None),
        ("Server", "BF16 Tensor", "fp32", 900.0, "server", None),  # FP16 preferred
        ("Server", "INT8 Tensor", "na", 4000.0, "server", None),  # never a basis
        ("Ada", "FP32", "na", 90.0, "server", None),  # tensor only 2x FP32: the floor binds
        ("Ada", "BF16 Tensor", "fp32", 180.0, "server", None),
        ("NoFP32", "FP16 Tensor", "fp32", 100.0, "server", None),  # no FP32 row: no floor
        ("Desk", "FP32", "na", 80.0, "desktop", None),  # FP32 only, in every variant
        ("Desk", "FP16 Tensor", "fp32", 160.0, "desktop", None),
        ("Desk", "FP16 Tensor", "fp16", 320.0, "desktop", None),
        ("Export", "FP32", "na", 40.0, "server", "export_variant"),
        ("Export", "FP16 Tensor", "fp32", 150.0, "server", "export_variant"),
    ]
    return pd.DataFrame([{"gpu": g, "precision": p, "accumulate": a, "tflops": t, "watts_tdp": 500,
                          "launch_date": "2023-01-01", "type": ty, "exclude_reason": e}
                         for g, p, a, t, ty, e in rows])


def _factors() -> pd.DataFrame:
    eff, gpus = _toy_paper()
    return paper_adaptation_factors(eff, gpus, {"T4": "Tesla T4"}, "FP16/FP32 Tensor")


def test_adaptation_factors_hand_computed() -> None:
    f = _factors().set_index(["domain", "gpu"])
    assert f.loc[("cv", "Tesla T4"), "speedup_vs_own_fp32"] == pytest.approx(2.0)
    assert f.loc[("cv", "A100"), "realization"] == pytest.approx(0.3)
    assert f.loc[("nlp", "mean"), "speedup_vs_own_fp32"] == pytest.approx(7 / 3)
    assert f.loc[("nlp", "mean"), "realization"] == pytest.approx(0.7 / 3)


@pytest.mark.parametrize(("variant", "mixed"), [
    ("fp32_only", {}),
    ("tensor_peak", {"Server": 1000.0, "Ada": 180.0, "NoFP32": 100.0}),
    ("fp32_x", {"Server": 50 * 7 / 3, "Ada": 90 * 7 / 3}),
    ("tensor_x", {"Server": 1000 * 0.7 / 3, "Ada": 90.0, "NoFP32": 100 * 0.7 / 3}),  # Ada floored
    ("tensor_x_a100", {"Server": 300.0, "Ada": 90.0, "NoFP32": 30.0}),
])
def test_new_gpu_rows_hand_computed(variant: str, mixed: dict[str, float]) -> None:
    spec = _spec()
    rows = new_gpu_rows(_toy_new(), _factors(), spec.variants[variant], spec, domains=("cv",))
    assert sorted(rows.loc[~rows["adapted"], "gpu"]) == ["Ada", "Desk", "Server"]  # no Export
    adapted = rows[rows["adapted"]].set_index("gpu")
    assert adapted["tflops"].to_dict() == pytest.approx(mixed)
    assert (adapted["precision"] == "Mixed").all()
    if "Server" in mixed:
        server = adapted.loc["Server"]
        assert server["gflops_per_watt"] == pytest.approx(mixed["Server"] * 1000 / 500)
        assert server["speedup"] == pytest.approx(mixed["Server"] / 50)
    if "NoFP32" in mixed:
        assert math.isnan(adapted.loc["NoFP32", "speedup"])


def test_new_gpu_rows_options() -> None:
    spec, factors = _spec(), _factors()
    rows = new_gpu_rows(_toy_new(), factors, spec.variants["tensor_peak"], spec, include_excluded=True)
    assert "Export" in set(rows["gpu"]) and set(rows["domain"]) == {"cv", "nlp"}
    no_floor = _spec(floor_at_own_fp32=False)
    rows = new_gpu_rows(_toy_new(), factors, no_floor.variants["tensor_x"], no_floor, domains=("cv",))
    assert rows[rows["adapted"]].set_index("gpu").loc["Ada", "tflops"] == pytest.approx(180 * 0.7 / 3)
    empty = new_gpu_rows(_toy_new().iloc[0:0], factors, spec.variants["tensor_x"], spec)
    assert empty.empty and "gflops_per_watt" in empty.columns
    with pytest.raises(ValueError, match="basis"):
        Variant("bad", "sparse")


def test_check_post_paper() -> None:
    rows = pd.DataFrame({"gpu": ["old", "new"], "launch_date": ["2021-04-12", "2022-01-01"],
                         "exclude_reason": ["paper_window", None]})
    check_post_paper(rows, "launch_date", "2021-04-12", "t.csv")
    unmarked = rows.assign(exclude_reason=[None, None])
    with pytest.raises(ValueError, match="'old' is dated 2021-04-12, on or before"):
        check_post_paper(unmarked, "launch_date", "2021-04-12", "t.csv")
    with pytest.raises(ValueError, match="must not be paper_window"):
        check_post_paper(rows.assign(exclude_reason="paper_window"), "launch_date", "2021-04-12", "t.csv")


# --------------------------------------------------------------------- the curated tables


def test_curated_tables() -> None:
    gpus, models = _table("gpus_2021_2025"), _table("cv_models_2021_2025")
    assert gpus["source"].str.len().min() > 0 and set(gpus["source_grade"]) <= {
        "primary", "primary_reproduction", "secondary", "derived"}
    counted = models["reported_ops_g"].notna()  # GFLOPs = 2 x multiply-adds, the paper's convention
    assert np.allclose(models.loc[counted, "gflops"], 2 * models.loc[counted, "reported_ops_g"], atol=0.011)
    assert models.loc[models["top1_protocol"] == "linear_probe", "exclude_reason"].notna().all()
    check_post_paper(gpus, "launch_date", max(_table("gpus")["launch_date"]), "gpus")
    check_post_paper(models, "release_date", max(_table("cv_models")["release_date"]), "cv")
    listed = _resource("tables")
    assert {"gpus_2021_2025", "cv_models_2021_2025"} == set(listed["extension_tables"])
    assert not set(listed["extension_tables"]) & set(listed["tables"])  # not in the inventory


def test_schemas_reject_sparse_or_missing(tmp_path: Path) -> None:
    frame = pd.read_csv(TABLES / "gpus_2021_2025.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "tflops"] = "40000"  # a sparse or per-system figure
    frame.iloc[[0]].to_csv(tmp_path / "g.csv", index=False)
    with pytest.raises(TableValidationError, match="tflops"):
        read_table(tmp_path / "g.csv", SCHEMAS / "gpus_2021_2025.schema.yaml")
    frame = pd.read_csv(TABLES / "cv_models_2021_2025.csv", dtype=str, keep_default_na=False)
    used = frame[frame["exclude_reason"] == ""].iloc[[0]].assign(gflops="")  # used, no GFLOPs
    used.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(TableValidationError, match="gflops"):
        read_table(tmp_path / "c.csv", SCHEMAS / "cv_models_2021_2025.schema.yaml")


def test_specification_registry_and_captions() -> None:
    spec = _resource("trends2025")
    adaptation = AdaptationSpec.from_mapping(spec["adaptation"])
    assert {r["variant"] for r in spec["sensitivity"]} <= set(adaptation.variants)
    assert {"tables": {"gpus": "gpus_2021_2025", "cv_models": "cv_models_2021_2025"}}.items() <= spec.items()
    ids = [f.id for f in FIGURES]
    assert len(ids) == len(set(ids)) and {t.id for t in TRENDS} <= set(ids)
    for name in [*ids, "fits", "page_answer", "page_verdicts", "page_sensitivity"]:
        assert (ROOT / f"workflow/report/trends2025/{name}.rst").stat().st_size > 0, name
    for fig in ("fig05", "fig12", "fig15"):  # the NLP figures say why they are not extended
        assert "GLUE test-set" in (ROOT / f"workflow/report/trends/{fig}.rst").read_text()


# --------------------------------------------------------------------- the analysis, in-process


@pytest.fixture(scope="module")
def analysis_inputs() -> dict:
    """The paper's Table 9 and CV models as the paper's jobs compute them, and the new tables."""
    trends = _resource("trends")
    t9 = trends["table9"]
    gpus = _table("gpus")
    speedups = as_written(mean_speedups(benchmark_speedups(_table("precision_throughput"),
                                                           trends["fp32_reference"])))
    table9 = gpu_efficiency_table(gpus, speedups, base_precisions=t9["base_precisions"],
                                  exclude_rows=t9["exclude"], gpu_names=trends["gpu_names"],
                                  fp32_reference=trends["fp32_reference"],
                                  display_names=t9["display_names"])
    cv = _table("cv_models")
    models = as_written(resolve_cv_gflops(cv, compute_estimates(_table("flops_estimates"), cv)))
    return {"table9": table9, "gpus": gpus, "models": models, "new_gpus": _table("gpus_2021_2025"),
            "new_models": _table("cv_models_2021_2025"),
            "spec": AdaptationSpec.from_mapping(_resource("trends2025")["adaptation"]),
            "display_names": t9["display_names"]}


@pytest.fixture(scope="module")
def analysis(analysis_inputs: dict) -> answer.Analysis:
    return answer.Analysis.of(**analysis_inputs)


def test_no_post_2021_rows_gives_the_paper_period_exactly(analysis: answer.Analysis) -> None:
    g, m = analysis.new_gpus, analysis.new_models
    for keep in (None, "paper_window"):  # empty tables, or only the rows the paper could have had
        run = dataclasses.replace(
            analysis, new_gpus=g[g["exclude_reason"] == keep] if keep else g.iloc[0:0],
            new_models=m[m["exclude_reason"] == keep] if keep else m.iloc[0:0]).run()
        fits = run.comparison.fits
        paper = fits[fits["period"] == "paper"].drop(columns="period").reset_index(drop=True)
        later = fits[fits["period"] == "through_2025"].drop(columns="period").reset_index(drop=True)
        pd.testing.assert_frame_equal(paper, later, check_exact=True)
        assert run.comparison.verdicts.empty
        assert (answer.answer_table(run.comparison)["n_new"] == 0).all()


def test_headline_answer(analysis: answer.Analysis) -> None:
    table = answer.answer_table(analysis.run().comparison)
    assert list(table["trend"]) == [t.id for t in TRENDS]
    assert (table["n_inside"] + table["n_above"] + table["n_below"] == table["n_new"]).all()
    used_models = int((analysis.new_models["exclude_reason"].isna()).sum())
    by = table.set_index("trend")
    cv_all = by.loc["cv_gflops_all"]
    assert cv_all["n_2025"] == cv_all["n_paper"] + used_models == cv_all["n_paper"] + cv_all["n_new"]
    assert by.loc["cv_gflops_best", "n_new"] == 2  # 2022 and 2023
    # the paper period does not depend on the variant; the hardware answer does
    other = answer.answer_table(analysis.run("fp32_only").comparison).set_index("trend")
    pd.testing.assert_series_equal(by["doubling_paper"], other["doubling_paper"])
    assert other.loc["gpu_gflops_per_watt_cv", "doubling_2025"] != pytest.approx(
        by.loc["gpu_gflops_per_watt_cv", "doubling_2025"])
    paragraph = answer.verdict_paragraph(table, 0.95, analysis.spec.headline, {"gpus": "2025-08-22"})
    assert paragraph.count("\n- **") == len(TRENDS)


# --------------------------------------------------------------------- end to end (slow)

# The extension's jobs, and the run's summary, which states its answer.
EXTENSION_JOBS = {"trends2025_analysis", "trends2025_figures", "summary"}


def _jobs(dry_run_stdout: str) -> set[str]:
    block = dry_run_stdout.split("Job stats:", 1)[1] if "Job stats:" in dry_run_stdout else ""
    return {m.group(1) for m in re.finditer(r"^(\w+)\s+\d+\s*$", block, re.MULTILINE)} - {"total", "all"}


def _digests(root: Path) -> dict[str, str]:
    """Every output that regenerates a paper (not the extension's, not its report pages, not the
    run's summary, which has a section on the extension)."""
    paths = [p for p in sorted((root / "figures").rglob("*")) + sorted((root / "data/processed").rglob("*"))
             if p.is_file() and "trends2025" not in str(p.relative_to(root))
             and p != root / "figures/tables/summary.md"]
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _csv_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy (outputs and Snakemake's records included) of the session's project built with the
    default target (tests/workflow_build.py): these tests change its tables."""
    project = tmp_path_factory.mktemp("trends2025") / "project"
    shutil.copytree(full_build(tmp_path_factory.getbasetemp()), project, symlinks=True)
    return project


@pytest.mark.slow
def test_default_target_builds_the_extension(built: Path) -> None:
    processed = built / "data/processed/trends2025"
    answer_csv = pd.read_csv(processed / "answer.csv")
    assert list(answer_csv["trend"]) == [t.id for t in TRENDS] and (answer_csv["n_new"] > 0).all()
    for fig in FIGURES:
        for ext in ("png", "pdf"):
            assert (built / f"figures/trends2025/{fig.stem}.{ext}").stat().st_size > 0
    for page in ("answer", "verdicts", "sensitivity"):
        assert "<h1>" in (built / f"figures/report/trends2025/{page}.html").read_text()
    # the paper period of the extension is the paper's: the same rows of trend_fits.csv, as text
    fits = pd.read_csv(processed / "fits.csv", dtype=str, keep_default_na=False)
    paper = fits[fits["period"] == "paper"].drop(columns="period")
    ours = paper.to_csv(index=False, lineterminator="\n").splitlines()
    theirs = _csv_lines(built / "data/processed/trend_fits.csv")
    assert ours[0] == theirs[0] and set(ours[1:]) == {
        line for line in theirs[1:] if re.match(r"fig0(3|8|9),|fig13,", line)}
    assert _jobs(run_snakemake(built, "-n", check=True).stdout) == set()  # nothing left to do

    # one new GPU row, then one new CV row: only the extension reruns
    gpus = built / "data/raw/tables/gpus_2021_2025.csv"
    saved = gpus.read_text()
    gpus.write_text(saved + "Test GPU,FP32,na,100,500,2025-06-01,announcement,server,listed dense,"
                            "test source,secondary,,,\n")
    assert _jobs(run_snakemake(built, "-n", check=True).stdout) == EXTENSION_JOBS
    gpus.write_text(saved)
    cv = built / "data/raw/tables/cv_models_2021_2025.csv"
    saved = cv.read_text()
    cv.write_text(saved + "TestNet 224,85.0,50,20.0,10.0,MACs,224,none,2024-01-15,day,cnn,reported,"
                          "fine_tune,false,2401.00001,test paper,test,test,test,primary,test,,,\n")
    assert _jobs(run_snakemake(built, "-n", check=True).stdout) == EXTENSION_JOBS
    cv.write_text(saved)


@pytest.mark.slow
def test_without_post_2021_rows_gives_todays_outputs(built: Path) -> None:
    before = _digests(built)
    for name in ("gpus_2021_2025", "cv_models_2021_2025"):  # every post-2021 row removed
        path = built / f"data/raw/tables/{name}.csv"
        path.write_text(path.read_text().splitlines()[0] + "\n")
    trends = ["precision_speedups", "gpu_efficiency", "flops_estimates", "energy", "trend_fits",
              "trends_figures_cv", "trends_figures_nlp", "trends_figures_hardware", "trends_tables_cv",
              "trends_tables_hardware", "fidelity_trends", "table_inventory", "human_energy",
              "params_flops_correlation", "report_table"]
    run_snakemake(built, "--cores", "2", "--forcerun", *trends, check=True, timeout=1800)
    assert _digests(built) == before  # the paper's outputs, regenerated without the new tables
    processed = built / "data/processed/trends2025"
    fits = pd.read_csv(processed / "fits.csv", dtype=str, keep_default_na=False)
    paper = fits[fits["period"] == "paper"].drop(columns="period").reset_index(drop=True)
    later = fits[fits["period"] == "through_2025"].drop(columns="period").reset_index(drop=True)
    pd.testing.assert_frame_equal(paper, later)
    for name in ("gpu_efficiency.csv", "energy_cv.csv"):  # = the paper's tables, as text
        frame = pd.read_csv(processed / name, dtype=str, keep_default_na=False)
        assert (frame["period"] == "paper").all()
        text = frame.drop(columns="period").to_csv(index=False, lineterminator="\n")
        assert text.splitlines() == _csv_lines(built / "data/processed" / name)
    assert pd.read_csv(processed / "verdicts.csv").empty
    assert (pd.read_csv(processed / "answer.csv")["n_new"] == 0).all()
