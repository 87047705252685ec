# Stage "trends", hardware part (Desislavov et al. 2021): mixed-precision speed-ups (Tables 3-4),
# GPU efficiency adapted to CV and NLP (Table 9), the GFLOPS/W trends (Fig. 8) and Figs. 7-8.
# Inputs: precision_throughput.csv and gpus.csv only -- no rule here reads the model tables, so a
# change to cv_models.csv or nlp_models.csv never reruns these jobs.
# Report grouping (category = paper, subcategory = zero-padded figure): greenflops.report.
from greenflops.report import TRENDS_CATEGORY


rule precision_speedups:
    input:
        table=table_path("precision_throughput"),
        schema=schema_path("precision_throughput"),
        library=library("speedups", "tables", "outputs", "energy"),
    output:
        means="data/processed/precision_speedups.csv",
        per_benchmark="data/processed/trends/benchmark_speedups.csv",
    log:
        "logs/trends/precision_speedups.log",
    conda:
        "../../environment.yml"
    params:
        fp32_reference=config["trends"]["fp32_reference"],
    message:
        "Table 3 speed-ups per benchmark and Table 4 means"
    script:
        "../../scripts/trends_speedups.py"


rule gpu_efficiency:
    input:
        gpus=table_path("gpus"),
        schema=schema_path("gpus"),
        speedups=rules.precision_speedups.output.means,
        library=library(
            "speedups", "trend_analysis", "trends", "energy", "tables", "outputs"
        ),
    output:
        efficiency="data/processed/gpu_efficiency.csv",
        fits="data/processed/trends/fits_hardware.csv",
    log:
        "logs/trends/gpu_efficiency.log",
    conda:
        "../../environment.yml"
    params:
        fp32_reference=config["trends"]["fp32_reference"],
        gpu_names=config["trends"]["gpu_names"],
        table9=config["trends"]["table9"],
    message:
        "Table 9: GPU efficiency adapted to CV and NLP, and the Fig. 8 GFLOPS/W fits"
    script:
        "../../scripts/trends_gpu_efficiency.py"


rule figures_hardware:
    input:
        gpus=table_path("gpus"),
        schema=schema_path("gpus"),
        efficiency=rules.gpu_efficiency.output.efficiency,
        fits=rules.gpu_efficiency.output.fits,
        library=library(
            "trend_figures", "trend_analysis", "trends", "tables", "outputs"
        ),
    output:
        fig07_png=report(
            "figures/trends/fig07_gpu_theoretical_gflops_per_watt.png",
            caption="../report/trends/fig07.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 07",
            labels={"figure": "Fig. 07", "data": "gpus.csv (Table 8)"},
        ),
        fig07_pdf="figures/trends/fig07_gpu_theoretical_gflops_per_watt.pdf",
        fig08_png=report(
            "figures/trends/fig08_gpu_adapted_gflops_per_watt.png",
            caption="../report/trends/fig08.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 08",
            labels={
                "figure": "Fig. 08",
                "data": "gpus.csv (Table 8), precision_throughput.csv (Table 3)",
            },
        ),
        fig08_pdf="figures/trends/fig08_gpu_adapted_gflops_per_watt.pdf",
    log:
        "logs/trends/figures_hardware.log",
    conda:
        "../../environment.yml"
    params:
        figures=["fig07", "fig08"],
    message:
        "Figs. 7-8: theoretical and adapted GFLOPS/W of Nvidia GPUs"
    script:
        "../../scripts/trends_figures.py"


rule tables_hardware:
    input:
        speedups=rules.precision_speedups.output.means,
        efficiency=rules.gpu_efficiency.output.efficiency,
        library=library("tabletext", "trend_analysis", "trends", "outputs"),
    output:
        table04_md="figures/tables/table04_precision_speedups.md",
        table04_tex="figures/tables/table04_precision_speedups.tex",
        table09_md="figures/tables/table09_gpu_efficiency.md",
        table09_tex="figures/tables/table09_gpu_efficiency.tex",
    log:
        "logs/trends/tables_hardware.log",
    conda:
        "../../environment.yml"
    params:
        tables=["table04", "table09"],
        settings={
            "fp32_reference": config["trends"]["fp32_reference"],
            "table9": config["trends"]["table9"],
        },
    message:
        "Tables 4 and 9 as Markdown and LaTeX"
    script:
        "../../scripts/trends_tables.py"


TARGETS["hardware"] = [
    *rules.precision_speedups.output,
    *rules.gpu_efficiency.output,
    *rules.figures_hardware.output,
    *rules.tables_hardware.output,
]
