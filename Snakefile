# greenflops: regenerate and extend two Green-AI papers (see README.md).
# This file is a table of contents: configuration, one rule file per stage, and the default target.
from snakemake.utils import min_version

min_version("9.20")


# Refuses YAML aliases and tags in config.yaml before the next line reads it.
include: "workflow/rules/preflight.smk"


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/hardware.smk"
include: "workflow/rules/trends.smk"
include: "workflow/rules/sweeps.smk"
# Public datasets of config `imports` (none by default); before the alpha stage, which fits them.
include: "workflow/rules/imports.smk"
include: "workflow/rules/alpha.smk"
# Beyond the papers: the trends stage carried through 2025 with the post-2021 rows.
include: "workflow/rules/trends2025.smk"
include: "workflow/rules/networks.smk"
# After the stages whose tables it renders for the HTML report.
include: "workflow/rules/report.smk"
# Keep LAST, after every stage: gives the rules above their SLURM resources (config `cluster:`).
include: "workflow/rules/cluster.smk"


rule all:
    default_target: True
    input:
        all_targets(),
