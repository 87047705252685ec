# Stage "trends2025", beyond the papers: the inference-energy trends of Desislavov et al. (2021)
# carried through 2025 with the curated post-2021 rows (extension_tables of
# workflow/resources/tables.yaml), beside the paper's own. Two jobs: the analysis (fits of both
# periods, prediction intervals, verdicts, answer and sensitivity tables, the report's paragraph
# and its report pages) and the figures (greenflops.trends.registry2025). Only they read the
# post-2021 tables, so adding a row reruns them and nothing that regenerates the paper.
# Specification (the adaptation of new GPUs, its alternatives, the sensitivity runs):
# workflow/resources/trends2025.yaml, checked against the tables when the workflow loads
# (glue/inputs.py); docs: docs/trends2025.md.
TRENDS2025 = INPUTS.resources["trends2025"]
NEW_GPUS = TRENDS2025["tables"]["gpus"]
NEW_MODELS = TRENDS2025["tables"]["cv_models"]


rule trends2025_analysis:
    input:
        gpus=table_path("gpus"),
        gpus_schema=schema_path("gpus"),
        speedups=rules.precision_speedups.output.means,
        models=rules.flops_estimates.output.cv,
        new_gpus=table_path(NEW_GPUS),
        new_gpus_schema=schema_path(NEW_GPUS),
        new_models=table_path(NEW_MODELS),
        new_models_schema=schema_path(NEW_MODELS),
        library=code("trends2025_analysis"),
    output:
        **trends2025_page_outputs(),
        factors="data/processed/trends2025/adaptation_factors.csv",
        efficiency="data/processed/trends2025/gpu_efficiency.csv",
        energy="data/processed/trends2025/energy_cv.csv",
        fits=report(
            "data/processed/trends2025/fits.csv",
            caption="../report/trends2025/fits.rst",
            category=TRENDS2025_CATEGORY,
            subcategory="Answer",
            labels={
                "table": "Trend fits through 2025 (CSV)",
                "data": "Figs. 3, 8, 9, 13",
            },
        ),
        points="data/processed/trends2025/points.csv",
        bands="data/processed/trends2025/prediction_bands.csv",
        verdicts="data/processed/trends2025/verdicts.csv",
        answer="data/processed/trends2025/answer.csv",
        sensitivity="data/processed/trends2025/sensitivity.csv",
        answer_md=TRENDS2025_PAGES["answer"]["source"],
        sensitivity_md=TRENDS2025_PAGES["sensitivity"]["source"],
        fits_md="figures/tables/trends2025_fits.md",
        paragraph=TRENDS2025_PAGES["verdicts"]["source"],
    log:
        "logs/trends2025/trends2025_analysis.log",
    benchmark:
        "logs/benchmarks/trends2025_analysis.tsv"
    conda:
        "../../environment.yml"
    params:
        spec=TRENDS2025,
        table9=TRENDS_SPEC["table9"],
        gpu_names=TRENDS_SPEC["gpu_names"],
        fp32_reference=TRENDS_SPEC["fp32_reference"],
        pages={
            n: {"source": p["source"], "title": p["title"]}
            for n, p in TRENDS2025_PAGES.items()
        },
    message:
        "Trends through 2025: both periods' fits, prediction intervals, the answer"
    script:
        "../../scripts/trends2025_analysis.py"


rule trends2025_figures:
    input:
        efficiency=rules.trends2025_analysis.output.efficiency,
        energy=rules.trends2025_analysis.output.energy,
        fits=rules.trends2025_analysis.output.fits,
        points=rules.trends2025_analysis.output.points,
        bands=rules.trends2025_analysis.output.bands,
        human=rules.human_energy.output[0],
        library=code("trends2025_figures"),
    output:
        **trends2025_figure_outputs(),
    log:
        "logs/trends2025/trends2025_figures.log",
    benchmark:
        "logs/benchmarks/trends2025_figures.tsv"
    conda:
        "../../environment.yml"
    message:
        "Trends through 2025: the extended Figs. 3, 8, 9, 13 and both fits of every trend"
    script:
        "../../scripts/trends2025_figures.py"


TARGETS["trends2025"] = [
    *rules.trends2025_analysis.output,
    *rules.trends2025_figures.output,
]
