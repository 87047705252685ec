# Stage "trends", hardware part (Desislavov et al. 2021): mixed-precision speed-ups (Tables 3-4),
# GPU efficiency adapted to CV and NLP (Table 9), the GFLOPS/W trends (Fig. 8) and Figs. 7-8.
# Inputs: precision_throughput.csv and gpus.csv only -- no rule here reads the model tables, so a
# change to cv_models.csv or nlp_models.csv never reruns these jobs. Specification (which rows,
# with the paper's reasons): workflow/resources/trends.yaml.
rule precision_speedups:
    input:
        table=table_path("precision_throughput"),
        schema=schema_path("precision_throughput"),
        library=code("precision_speedups"),
    output:
        means="data/processed/precision_speedups.csv",
        per_benchmark="data/processed/trends/benchmark_speedups.csv",
    log:
        "logs/trends/precision_speedups.log",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        fp32_reference=TRENDS_SPEC["fp32_reference"],
    message:
        "Table 3 speed-ups per benchmark and Table 4 means"
    script:
        "../../scripts/precision_speedups.py"


rule gpu_efficiency:
    input:
        gpus=table_path("gpus"),
        schema=schema_path("gpus"),
        speedups=rules.precision_speedups.output.means,
        library=code("gpu_efficiency"),
    output:
        efficiency="data/processed/gpu_efficiency.csv",
        fits="data/processed/trends/fits_hardware.csv",
    log:
        "logs/trends/gpu_efficiency.log",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        fp32_reference=TRENDS_SPEC["fp32_reference"],
        gpu_names=TRENDS_SPEC["gpu_names"],
        table9=TRENDS_SPEC["table9"],
    message:
        "Table 9: GPU efficiency adapted to CV and NLP, and the Fig. 8 GFLOPS/W fits"
    script:
        "../../scripts/gpu_efficiency.py"


rule trends_figures_hardware:
    input:
        gpus=table_path("gpus"),
        gpus_schema=schema_path("gpus"),
        efficiency=rules.gpu_efficiency.output.efficiency,
        fits=rules.gpu_efficiency.output.fits,
        library=code("trends_figures"),
    output:
        **trend_figure_outputs("hardware"),
    log:
        "logs/trends/trends_figures_hardware.log",
    conda:
        "../../environment.yml"
    params:
        group="hardware",
    message:
        "Figs. 7-8: theoretical and adapted GFLOPS/W of Nvidia GPUs"
    script:
        "../../scripts/trends_figures.py"


rule trends_tables_hardware:
    input:
        speedups=rules.precision_speedups.output.means,
        efficiency=rules.gpu_efficiency.output.efficiency,
        library=code("trends_tables"),
    output:
        table04_md="figures/tables/table04_precision_speedups.md",
        table04_tex="figures/tables/table04_precision_speedups.tex",
        table09_md="figures/tables/table09_gpu_efficiency.md",
        table09_tex="figures/tables/table09_gpu_efficiency.tex",
    log:
        "logs/trends/trends_tables_hardware.log",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        tables=["table04", "table09"],
        spec={
            "fp32_reference": TRENDS_SPEC["fp32_reference"],
            "table9": TRENDS_SPEC["table9"],
        },
    message:
        "Tables 4 and 9 as Markdown and LaTeX"
    script:
        "../../scripts/trends_tables.py"


TARGETS["hardware"] = [
    *rules.precision_speedups.output,
    *rules.gpu_efficiency.output,
    *rules.trends_figures_hardware.output,
    *rules.trends_tables_hardware.output,
]
