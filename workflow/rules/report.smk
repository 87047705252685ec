# Stage "report": what `snakemake --report report.html` shows beyond the figures. Snakemake's
# report displays images, HTML and PDF inline but offers CSV/Markdown only as downloads, so every
# table of both papers (Tables 1/4/9, trend fits, fidelity, alpha fits per device, Fig. 3a table,
# whole-network check) is rendered here as a standalone HTML page under figures/report/.
# Grouping convention of every stage (category = paper, subcategory = zero-padded figure/table)
# and the page list: workflow/rules/glue/report_pages.py. Include after every stage whose tables
# it shows.
import re

from glue.report_pages import report_tables

# Pages from the default targets registered so far: a table is shown when its stage makes it.
REPORT_TABLES = report_tables(all_targets())


# One page of what the run found, from the outputs (the README and docs link it, never quote it).
rule summary:
    input:
        fidelity=rules.fidelity_trends.output.csv,
        trend_fits=rules.trend_fits.output.csv,
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
            category="Summary",
            labels={"table": "What this run found"},
        ),
    log:
        "logs/report/summary.log",
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
    conda:
        "../../environment.yml"
    params:
        spec=lambda wc: REPORT_TABLES[wc.name],
    message:
        "Report page of table {wildcards.name}"
    script:
        "../../scripts/report_table.py"


TARGETS["report"] = [
    *expand("figures/report/{name}.html", name=list(REPORT_TABLES)),
    *rules.summary.output,
]
