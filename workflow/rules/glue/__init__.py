"""Snakemake-only glue of the rule files: target planning, report pages, cluster resources,
code inputs and the load-time checks. Not library: nothing here is imported by scripts."""
