"""One table of the HTML report as a standalone page (rule report_table; the page list is
workflow/rules/glue/report_pages.py)."""

from greenflops.io.outputs import atomic_write_text, log_to_file
from greenflops.io.plainyaml import read_yaml
from greenflops.io.render import markdown_page

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    spec = snakemake.params.spec
    if spec["kind"] == "alpha_fit":
        # Only this kind needs pandas and the α library: the other pages start in a tenth of it.
        import pandas as pd

        from greenflops.alpha.document import fit_markdown

        params = read_yaml(snakemake.input.params)
        fit_report = pd.read_csv(snakemake.input.fit_report).to_dict("records")
        device = snakemake.wildcards.name.split("/")[1]
        text = fit_markdown(device, params, fit_report, spec.get("data_folder"))
        source = f"{snakemake.input.params}, {snakemake.input.fit_report}"
    else:
        with open(snakemake.input.source, encoding="utf-8") as handle:
            text = handle.read()
        source = snakemake.input.source
    atomic_write_text(snakemake.output.html, markdown_page(text, spec["title"], source))
    log.info("wrote %s (%s) from %s", snakemake.output.html, spec["kind"], source)
