# Stage "trends", models part (Desislavov et al. 2021): the computed GFLOPs estimates, Joules per
# forward pass, every fitted line, Figs. 1-6 and 9-15, Table 1, the trend-fit table and the
# fidelity table. CV jobs read cv_models.csv (never nlp_models.csv) and vice versa; both read the
# Fig. 8 GFLOPS/W fits of hardware.smk, whose jobs read neither model table. The figures are
# those of greenflops.trends.registry, drawn one job per group (trend_figure_outputs).


rule flops_estimates:
    input:
        cv=table_path("cv_models"),
        cv_schema=schema_path("cv_models"),
        estimates=table_path("flops_estimates"),
        estimates_schema=schema_path("flops_estimates"),
        library=code("flops_estimates"),
    output:
        estimates="data/processed/flops_estimates.csv",
        cv="data/processed/cv_models_resolved.csv",
    log:
        "logs/trends/flops_estimates.log",
    localrule: True
    conda:
        "../../environment.yml"
    message:
        "Computed GFLOPs estimates (eq. 4, Table 6) and the CV table that uses them"
    script:
        "../../scripts/flops_estimates.py"


rule energy:
    input:
        unpack(energy_models),
        hardware_fits=rules.gpu_efficiency.output.fits,
        library=code("energy"),
    output:
        energy="data/processed/energy_{domain}.csv",
        fits="data/processed/trends/fits_{domain}.csv",
    log:
        "logs/trends/energy_{domain}.log",
    wildcard_constraints:
        domain="cv|nlp",
    localrule: True
    conda:
        "../../environment.yml"
    message:
        "{wildcards.domain}: GFLOPS/W at each release date, Joules per forward pass, fitted lines"
    script:
        "../../scripts/energy.py"


rule params_flops_correlation:
    input:
        models=rules.flops_estimates.output.cv,
        paper_values=table_path("trends_paper_values"),
        paper_values_schema=schema_path("trends_paper_values"),
        library=code("params_flops_correlation"),
    output:
        "data/processed/params_flops_correlation.csv",
    log:
        "logs/trends/params_flops_correlation.log",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        correlation=TRENDS_SPEC["correlation"],
    message:
        "Fig. 1: Pearson correlation of parameters and GFLOPs per family"
    script:
        "../../scripts/params_flops_correlation.py"


rule human_energy:
    input:
        library=code("human_energy"),
    output:
        "data/processed/trends/human_energy.csv",
    log:
        "logs/trends/human_energy.log",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        human_energy=TRENDS_SPEC["human_energy"],
    message:
        "A human's internal and external energy use in one second"
    script:
        "../../scripts/human_energy.py"


rule trend_fits:
    input:
        fits=[
            rules.gpu_efficiency.output.fits,
            "data/processed/trends/fits_cv.csv",
            "data/processed/trends/fits_nlp.csv",
        ],
        library=code("trend_fits"),
    output:
        csv=report(
            "data/processed/trend_fits.csv",
            caption="../report/trends/trend_fits.rst",
            category=TRENDS_CATEGORY,
            subcategory="Trend fits",
            labels={"table": "Trend fits (CSV)", "data": "Figs. 3, 6, 8-10, 13-14"},
        ),
        md="figures/tables/trend_fits.md",
        tex="figures/tables/trend_fits.tex",
    log:
        "logs/trends/trend_fits.log",
    localrule: True
    conda:
        "../../environment.yml"
    message:
        "Every fitted line of the trends figures in one table"
    script:
        "../../scripts/trend_fits.py"


rule trends_figures_cv:
    input:
        models=rules.flops_estimates.output.cv,
        correlation=rules.params_flops_correlation.output[0],
        energy="data/processed/energy_cv.csv",
        fits="data/processed/trends/fits_cv.csv",
        human=rules.human_energy.output[0],
        library=code("trends_figures"),
    output:
        **trend_figure_outputs("cv"),
    log:
        "logs/trends/trends_figures_cv.log",
    conda:
        "../../environment.yml"
    params:
        group="cv",
    message:
        "CV figures of Desislavov et al. (2021)"
    script:
        "../../scripts/trends_figures.py"


rule trends_figures_nlp:
    input:
        energy="data/processed/energy_nlp.csv",
        fits="data/processed/trends/fits_nlp.csv",
        human=rules.human_energy.output[0],
        library=code("trends_figures"),
    output:
        **trend_figure_outputs("nlp"),
    log:
        "logs/trends/trends_figures_nlp.log",
    conda:
        "../../environment.yml"
    params:
        group="nlp",
    message:
        "NLP figures of Desislavov et al. (2021)"
    script:
        "../../scripts/trends_figures.py"


rule trends_tables_cv:
    input:
        models=rules.flops_estimates.output.cv,
        library=code("trends_tables"),
    output:
        table01_md="figures/tables/table01_alexnet_flops.md",
        table01_tex="figures/tables/table01_alexnet_flops.tex",
    log:
        "logs/trends/trends_tables_cv.log",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        tables=["table01"],
        spec={"table1": TRENDS_SPEC["table1"]},
    message:
        "Table 1: models with GFLOPs close to AlexNet's"
    script:
        "../../scripts/trends_tables.py"


rule fidelity_trends:
    input:
        benchmark_speedups=rules.precision_speedups.output.per_benchmark,
        speedups=rules.precision_speedups.output.means,
        gpus=table_path("gpus"),
        gpus_schema=schema_path("gpus"),
        efficiency=rules.gpu_efficiency.output.efficiency,
        estimates=rules.flops_estimates.output.estimates,
        correlation=rules.params_flops_correlation.output[0],
        human=rules.human_energy.output[0],
        paper_values=table_path("trends_paper_values"),
        paper_values_schema=schema_path("trends_paper_values"),
        library=code("fidelity_trends"),
    output:
        csv=report(
            "figures/tables/fidelity_trends.csv",
            caption="../report/trends/fidelity.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fidelity",
            labels={"table": "Fidelity (CSV)", "data": "trends_paper_values.csv"},
        ),
        md="figures/tables/fidelity_trends.md",
    log:
        "logs/trends/fidelity_trends.log",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        tolerance_units=TRENDS_SPEC["fidelity"]["tolerance_units"],
    message:
        "Fidelity: numbers printed in the paper vs regenerated"
    script:
        "../../scripts/fidelity_trends.py"


TARGETS["trends"] = [
    *rules.flops_estimates.output,
    *expand(rules.energy.output, domain=["cv", "nlp"]),
    *rules.params_flops_correlation.output,
    *rules.human_energy.output,
    *rules.trend_fits.output,
    *rules.trends_figures_cv.output,
    *rules.trends_figures_nlp.output,
    *rules.trends_tables_cv.output,
    *rules.fidelity_trends.output,
]
