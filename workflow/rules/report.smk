# Stage "report": what `snakemake --report report.html` shows beyond the figures. Snakemake's
# report displays images, HTML and PDF inline but offers CSV/Markdown only as downloads, so every
# table of both papers (Tables 1/4/9, trend fits, fidelity, alpha fits per device, Fig. 3a table,
# whole-network check) is rendered here as a standalone HTML page under figures/report/.
# Grouping convention of every stage (category = paper, subcategory = zero-padded figure/table)
# and the page list: workflow/rules/glue/report_pages.py. Include after every stage whose tables
# it shows.
import re

from glue.report_pages import report_tables

# Pages from the default targets registered so far: a table is shown when its stage makes it;
# imported devices' captions name their folders under data/imported/.
REPORT_TABLES = report_tables(
    all_targets(),
    {d: f for d, f in ALPHA_FOLDERS.items() if not f.startswith(f"{TIMINGS_ROOT}/")},
)


# One page of what the run found, from the outputs (the README and docs link it, never quote it).
rule summary:
    input:
        fidelity=rules.fidelity_trends.output.csv,
        trend_fits=rules.trend_fits.output.csv,
        trends2025=rules.trends2025_analysis.output.answer_md,
        params=[f"data/processed/alpha/{d}/params.yaml" for d in ALPHA_DEVICES],
        reports=[f"data/processed/alpha/{d}/fit_report.csv" for d in ALPHA_DEVICES],
        networks=[
            f"data/processed/alpha/{d}/model_validation.csv"
            for d, info in ALPHA_DEVICES.items()
            if info["networks"]
        ],
        torchvision=rules.networks_validation.output.csv,
        library=code("summary"),
    output:
        report(
            "figures/tables/summary.md",
            caption="../report/summary.rst",
            category=SUMMARY_CATEGORY,
            labels={"table": "What this run found"},
        ),
    log:
        "logs/report/summary.log",
    localrule: True
    conda:
        "../../environment.yml"
    message:
        "Summary of what this run found: figures/tables/summary.md"
    script:
        "../../scripts/summary.py"


rule report_table:
    input:
        unpack(lambda wc: REPORT_TABLES[wc.name]["inputs"]),
        library=code("report_table"),
    output:
        html=report(
            "figures/report/{name}.html",
            caption="../report/report_table.rst",
            category=lambda wc: REPORT_TABLES[wc.name]["category"],
            subcategory=lambda wc: REPORT_TABLES[wc.name]["subcategory"],
            labels=lambda wc: REPORT_TABLES[wc.name]["labels"],
        ),
    log:
        "logs/report/report_table_{name}.log",
    wildcard_constraints:
        name="|".join(map(re.escape, REPORT_TABLES)) or "(?!x)x",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        spec=lambda wc: REPORT_TABLES[wc.name],
    message:
        "Report page of table {wildcards.name}"
    script:
        "../../scripts/report_table.py"


# Every figure with its caption, for readers of the files (the README links it).
rule figure_index:
    input:
        captions=sorted(
            {
                e["caption"]
                for entries in figure_index_sections(
                    ALPHA_DEVICES, ALPHA_FOLDERS
                ).values()
                for e in entries
            }
        ),
        library=code("figure_index"),
    output:
        "figures/index.md",
    log:
        "logs/report/figure_index.log",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        sections=figure_index_sections(ALPHA_DEVICES, ALPHA_FOLDERS),
    message:
        "Index of the figures with their captions: figures/index.md"
    script:
        "../../scripts/figure_index.py"


TARGETS["report"] = [
    *expand("figures/report/{name}.html", name=list(REPORT_TABLES)),
    *rules.summary.output,
    *rules.figure_index.output,
]
