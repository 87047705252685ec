# Stage "trends", models part (Desislavov et al. 2021): the computed GFLOPs estimates, Joules per
# forward pass, every fitted line, Figs. 1-6 and 9-15, Table 1, the trend-fit table and the
# fidelity table. CV jobs read cv_models.csv (never nlp_models.csv) and vice versa; both read the
# Fig. 8 GFLOPS/W fits of hardware.smk, whose jobs read neither model table.


rule flops_estimates:
    input:
        cv=table_path("cv_models"),
        cv_schema=schema_path("cv_models"),
        estimates=table_path("flops_estimates"),
        estimates_schema=schema_path("flops_estimates"),
        library=library("estimates", "tables", "outputs"),
    output:
        estimates="data/processed/flops_estimates.csv",
        cv="data/processed/cv_models_resolved.csv",
    log:
        "logs/trends/flops_estimates.log",
    conda:
        "../../environment.yml"
    message:
        "Computed GFLOPs estimates (eq. 4, Table 6) and the CV table that uses them"
    script:
        "../../scripts/trends_estimates.py"


rule energy_cv:
    input:
        models=rules.flops_estimates.output.cv,
        hardware_fits=rules.gpu_efficiency.output.fits,
        library=library("trend_analysis", "trends", "energy", "tables", "outputs"),
    output:
        energy="data/processed/energy_cv.csv",
        fits="data/processed/trends/fits_cv.csv",
    log:
        "logs/trends/energy_cv.log",
    conda:
        "../../environment.yml"
    params:
        domain="cv",
    message:
        "CV: GFLOPS/W at each release date, Joules per forward pass and the fitted lines"
    script:
        "../../scripts/trends_energy.py"


rule energy_nlp:
    input:
        models=table_path("nlp_models"),
        schema=schema_path("nlp_models"),
        hardware_fits=rules.gpu_efficiency.output.fits,
        library=library("trend_analysis", "trends", "energy", "tables", "outputs"),
    output:
        energy="data/processed/energy_nlp.csv",
        fits="data/processed/trends/fits_nlp.csv",
    log:
        "logs/trends/energy_nlp.log",
    conda:
        "../../environment.yml"
    params:
        domain="nlp",
    message:
        "NLP: GFLOPS/W at each release date, Joules per forward pass and the fitted lines"
    script:
        "../../scripts/trends_energy.py"


rule params_flops_correlation:
    input:
        models=rules.flops_estimates.output.cv,
        paper_values=table_path("trends_paper_values"),
        paper_values_schema=schema_path("trends_paper_values"),
        library=library("trend_analysis", "trends", "energy", "tables", "outputs"),
    output:
        "data/processed/params_flops_correlation.csv",
    log:
        "logs/trends/params_flops_correlation.log",
    conda:
        "../../environment.yml"
    params:
        correlation=config["trends"]["correlation"],
    message:
        "Fig. 1: Pearson correlation of parameters and GFLOPs per family"
    script:
        "../../scripts/trends_correlation.py"


rule human_energy:
    input:
        library=library("trend_analysis", "trends", "energy", "outputs"),
    output:
        "data/processed/trends/human_energy.csv",
    log:
        "logs/trends/human_energy.log",
    conda:
        "../../environment.yml"
    params:
        human_energy=config["trends"]["human_energy"],
    message:
        "A human's internal and external energy use in one second"
    script:
        "../../scripts/trends_human_energy.py"


rule trend_fits:
    input:
        fits=[
            rules.gpu_efficiency.output.fits,
            rules.energy_cv.output.fits,
            rules.energy_nlp.output.fits,
        ],
        library=library("tabletext", "trend_analysis", "trends", "outputs"),
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
    conda:
        "../../environment.yml"
    message:
        "Every fitted line of the trends figures in one table"
    script:
        "../../scripts/trends_collect_fits.py"


rule figures_cv:
    input:
        models=rules.flops_estimates.output.cv,
        correlation=rules.params_flops_correlation.output[0],
        energy=rules.energy_cv.output.energy,
        fits=rules.energy_cv.output.fits,
        human=rules.human_energy.output[0],
        library=library(
            "trend_figures", "trend_analysis", "trends", "tables", "outputs"
        ),
    output:
        fig01_png=report(
            "figures/trends/fig01_params_vs_flops.png",
            caption="../report/trends/fig01.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 01",
            labels={"figure": "Fig. 01", "data": "cv_models.csv (Table 2)"},
        ),
        fig01_pdf="figures/trends/fig01_params_vs_flops.pdf",
        fig02_png=report(
            "figures/trends/fig02_accuracy_over_time.png",
            caption="../report/trends/fig02.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 02",
            labels={"figure": "Fig. 02", "data": "cv_models.csv (Table 2)"},
        ),
        fig02_pdf="figures/trends/fig02_accuracy_over_time.pdf",
        fig03_png=report(
            "figures/trends/fig03_cv_gflops_over_time.png",
            caption="../report/trends/fig03.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 03",
            labels={"figure": "Fig. 03", "data": "cv_models.csv (Table 2)"},
        ),
        fig03_pdf="figures/trends/fig03_cv_gflops_over_time.pdf",
        fig04_png=report(
            "figures/trends/fig04_accuracy_vs_gflops_pareto.png",
            caption="../report/trends/fig04.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 04",
            labels={"figure": "Fig. 04", "data": "cv_models.csv (Table 2)"},
        ),
        fig04_pdf="figures/trends/fig04_accuracy_vs_gflops_pareto.pdf",
        fig09_png=report(
            "figures/trends/fig09_cv_joules_over_time.png",
            caption="../report/trends/fig09.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 09",
            labels={
                "figure": "Fig. 09",
                "data": "cv_models.csv (Table 2), Fig. 8 fit",
            },
        ),
        fig09_pdf="figures/trends/fig09_cv_joules_over_time.pdf",
        fig11_png=report(
            "figures/trends/fig11_accuracy_vs_joules.png",
            caption="../report/trends/fig11.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 11",
            labels={
                "figure": "Fig. 11",
                "data": "cv_models.csv (Table 2), Fig. 8 fit",
            },
        ),
        fig11_pdf="figures/trends/fig11_accuracy_vs_joules.pdf",
        fig13_png=report(
            "figures/trends/fig13_cv_joules_vs_human.png",
            caption="../report/trends/fig13.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 13",
            labels={
                "figure": "Fig. 13",
                "data": "cv_models.csv (Table 2), Fig. 8 fit",
            },
        ),
        fig13_pdf="figures/trends/fig13_cv_joules_vs_human.pdf",
    log:
        "logs/trends/figures_cv.log",
    conda:
        "../../environment.yml"
    params:
        figures=["fig01", "fig02", "fig03", "fig04", "fig09", "fig11", "fig13"],
        domain="cv",
    message:
        "CV figures of Desislavov et al. (2021): fig01, fig02, fig03, fig04, fig09, fig11, fig13"
    script:
        "../../scripts/trends_figures.py"


rule figures_nlp:
    input:
        energy=rules.energy_nlp.output.energy,
        fits=rules.energy_nlp.output.fits,
        human=rules.human_energy.output[0],
        library=library(
            "trend_figures", "trend_analysis", "trends", "tables", "outputs"
        ),
    output:
        fig05_png=report(
            "figures/trends/fig05_glue_vs_gflops.png",
            caption="../report/trends/fig05.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 05",
            labels={"figure": "Fig. 05", "data": "nlp_models.csv (Table 7)"},
        ),
        fig05_pdf="figures/trends/fig05_glue_vs_gflops.pdf",
        fig06_png=report(
            "figures/trends/fig06_nlp_gflops_over_time.png",
            caption="../report/trends/fig06.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 06",
            labels={"figure": "Fig. 06", "data": "nlp_models.csv (Table 7)"},
        ),
        fig06_pdf="figures/trends/fig06_nlp_gflops_over_time.pdf",
        fig10_png=report(
            "figures/trends/fig10_nlp_joules_over_time.png",
            caption="../report/trends/fig10.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 10",
            labels={
                "figure": "Fig. 10",
                "data": "nlp_models.csv (Table 7), Fig. 8 fit",
            },
        ),
        fig10_pdf="figures/trends/fig10_nlp_joules_over_time.pdf",
        fig12_png=report(
            "figures/trends/fig12_glue_vs_joules.png",
            caption="../report/trends/fig12.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 12",
            labels={
                "figure": "Fig. 12",
                "data": "nlp_models.csv (Table 7), Fig. 8 fit",
            },
        ),
        fig12_pdf="figures/trends/fig12_glue_vs_joules.pdf",
        fig14_png=report(
            "figures/trends/fig14_nlp_joules_vs_human.png",
            caption="../report/trends/fig14.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 14",
            labels={
                "figure": "Fig. 14",
                "data": "nlp_models.csv (Table 7), Fig. 8 fit",
            },
        ),
        fig14_pdf="figures/trends/fig14_nlp_joules_vs_human.pdf",
        fig15_png=report(
            "figures/trends/fig15_glue_over_time.png",
            caption="../report/trends/fig15.rst",
            category=TRENDS_CATEGORY,
            subcategory="Fig. 15",
            labels={"figure": "Fig. 15", "data": "nlp_models.csv (Table 7)"},
        ),
        fig15_pdf="figures/trends/fig15_glue_over_time.pdf",
    log:
        "logs/trends/figures_nlp.log",
    conda:
        "../../environment.yml"
    params:
        figures=["fig05", "fig06", "fig10", "fig12", "fig14", "fig15"],
        domain="nlp",
    message:
        "NLP figures of Desislavov et al. (2021): fig05, fig06, fig10, fig12, fig14, fig15"
    script:
        "../../scripts/trends_figures.py"


rule table01:
    input:
        models=rules.flops_estimates.output.cv,
        library=library("tabletext", "trend_analysis", "trends", "outputs"),
    output:
        table01_md="figures/tables/table01_alexnet_flops.md",
        table01_tex="figures/tables/table01_alexnet_flops.tex",
    log:
        "logs/trends/table01.log",
    conda:
        "../../environment.yml"
    params:
        tables=["table01"],
        settings={"table1": config["trends"]["table1"]},
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
        library=library(
            "tabletext", "trend_analysis", "trends", "energy", "tables", "outputs"
        ),
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
    conda:
        "../../environment.yml"
    params:
        tolerance_units=config["trends"]["fidelity"]["tolerance_units"],
    message:
        "Fidelity: numbers printed in the paper vs regenerated"
    script:
        "../../scripts/trends_fidelity.py"


TARGETS["trends"] = [
    *rules.flops_estimates.output,
    *rules.energy_cv.output,
    *rules.energy_nlp.output,
    *rules.params_flops_correlation.output,
    *rules.human_energy.output,
    *rules.trend_fits.output,
    *rules.figures_cv.output,
    *rules.figures_nlp.output,
    *rules.table01.output,
    *rules.fidelity_trends.output,
]
