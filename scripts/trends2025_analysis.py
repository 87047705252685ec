"""The inference-energy trends carried through 2025: every fit, prediction interval, verdict, the
answer and sensitivity tables, the report's paragraph and their report pages (rule
trends2025_analysis)."""

import pandas as pd

from greenflops.io.outputs import atomic_write_text, log_to_file, write_csv
from greenflops.io.render import markdown_page, to_markdown
from greenflops.io.tables import read_table
from greenflops.trends import answer
from greenflops.trends.adaptation import AdaptationSpec
from greenflops.trends.efficiency import gpu_efficiency_table
from greenflops.trends.extended import check_post_paper

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

#: Columns of the through-2025 CV energy table: the paper's energy_cv.csv, then the period.
ENERGY_COLUMNS = [
    "model", "extra_data", "architecture", "release_date", "year", "x", "top1_accuracy_pct",
    "params_m", "gflops", "gflops_paper", "gflops_method", "gflops_per_watt", "joules",
    "sota_per_year", "period",
]
FIT_FORMATS = {
    "slope_log10_per_year": ".4f", "intercept": ".2f", "r2": ".3f", "slope_ci_low": ".4f",
    "slope_ci_high": ".4f", "doubling_time_years": ".2f",
}

with log_to_file(snakemake.log[0]) as log:
    inp, out, params = snakemake.input, snakemake.output, snakemake.params
    spec = params.spec
    adaptation = AdaptationSpec.from_mapping(spec["adaptation"])
    gpus = read_table(inp.gpus, inp.gpus_schema)
    models = pd.read_csv(inp.models, keep_default_na=False, na_values=[""])
    new_gpus = read_table(inp.new_gpus, inp.new_gpus_schema)
    new_models = read_table(inp.new_models, inp.new_models_schema)
    check_post_paper(new_gpus, "launch_date", max(gpus["launch_date"]), inp.new_gpus)
    check_post_paper(new_models, "release_date", max(models["release_date"]), inp.new_models)
    table9 = gpu_efficiency_table(  # exactly as rule gpu_efficiency computes it
        gpus,
        pd.read_csv(inp.speedups),
        base_precisions=params.table9["base_precisions"],
        exclude_rows=params.table9["exclude"],
        gpu_names=params.gpu_names,
        fp32_reference=params.fp32_reference,
        display_names=params.table9["display_names"],
    )

    analysis = answer.Analysis.of(table9, gpus, models, new_gpus, new_models, adaptation,
                                  params.table9["display_names"], spec["confidence"])
    headline = analysis.run()
    runs = [headline if (r["variant"], r["include_excluded_gpus"]) == (adaptation.headline, False)
            else analysis.run(r["variant"], r["include_excluded_gpus"])
            for r in spec["sensitivity"]]
    comparison = headline.comparison

    write_csv(analysis.factors, out.factors)
    write_csv(headline.extended.efficiency, out.efficiency)
    energy = headline.extended.energy[ENERGY_COLUMNS]
    write_csv(energy.sort_values(["release_date", "model"], kind="mergesort"), out.energy)
    fits = comparison.fits.sort_values(["period", "figure", "domain", "quantity", "subset"],
                                       kind="mergesort")
    write_csv(fits, out.fits)
    write_csv(comparison.points, out.points)
    write_csv(comparison.bands, out.bands)
    write_csv(comparison.verdicts, out.verdicts)
    table = answer.answer_table(comparison)
    write_csv(table, out.answer)
    sensitivity = answer.sensitivity_table(runs)
    write_csv(sensitivity, out.sensitivity)

    atomic_write_text(out.answer_md, answer.answer_markdown(table, adaptation.headline, spec["confidence"]))
    descriptions = {n: v["description"] for n, v in spec["adaptation"]["variants"].items()}
    atomic_write_text(out.sensitivity_md,
                      answer.sensitivity_markdown(sensitivity, adaptation.headline, descriptions,
                                                 spec["confidence"]))
    shown = fits.drop(columns=["x_min", "x_max"])
    title = "Trend fits through 2025 beside the paper period (Desislavov et al. 2021, Figs. 3, 8, 9, 13)"
    notes = [
        "OLS of log10(y) on the decimal year, as data/processed/trend_fits.csv; period paper = the "
        "paper's rows (equal to trend_fits.csv), through_2025 = plus the used post-2021 rows. "
        f"New GPUs adapted by `{adaptation.headline}` (workflow/resources/trends2025.yaml)."
    ]
    atomic_write_text(out.fits_md, to_markdown(shown, FIT_FORMATS, title=title, notes=notes))
    dates = answer.last_dates({"gpus": (new_gpus, "launch_date"),
                               "cv_models": (new_models, "release_date")})
    atomic_write_text(out.paragraph, answer.verdict_paragraph(
        table, spec["confidence"], adaptation.headline, dates))
    for name, page in params.pages.items():  # the report pages (glue.report_pages)
        with open(page["source"], encoding="utf-8") as handle:
            text = handle.read()
        atomic_write_text(out[f"{name}_html"], markdown_page(text, page["title"], page["source"]))
    for _, r in table.iterrows():
        log.info("%s: doubling %.2f -> %.2f y; %d/%d new points inside the PI", r["trend"],
                 r["doubling_paper"], r["doubling_2025"], r["n_inside"], r["n_new"])
